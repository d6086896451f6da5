//! The service's config file, `etc/{{ stem }}.yaml` (goctl's `internal/config`): rzero's
//! `{{ conf_type }}` keys and yours. rzeroctl wrote this file once and never touches it
//! again: add the sections your logic needs (a `Mysql`, the `RpcClientConf` of a service
//! you call) here and in `etc/`.

{% for u in uses %}
use {{ u }};
{% endfor %}
use serde::{Deserialize, Serialize};

/// `etc/{{ stem }}.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// {{ conf_keys }}
    #[serde(flatten)]
    pub {{ section }}: {{ conf_type }},
{% for f in fields %}
    /// {{ f.doc | comment }}
    #[serde(rename = {{ f.key | rust_str }})]
    pub {{ f.name }}: {{ f.ty }},
{% endfor %}
}

/// The embedded default config, used when no `-f` is given.
pub const EMBEDDED: &str = include_str!("../etc/{{ stem }}.yaml");

/// The name errors give the embedded config.
pub const EMBEDDED_NAME: &str = "etc/{{ stem }}.yaml (embedded)";

/// Loads `-f <file>`, or the embedded default.
pub fn load(args: &[String]) -> Result<Config, rzero::conf::ConfError> {
    match args.iter().position(|a| a == "-f") {
        Some(i) => rzero::conf::load(args.get(i + 1).map_or("", String::as_str)),
        None => rzero::conf::Loader::new().load_str(EMBEDDED_NAME, EMBEDDED),
    }
}
