//! `RpcServerConf` and `RpcClientConf`: go-zero's `zrpc.RpcServerConf` and
//! `zrpc.RpcClientConf`, the keys of an RPC service's YAML file and of the sections that
//! point at the services it calls.
//!
//! Flatten the server section into the service's config, as go-zero embeds it, and give
//! each dependency its own client section:
//!
//! ```
//! #[derive(serde::Deserialize, serde::Serialize)]
//! struct Config {
//!     #[serde(flatten)]
//!     rpc: rzero_rpc::RpcServerConf,
//!     #[serde(rename = "UserRpc")]
//!     user_rpc: rzero_rpc::RpcClientConf,
//! }
//! let yaml = "Name: order.rpc\nListenOn: 0.0.0.0:8080\nUserRpc:\n  Endpoints: [127.0.0.1:8081]\n";
//! let c: Config = rzero_conf::Loader::new().load_str("order.yaml", yaml).unwrap();
//! assert_eq!(c.rpc.timeout.as_millis(), 2000);
//! assert_eq!(c.user_rpc.endpoints, ["127.0.0.1:8081"]);
//! ```

use std::time::Duration;

use rzero_conf::{EtcdConf, ServiceConf};
use rzero_telemetry::{LogConf, PrometheusConf, TelemetryConf};
use serde::{Deserialize, Serialize};

/// An RPC server's settings. Defaults are go-zero's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RpcServerConf {
    /// `Name` and `Mode`.
    #[serde(flatten)]
    pub service: ServiceConf,
    /// Where to listen, `host:port` (default `0.0.0.0:8080`).
    #[serde(default = "default_listen_on")]
    pub listen_on: String,
    /// Register in etcd under `Etcd.Key` so clients find this server; absent: no
    /// registration.
    #[serde(default)]
    pub etcd: Option<EtcdConf>,
    /// Time a call may take, in milliseconds or with a unit (default 2000 ms); a caller's
    /// shorter `grpc-timeout` wins. 0 turns the server's own deadline off.
    #[serde(default = "default_timeout", with = "rzero_conf::duration")]
    pub timeout: Duration,
    /// CPU usage in thousandths above which calls may be shed with RESOURCE_EXHAUSTED
    /// (default 900; 0 turns shedding off).
    #[serde(default = "default_cpu_threshold")]
    pub cpu_threshold: u64,
    /// Serve `grpc.health.v1` (default true).
    #[serde(default = "yes")]
    pub health: bool,
    /// How a stop is handled.
    #[serde(default)]
    pub shutdown: ShutdownConf,
    /// go-zero's `Log`.
    #[serde(default)]
    pub log: LogConf,
    /// go-zero's `Telemetry`.
    #[serde(default)]
    pub telemetry: Option<TelemetryConf>,
    /// The guide's `OpenTelemetry` (same keys as `Telemetry`; used when that is absent).
    #[serde(default)]
    pub open_telemetry: Option<TelemetryConf>,
    /// go-zero's `Prometheus`.
    #[serde(default)]
    pub prometheus: Option<PrometheusConf>,
}

/// What a server does between a stop signal and its exit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ShutdownConf {
    /// After the signal the server leaves etcd and reports NOT_SERVING, and keeps
    /// serving this long so that callers and probes notice (default 1s, go-zero's
    /// `WrapUpTime`).
    #[serde(default = "default_wrap_up", with = "rzero_conf::duration")]
    pub wrap_up_time: Duration,
    /// Calls in flight get this long to finish; then they are dropped (default 5.5s,
    /// go-zero's `WaitTime`).
    #[serde(default = "default_wait", with = "rzero_conf::duration")]
    pub wait_time: Duration,
}

/// A client's settings: where the target is and how to call it. Give one of
/// `Endpoints`, `Etcd` or `Target`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RpcClientConf {
    /// Find the target's servers in etcd under `Etcd.Key`.
    #[serde(default)]
    pub etcd: Option<EtcdConf>,
    /// Fixed `host:port` endpoints.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// A target URI: `k8s://namespace/service:port` (a headless service, by DNS),
    /// `dns:///host:port`, `direct:///h1:p1,h2:p2`, `etcd://h1:2379,h2:2379/key`, or
    /// plain `host:port`.
    #[serde(default)]
    pub target: String,
    /// Start without waiting for an endpoint (default true); false waits up to
    /// `Timeout` (at least 3 s) for one and fails the start without.
    #[serde(default = "yes")]
    pub non_block: bool,
    /// Time a call may take, in milliseconds or with a unit (default 2000 ms); sent to
    /// the server as `grpc-timeout`. 0 turns it off.
    #[serde(default = "default_timeout", with = "rzero_conf::duration")]
    pub timeout: Duration,
    /// HTTP/2 keep-alive ping interval (default 20 s; 0 turns pings off).
    #[serde(default = "default_keepalive", with = "rzero_conf::duration")]
    pub keepalive_time: Duration,
}

fn default_listen_on() -> String {
    "0.0.0.0:8080".into()
}
fn default_timeout() -> Duration {
    Duration::from_millis(2000)
}
fn default_cpu_threshold() -> u64 {
    900
}
fn default_wrap_up() -> Duration {
    Duration::from_secs(1)
}
fn default_wait() -> Duration {
    Duration::from_millis(5500)
}
fn default_keepalive() -> Duration {
    Duration::from_secs(20)
}
fn yes() -> bool {
    true
}

impl Default for RpcServerConf {
    fn default() -> Self {
        RpcServerConf {
            service: ServiceConf::default(),
            listen_on: default_listen_on(),
            etcd: None,
            timeout: default_timeout(),
            cpu_threshold: default_cpu_threshold(),
            health: true,
            shutdown: ShutdownConf::default(),
            log: LogConf::default(),
            telemetry: None,
            open_telemetry: None,
            prometheus: None,
        }
    }
}

impl RpcServerConf {
    /// The telemetry section, whichever spelling the file used (`Telemetry` wins).
    pub fn telemetry_conf(&self) -> TelemetryConf {
        self.telemetry
            .clone()
            .or_else(|| self.open_telemetry.clone())
            .unwrap_or_default()
    }

    /// Starts telemetry from this config, named after `Name`.
    pub fn init_telemetry(
        &self,
        version: &str,
    ) -> Result<rzero_telemetry::TelemetryGuard, rzero_telemetry::TelemetryError> {
        rzero_telemetry::Telemetry::new(&self.service.name, version)
            .conf(&self.telemetry_conf())
            .log(&self.log)
            .init()
    }
}

impl Default for ShutdownConf {
    fn default() -> Self {
        ShutdownConf {
            wrap_up_time: default_wrap_up(),
            wait_time: default_wait(),
        }
    }
}

impl Default for RpcClientConf {
    fn default() -> Self {
        RpcClientConf {
            etcd: None,
            endpoints: Vec::new(),
            target: String::new(),
            non_block: true,
            timeout: default_timeout(),
            keepalive_time: default_keepalive(),
        }
    }
}

impl RpcClientConf {
    /// A name for the target in spans, metrics and errors: the target URI, the etcd key
    /// or the endpoints.
    pub fn target_name(&self) -> String {
        if let Some(etcd) = &self.etcd {
            return format!("etcd://{}/{}", etcd.hosts.join(","), etcd.key);
        }
        if !self.endpoints.is_empty() {
            return self.endpoints.join(",");
        }
        self.target.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_conf_reads_go_zero_keys_and_writes_them_back() {
        let yaml = "Name: user.rpc\nListenOn: 127.0.0.1:8081\nTimeout: 500ms\nCpuThreshold: 0\n\
                    Etcd:\n  Hosts: [127.0.0.1:2379]\n  Key: user.rpc\nHealth: false\n\
                    Shutdown:\n  WrapUpTime: 0\nOpenTelemetry:\n  Endpoint: localhost:4317\n";
        let c: RpcServerConf = rzero_conf::Loader::new()
            .env(|_| None)
            .load_str("user.yaml", yaml)
            .expect("loads");
        assert_eq!(c.listen_on, "127.0.0.1:8081");
        assert_eq!(c.timeout, Duration::from_millis(500));
        assert_eq!(c.cpu_threshold, 0);
        assert!(!c.health);
        assert_eq!(c.etcd.as_ref().map(|e| e.key.as_str()), Some("user.rpc"));
        assert_eq!(c.telemetry_conf().endpoint, "localhost:4317");
        assert_eq!(c.shutdown.wait_time, Duration::from_millis(5500));

        let typo = "Name: user.rpc\nListenOnn: x\n";
        let err = rzero_conf::Loader::new()
            .env(|_| None)
            .load_str::<RpcServerConf>("user.yaml", typo)
            .expect_err("unknown key");
        assert!(err.to_string().contains("ListenOnn"), "{err}");
    }

    #[test]
    fn client_conf_defaults_are_go_zero_s() {
        let c: RpcClientConf = rzero_conf::Loader::new()
            .env(|_| None)
            .load_str("c.yaml", "Target: k8s://prod/user-rpc:8081\n")
            .expect("loads");
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert!(c.non_block);
        assert_eq!(c.keepalive_time, Duration::from_secs(20));
        assert_eq!(c.target_name(), "k8s://prod/user-rpc:8081");
    }
}
