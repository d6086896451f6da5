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

use rzero_conf::EtcdConf;
use rzero_service::ServiceConf;
use serde::{Deserialize, Serialize};

use crate::client::balance::BalancerConf;
use crate::tls::{ClientTlsConf, ServerTlsConf};

/// An RPC server's settings. Defaults are go-zero's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RpcServerConf {
    /// The keys every service has: `Name`, `Mode`, `Log`, `Telemetry`/`OpenTelemetry`,
    /// `Prometheus`, `Shutdown` (go-zero's `service.ServiceConf`, shared with the rest
    /// server). `Shutdown.WrapUpTime` is how long the server keeps serving after it left
    /// etcd and reported NOT_SERVING.
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
    /// Serve TLS: `{CertFile, KeyFile}`, plus `CACertFile` to require client
    /// certificates signed by that CA (mTLS). Absent: plaintext HTTP/2.
    #[serde(default)]
    pub tls: Option<ServerTlsConf>,
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
    /// Call the servers over TLS: `{CACertFile, CertFile, KeyFile, ServerName,
    /// InsecureSkipVerify}`. Absent: plaintext HTTP/2.
    #[serde(default)]
    pub tls: Option<ClientTlsConf>,
    /// How calls are spread over the endpoints: `{Kind: p2c_ewma}` (default) or
    /// `{Kind: consistent_hash, HashKey: x-user-id}`.
    #[serde(default)]
    pub balancer: BalancerConf,
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
            tls: None,
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
            tls: None,
            balancer: BalancerConf::default(),
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
        assert_eq!(c.service.telemetry_conf().endpoint, "localhost:4317");
        assert_eq!(c.service.shutdown.wait_time, Duration::from_millis(5500));

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
