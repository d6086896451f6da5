//! The service's config file, `etc/every-api.yaml` (goctl's `internal/config`): rzero's
//! `RestConf` keys and yours. rzeroctl wrote this file once and never touches it
//! again: add the sections your logic needs (a `Mysql`, the `RpcClientConf` of a service
//! you call) here and in `etc/`.

use rzero::rest::RestConf;
use rzero::rest::jwt::JwtConf;
use serde::{Deserialize, Serialize};

/// `etc/every-api.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// `Name`, `Host`, `Port`, `Timeout`, `OpenTelemetry`, `Log`, `Middlewares`, ...
    #[serde(flatten)]
    pub rest: RestConf,
    /// `Auth`: the JWT settings of `@server(jwt: Auth)` groups.
    #[serde(rename = "Auth")]
    pub auth: JwtConf,
}

/// The embedded default config, used when no `-f` is given.
pub const EMBEDDED: &str = include_str!("../etc/every-api.yaml");

/// The name errors give the embedded config.
pub const EMBEDDED_NAME: &str = "etc/every-api.yaml (embedded)";

/// Loads `-f <file>`, or the embedded default.
pub fn load(args: &[String]) -> Result<Config, rzero::conf::ConfError> {
    match args.iter().position(|a| a == "-f") {
        Some(i) => rzero::conf::load(args.get(i + 1).map_or("", String::as_str)),
        None => rzero::conf::Loader::new().load_str(EMBEDDED_NAME, EMBEDDED),
    }
}
