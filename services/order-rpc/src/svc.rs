//! The service context (goctl's `internal/svc`): what every logic function shares. Add
//! your database pools, caches and clients to [`ServiceContext`] and build them in
//! [`ServiceContext::new`], with `guard`'s tracer and meter so their calls are traced.
//! rzeroctl wrote this file once; the models, the user-rpc client and the migrations
//! are ours.

use rzero::stores::Telemetry;
use rzero::stores::cache::{Cache, CachedConn};
use rzero::stores::sql::{DbSystem, Migration, Migrations, SqlPool};
use rzero::telemetry::{SdkTracer, TelemetryGuard};
use user_rpc::client::{UserClient, connect_user};

use crate::config::Config;
use crate::model::{OrdersModel, ProductsModel};

/// Built once at start, shared by every call.
pub struct ServiceContext {
    /// The loaded config.
    pub config: Config,
    /// The `orders` table, cache-aside.
    pub orders: OrdersModel,
    /// The `products` table, cache-aside.
    pub products: ProductsModel,
    /// user-rpc, traced, balanced and behind a breaker.
    pub users: UserClient,
    /// Makes the spans of CreateOrder's steps.
    pub tracer: SdkTracer,
}

impl ServiceContext {
    /// The context for `config`: the database opened (and migrated when `Mysql.Migrate`
    /// is set), the cache and user-rpc connected, all traced with `guard`.
    pub async fn new(config: &Config, guard: &TelemetryGuard) -> Result<Self, crate::BoxError> {
        let telemetry = Telemetry::new(guard.tracer(), &guard.meter());
        let db = SqlPool::connect_lazy(&config.mysql, telemetry.clone())?;
        if config.mysql.migrate {
            db.migrate(&migrations(db.system())).await?;
        }
        let cache = Cache::connect(config.redis.as_ref(), &config.cache, telemetry).await?;
        let conn = CachedConn::new(db, cache, config.cache.clone());
        Ok(ServiceContext {
            config: config.clone(),
            orders: OrdersModel::new(conn.clone()),
            products: ProductsModel::new(conn),
            users: connect_user(&config.user_rpc, guard).await?,
            tracer: guard.tracer(),
        })
    }
}

/// The schema and seed, for the pool's database.
pub fn migrations(system: DbSystem) -> Migrations {
    let (first, second) = match system {
        DbSystem::Sqlite => (
            include_str!("../migrations/sqlite.sql"),
            include_str!("../migrations/sqlite_2.sql"),
        ),
        _ => (
            include_str!("../migrations/mysql.sql"),
            include_str!("../migrations/mysql_2.sql"),
        ),
    };
    Migrations::new([
        Migration::new(1, "products and orders", first),
        Migration::new(2, "orders.idempotency_key", second),
    ])
}

/// A store failure as the gRPC status the caller sees: NOT_FOUND, UNAVAILABLE (order-api
/// answers 503: retry later), or INTERNAL. The message names no query, driver or address
/// (the failed span and the log carry those).
pub fn store_status(e: rzero::stores::StoreError, what: &str) -> tonic::Status {
    use rzero::stores::StoreError;
    match e {
        StoreError::NotFound => tonic::Status::not_found(format!("{what} not found")),
        StoreError::Unavailable(_) => tonic::Status::unavailable(format!(
            "the order database is unavailable while reading {what}: retry later"
        )),
        other => {
            tracing::error!(error = %other, "{what}: the store failed");
            tonic::Status::internal(format!("{what}: the order database failed; retry later"))
        }
    }
}
