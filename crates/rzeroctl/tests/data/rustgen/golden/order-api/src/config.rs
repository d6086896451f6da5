//! The service's config file (goctl's `internal/config`): rzero's `RestConf` keys and
//! yours. Written once by rzeroctl; add your own keys here and in `etc/`.
use rzero::rest::RestConf;
use serde::{Deserialize, Serialize};
/// The YAML file.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// `Name`, `Host`, `Port`, `Timeout`, `OpenTelemetry`, `Log`, `Middlewares`, ...
    #[serde(flatten)]
    pub rest: RestConf,
}
