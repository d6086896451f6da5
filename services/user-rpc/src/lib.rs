//! user-rpc: `user.User/GetUser`, the users order-rpc validates against.
//!
//! Layout as goctl generates it: [`config`], [`model`] (the table), [`logic`] (the
//! service), and [`server`] to run it. Embedded default: SQLite in `data/user.db` and an
//! in-process cache; `-f etc/user.distributed.yaml`: MySQL, Redis and etcd.

pub mod config;
pub mod logic;
pub mod model;

use order_proto::user::user_server::UserServer;
use rzero_rpc::RpcServer;
use rzero_stores::Telemetry;
use rzero_stores::cache::{Cache, CachedConn};
use rzero_stores::redis::RedisStore;
use rzero_stores::sql::SqlPool;
use rzero_telemetry::TelemetryGuard;

/// The server for `config`: the database opened and migrated, the cache connected.
pub async fn server(
    config: config::Config,
    guard: TelemetryGuard,
) -> Result<RpcServer, Box<dyn std::error::Error + Send + Sync>> {
    let telemetry = Telemetry::new(guard.tracer(), &guard.meter());
    let db = SqlPool::connect_lazy(&config.mysql, telemetry.clone())?;
    if config.mysql.migrate {
        db.migrate(&model::migrations(db.system())).await?;
    }
    let cache = match &config.redis {
        Some(redis) => Cache::from(RedisStore::connect_with(redis, telemetry).await?),
        None => Cache::memory(&config.cache),
    };
    let conn = CachedConn::new(db, cache, config.cache.clone());
    Ok(RpcServer::new(config.rpc)
        .telemetry(guard)
        .file_descriptor_set(order_proto::FILE_DESCRIPTOR_SET)
        .add_service(UserServer::new(logic::UserService::new(conn))))
}
