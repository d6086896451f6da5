//! The service's config file, `etc/stream.yaml` (goctl's `internal/config`): rzero's
//! `RpcServerConf` keys and yours. rzeroctl wrote this file once and never touches it
//! again: add the sections your logic needs (a `Mysql`, the `RpcClientConf` of a service
//! you call) here and in `etc/`.

use rzero::rpc::RpcServerConf;
use serde::{Deserialize, Serialize};

/// `etc/stream.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// `Name`, `ListenOn`, `Timeout`, `Etcd`, `OpenTelemetry`, `Log`, ...
    #[serde(flatten)]
    pub rpc: RpcServerConf,
}

/// The embedded default config, used when no `-f` is given.
pub const EMBEDDED: &str = include_str!("../etc/stream.yaml");

/// The name errors give the embedded config.
pub const EMBEDDED_NAME: &str = "etc/stream.yaml (embedded)";

/// Loads `-f <file>`, or the embedded default.
pub fn load(args: &[String]) -> Result<Config, rzero::conf::ConfError> {
    match args.iter().position(|a| a == "-f") {
        Some(i) => rzero::conf::load(args.get(i + 1).map_or("", String::as_str)),
        None => rzero::conf::Loader::new().load_str(EMBEDDED_NAME, EMBEDDED),
    }
}
