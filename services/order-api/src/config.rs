//! order-api's config file (go-zero's `internal/config`): the gateway's `RestConf` keys
//! and the `OrderRpc` client.

use rzero_rest::RestConf;
use rzero_rpc::RpcClientConf;
use serde::{Deserialize, Serialize};

/// `etc/order-api.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// `Name`, `Host`, `Port`, `Timeout`, `OpenTelemetry`, `Log`, ...
    #[serde(flatten)]
    pub rest: RestConf,
    /// Where order-rpc is.
    #[serde(rename = "OrderRpc")]
    pub order_rpc: RpcClientConf,
}

/// The embedded default config, used when no `-f` is given.
pub const EMBEDDED: &str = include_str!("../etc/order-api.yaml");

/// Loads `-f <file>`, or the embedded default.
pub fn load(args: &[String]) -> Result<Config, rzero_conf::ConfError> {
    match args.iter().position(|a| a == "-f") {
        Some(i) => rzero_conf::load(args.get(i + 1).map_or("", String::as_str)),
        None => rzero_conf::Loader::new().load_str("etc/order-api.yaml (embedded)", EMBEDDED),
    }
}
