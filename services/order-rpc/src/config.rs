//! order-rpc's config file (the guide's `order.yaml`): the server, the database, the
//! cache and the `UserRpc` client.

use rzero_conf::RedisConf;
use rzero_rpc::{RpcClientConf, RpcServerConf};
use rzero_stores::cache::CacheConf;
use rzero_stores::sql::SqlPoolConf;
use serde::{Deserialize, Serialize};

/// `etc/order.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// `Name`, `ListenOn`, `Etcd`, `Timeout`, `OpenTelemetry`, ...
    #[serde(flatten)]
    pub rpc: RpcServerConf,
    /// go-zero's `Mysql: {DataSource}` (SQLite data sources too).
    #[serde(rename = "Mysql")]
    pub mysql: SqlPoolConf,
    /// The shared cache; absent: an in-process cache.
    #[serde(rename = "Redis", default)]
    pub redis: Option<RedisConf>,
    /// Cache expiries.
    #[serde(rename = "Cache", default)]
    pub cache: CacheConf,
    /// Where user-rpc is.
    #[serde(rename = "UserRpc")]
    pub user_rpc: RpcClientConf,
}

/// The embedded default config, used when no `-f` is given.
pub const EMBEDDED: &str = include_str!("../etc/order.yaml");

/// Loads `-f <file>`, or the embedded default.
pub fn load(args: &[String]) -> Result<Config, rzero_conf::ConfError> {
    match args.iter().position(|a| a == "-f") {
        Some(i) => rzero_conf::load(args.get(i + 1).map_or("", String::as_str)),
        None => rzero_conf::Loader::new().load_str("etc/order.yaml (embedded)", EMBEDDED),
    }
}
