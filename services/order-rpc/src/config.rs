//! The service's config file, `etc/order.yaml` (goctl's `internal/config`): rzero's
//! `RpcServerConf` keys and yours. rzeroctl wrote this file once and never touches it
//! again: add the sections your logic needs (a `Mysql`, the `RpcClientConf` of a service
//! you call) here and in `etc/`.

use rzero::conf::RedisConf;
use rzero::rpc::{RpcClientConf, RpcServerConf};
use rzero::stores::cache::CacheConf;
use rzero::stores::sql::SqlPoolConf;
use serde::{Deserialize, Serialize};

/// `etc/order.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// `Name`, `ListenOn`, `Timeout`, `Etcd`, `OpenTelemetry`, `Log`, ...
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

/// The name errors give the embedded config.
pub const EMBEDDED_NAME: &str = "etc/order.yaml (embedded)";

/// Loads `-f <file>`, or the embedded default.
pub fn load(args: &[String]) -> Result<Config, rzero::conf::ConfError> {
    match args.iter().position(|a| a == "-f") {
        Some(i) => rzero::conf::load(args.get(i + 1).map_or("", String::as_str)),
        None => rzero::conf::Loader::new().load_str(EMBEDDED_NAME, EMBEDDED),
    }
}
