//! A go-zero style service config, composed with flatten the way go-zero embeds
//! `zrpc.RpcServerConf` and `service.ServiceConf`, and the guide's order.rpc file.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use rzero_conf::{ConfError, EtcdConf, Loader, Mode, RedisConf, SqlConf};
use serde::{Deserialize, Serialize};

/// The `Name` and `Mode` part of go-zero's `service.ServiceConf` (rzero-service's has
/// more; this crate's tests need only a flattened part).
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct ServiceConf {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Mode", default)]
    pub mode: Mode,
}

/// go-zero's `zrpc.RpcServerConf`, as a crate of ours would declare it.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct RpcServerConf {
    #[serde(flatten)]
    pub service: ServiceConf,
    #[serde(rename = "ListenOn")]
    pub listen_on: String,
    #[serde(rename = "Etcd", default)]
    pub etcd: Option<EtcdConf>,
    /// Defaults: a named function, as STYLE.md asks.
    #[serde(
        rename = "Timeout",
        with = "rzero_conf::duration",
        default = "default_timeout"
    )]
    pub timeout: Duration,
    #[serde(
        rename = "KeepaliveTime",
        with = "rzero_conf::duration::option",
        default
    )]
    pub keepalive: Option<Duration>,
}

pub(crate) fn default_timeout() -> Duration {
    Duration::from_secs(2)
}

/// The guide's `OpenTelemetry:` section.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct OpenTelemetry {
    #[serde(rename = "Endpoint", default)]
    pub endpoint: String,
    #[serde(rename = "Sampler", default = "one")]
    pub sampler: f64,
    #[serde(rename = "Headers", default)]
    pub headers: BTreeMap<String, String>,
}

pub(crate) fn one() -> f64 {
    1.0
}

/// order.rpc's `Config`: `struct Config { zrpc.RpcServerConf; Mysql ...; Redis ... }`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct OrderConfig {
    #[serde(flatten)]
    pub rpc: RpcServerConf,
    #[serde(rename = "OpenTelemetry", default)]
    pub open_telemetry: Option<OpenTelemetry>,
    #[serde(rename = "Mysql")]
    pub mysql: SqlConf,
    #[serde(rename = "Redis")]
    pub redis: RedisConf,
}

/// The guide's order.rpc file (lines numbered for the tests that point into it).
pub(crate) const GUIDE: &str = r#"Name: order.rpc
ListenOn: 0.0.0.0:8080

Etcd:
  Hosts:
    - localhost:2379
  Key: order.rpc

# OpenTelemetry
OpenTelemetry:
  Endpoint: localhost:4317
  Sampler: 1.0
  Headers:
    X-Anything: goes

Mysql:
  DataSource: root:${MYSQL_PASS:-}@tcp(localhost:3306)/order_db?charset=utf8mb4&parseTime=true

Redis:
  Host: localhost:6379
  Type: node
"#;

/// Loads `text` as `etc/order.yaml` with `MYSQL_PASS=s3cret` as the only variable.
pub(crate) fn load(text: &str) -> Result<OrderConfig, ConfError> {
    Loader::new()
        .env(|k| (k == "MYSQL_PASS").then(|| "s3cret".to_owned()))
        .load_str("etc/order.yaml", text)
}

/// The error text of loading `text`, which must fail.
pub(crate) fn err(text: &str) -> String {
    load(text).expect_err("must fail").to_string()
}
