//! The service context (goctl's `internal/svc`): what every logic function shares. Add
//! your database pools, caches and clients to [`ServiceContext`] and build them in
//! [`ServiceContext::new`], with `guard`'s tracer and meter so their calls are traced.
//! rzeroctl wrote this file once; the users model and its migrations are ours.

use rzero::stores::Telemetry;
use rzero::stores::cache::{Cache, CachedConn};
use rzero::stores::sql::{DbSystem, Migration, Migrations, SqlPool};
use rzero::telemetry::TelemetryGuard;

use crate::config::Config;
use crate::model::UsersModel;

/// Built once at start, shared by every call.
pub struct ServiceContext {
    /// The loaded config.
    pub config: Config,
    /// The `users` table, cache-aside.
    pub users: UsersModel,
}

impl ServiceContext {
    /// The context for `config`: the database opened (and migrated when `Mysql.Migrate`
    /// is set), the cache connected, both traced with `guard`'s tracer and meter.
    pub async fn new(config: &Config, guard: &TelemetryGuard) -> Result<Self, crate::BoxError> {
        let telemetry = Telemetry::new(guard.tracer(), &guard.meter());
        let db = SqlPool::connect_lazy(&config.mysql, telemetry.clone())?;
        if config.mysql.migrate {
            db.migrate(&migrations(db.system())).await?;
        }
        let cache = Cache::connect(config.redis.as_ref(), &config.cache, telemetry).await?;
        Ok(ServiceContext {
            config: config.clone(),
            users: UsersModel::new(CachedConn::new(db, cache, config.cache.clone())),
        })
    }
}

/// The schema and seed, for the pool's database.
pub fn migrations(system: DbSystem) -> Migrations {
    let sql = match system {
        DbSystem::Sqlite => include_str!("../migrations/sqlite.sql"),
        _ => include_str!("../migrations/mysql.sql"),
    };
    Migrations::new([Migration::new(1, "users", sql)])
}
