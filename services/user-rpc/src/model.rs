//! The `users` table (go-zero's generated model): schema, and a cached find by id.

use rzero_stores::StoreError;
use rzero_stores::cache::CachedConn;
use rzero_stores::sql::{DbSystem, Migration, Migrations};
use serde::{Deserialize, Serialize};

/// The schema and seed, for the pool's database.
pub fn migrations(system: DbSystem) -> Migrations {
    let sql = match system {
        DbSystem::Sqlite => include_str!("../migrations/sqlite.sql"),
        _ => include_str!("../migrations/mysql.sql"),
    };
    Migrations::new([Migration::new(1, "users", sql)])
}

/// One user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// `active` or `inactive`.
    pub status: String,
}

/// The user `id`, through the cache (absent ids are remembered briefly).
pub async fn find_one(conn: &CachedConn, id: i64) -> Result<User, StoreError> {
    let key = format!("cache:user:id:{id}");
    conn.query_row(&key, |db| async move {
        let (id, name, status): (i64, String, String) = db
            .query("SELECT id, name, status FROM users WHERE id = ?")
            .bind(id)
            .fetch_one()
            .await?;
        Ok(User { id, name, status })
    })
    .await
}
