//! The `products` and `orders` tables: schema, cached finds, the insert.

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
    Migrations::new([Migration::new(1, "products and orders", sql)])
}

/// One order; money in cents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// From the database.
    pub id: i64,
    /// Who.
    pub user_id: i64,
    /// What.
    pub product_id: i64,
    /// How much, in cents.
    pub amount_cents: i64,
    /// `created`, ...
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// The cache key of order `id`.
pub fn order_key(id: i64) -> String {
    format!("cache:order:id:{id}")
}

/// Order `id`, cache-aside; absent ids are remembered briefly.
pub async fn find_order(conn: &CachedConn, id: i64) -> Result<Order, StoreError> {
    conn.query_row(&order_key(id), |db| async move {
        let (id, user_id, product_id, amount_cents, status, created_at): (
            i64,
            i64,
            i64,
            i64,
            String,
            i64,
        ) = db
            .query(
                "SELECT id, user_id, product_id, amount_cents, status, created_at \
                 FROM orders WHERE id = ?",
            )
            .bind(id)
            .fetch_one()
            .await?;
        Ok(Order {
            id,
            user_id,
            product_id,
            amount_cents,
            status,
            created_at,
        })
    })
    .await
}

/// Whether product `id` exists, cache-aside.
pub async fn product_exists(conn: &CachedConn, id: i64) -> Result<bool, StoreError> {
    let found = conn
        .query_row(&format!("cache:product:id:{id}"), |db| async move {
            let (id,): (i64,) = db
                .query("SELECT id FROM products WHERE id = ?")
                .bind(id)
                .fetch_one()
                .await?;
            Ok(id)
        })
        .await;
    match found {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Inserts a new order and returns it with the id the database gave it.
pub async fn insert_order(
    conn: &CachedConn,
    user_id: i64,
    product_id: i64,
    amount_cents: i64,
    created_at: i64,
) -> Result<Order, StoreError> {
    let status = "created".to_owned();
    let done = conn
        .db()
        .query(
            "INSERT INTO orders (user_id, product_id, amount_cents, status, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(user_id)
        .bind(product_id)
        .bind(amount_cents)
        .bind(status.clone())
        .bind(created_at)
        .execute()
        .await?;
    let id = done
        .last_insert_id
        .ok_or_else(|| StoreError::Query("the database gave the new order no id".into()))?;
    Ok(Order {
        id,
        user_id,
        product_id,
        amount_cents,
        status,
        created_at,
    })
}
