//! The service's config file, `etc/order-api.yaml` (goctl's `internal/config`): rzero's
//! `RestConf` keys and ours. rzeroctl wrote this file once; the `OrderRpc` section is
//! ours.

use rzero::rest::RestConf;
use rzero::rpc::RpcClientConf;
use serde::{Deserialize, Serialize};

/// `etc/order-api.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// `Name`, `Host`, `Port`, `Timeout`, `OpenTelemetry`, `Log`, `Middlewares`, ...
    #[serde(flatten)]
    pub rest: RestConf,
    /// Where order-rpc is.
    #[serde(rename = "OrderRpc")]
    pub order_rpc: RpcClientConf,
}

/// The embedded default config, used when no `-f` is given.
pub const EMBEDDED: &str = include_str!("../etc/order-api.yaml");

/// The name errors give the embedded config.
pub const EMBEDDED_NAME: &str = "etc/order-api.yaml (embedded)";

/// Loads `-f <file>`, or the embedded default.
pub fn load(args: &[String]) -> Result<Config, rzero::conf::ConfError> {
    match args.iter().position(|a| a == "-f") {
        Some(i) => rzero::conf::load(args.get(i + 1).map_or("", String::as_str)),
        None => rzero::conf::Loader::new().load_str(EMBEDDED_NAME, EMBEDDED),
    }
}
