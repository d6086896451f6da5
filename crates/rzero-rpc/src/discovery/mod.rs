//! Where a client's endpoints come from, and how a server is found.
//!
//! Every source yields the same thing: a `tokio::sync::watch` of the current endpoint
//! list (`host:port` strings), which the client's balancer follows live. A source that
//! loses its backend (etcd down, DNS failing) keeps the last list it had: calls to known
//! endpoints go on, as go-zero's resolvers do.
//!
//! - static: `Endpoints: [...]` or `Target: direct:///a:1,b:2` (or a bare `host:port`);
//! - [`etcd`]: servers register `Key/<id>` under a lease kept alive; clients read the
//!   prefix and watch it;
//! - [`k8s`]: `Target: k8s://namespace/service:port`, the pod IPs of a headless
//!   service by DNS, refreshed; `dns:///host:port` is the same for any name.

pub mod etcd;
pub mod k8s;

use std::time::Duration;

use rzero_conf::EtcdConf;
use tokio::sync::watch;

use crate::conf::RpcClientConf;

/// The endpoints of a target, as they change.
pub type Endpoints = watch::Receiver<Vec<String>>;

/// A source of endpoints, read from a client's config.
#[derive(Clone, Debug, PartialEq)]
pub enum Discovery {
    /// A fixed list.
    Static(Vec<String>),
    /// Servers registered in etcd under a key.
    Etcd(EtcdConf),
    /// A DNS name whose addresses are the endpoints, refreshed every `refresh`.
    Dns {
        /// The name to resolve, e.g. `user-rpc.prod.svc.cluster.local`.
        host: String,
        /// The port every endpoint listens on.
        port: u16,
        /// How often to resolve again.
        refresh: Duration,
    },
}

/// A client config that names no usable target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadTarget(pub String);

impl Discovery {
    /// The source a client config names: `Etcd`, else `Endpoints`, else `Target`.
    pub fn from_conf(conf: &RpcClientConf) -> Result<Self, BadTarget> {
        if let Some(etcd) = &conf.etcd {
            etcd.validate().map_err(BadTarget)?;
            etcd::check(etcd).map_err(|e| BadTarget(e.to_string()))?;
            return Ok(Discovery::Etcd(etcd.clone()));
        }
        if !conf.endpoints.is_empty() {
            return Ok(Discovery::Static(conf.endpoints.clone()));
        }
        Self::parse_target(conf.target.trim())
    }

    /// Reads a `Target` URI.
    pub fn parse_target(target: &str) -> Result<Self, BadTarget> {
        if target.is_empty() {
            return Err(BadTarget(
                "no target: give the client `Endpoints`, `Etcd` or `Target`".into(),
            ));
        }
        if let Some(rest) = target.strip_prefix("k8s://") {
            return k8s::parse(rest);
        }
        if let Some(rest) = target.strip_prefix("dns://") {
            // `dns:///host:port` (empty authority) or `dns://resolver/host:port`.
            let rest = rest.rsplit('/').next().unwrap_or(rest);
            let (host, port) = k8s::split_port(rest, target)?;
            return Ok(Discovery::Dns {
                host: host.to_owned(),
                port,
                refresh: k8s::REFRESH,
            });
        }
        if let Some(rest) = target.strip_prefix("etcd://") {
            let (hosts, key) = rest.split_once('/').ok_or_else(|| {
                BadTarget(format!(
                    "target `{target}`: expected etcd://host:2379[,host:2379]/key"
                ))
            })?;
            let etcd = EtcdConf {
                hosts: hosts.split(',').map(str::to_owned).collect(),
                key: key.to_owned(),
                ..EtcdConf::default()
            };
            etcd.validate().map_err(BadTarget)?;
            etcd::check(&etcd).map_err(|e| BadTarget(format!("target `{target}`: {e}")))?;
            return Ok(Discovery::Etcd(etcd));
        }
        let list = target
            .strip_prefix("direct://")
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(target);
        if list.contains("://") {
            return Err(BadTarget(format!(
                "target `{target}`: unknown scheme; use k8s://, dns:///, etcd://, direct:/// or host:port"
            )));
        }
        let endpoints: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if endpoints.is_empty() {
            return Err(BadTarget(format!("target `{target}` names no endpoint")));
        }
        Ok(Discovery::Static(endpoints))
    }

    /// Starts following the source. Background work (etcd watch, DNS refresh) stops
    /// when every receiver is dropped.
    pub fn watch(self) -> Endpoints {
        match self {
            Discovery::Static(list) => watch::channel(list).1,
            Discovery::Etcd(conf) => etcd::resolve(conf),
            Discovery::Dns {
                host,
                port,
                refresh,
            } => k8s::resolve(host, port, refresh),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            Discovery::parse_target("direct:///a:1,b:2"),
            Ok(Discovery::Static(vec!["a:1".into(), "b:2".into()]))
        );
        assert_eq!(
            Discovery::parse_target("127.0.0.1:8080"),
            Ok(Discovery::Static(vec!["127.0.0.1:8080".into()]))
        );
        assert_eq!(
            Discovery::parse_target("k8s://prod/user-rpc:8081"),
            Ok(Discovery::Dns {
                host: "user-rpc.prod.svc.cluster.local".into(),
                port: 8081,
                refresh: k8s::REFRESH,
            })
        );
        assert!(matches!(
            Discovery::parse_target("dns:///localhost:80"),
            Ok(Discovery::Dns { port: 80, .. })
        ));
        assert!(matches!(
            Discovery::parse_target("etcd://127.0.0.1:2379/user.rpc"),
            Ok(Discovery::Etcd(_))
        ));
        for bad in [
            "",
            "k8s://prod",
            "k8s://prod/svc",
            "zk://x/y",
            "etcd://nokey",
        ] {
            assert!(Discovery::parse_target(bad).is_err(), "{bad}");
        }
    }
}
