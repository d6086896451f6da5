//! Kubernetes targets: `k8s://namespace/service:port` names a headless service, whose
//! DNS name (`service.namespace.svc.cluster.local`) resolves to the IPs of its ready
//! pods. The list is resolved again every [`REFRESH`], so pods that come and go are
//! followed; a failed lookup keeps the last list.
//!
//! go-zero's k8s resolver watches the Endpoints API instead, which needs RBAC and a
//! Kubernetes client; DNS needs neither and is what a headless service is for.

use std::time::Duration;

use tokio::sync::watch;

use super::{BadTarget, Discovery, Endpoints};

/// How often a DNS target is resolved again.
pub const REFRESH: Duration = Duration::from_secs(5);

/// The cluster's DNS suffix.
pub const CLUSTER_DOMAIN: &str = "svc.cluster.local";

/// Reads `namespace/service:port` (the part after `k8s://`).
pub(super) fn parse(rest: &str) -> Result<Discovery, BadTarget> {
    let target = format!("k8s://{rest}");
    let (namespace, service) = rest.split_once('/').ok_or_else(|| {
        BadTarget(format!(
            "target `{target}`: expected k8s://namespace/service:port"
        ))
    })?;
    let (service, port) = split_port(service, &target)?;
    if namespace.is_empty() || service.is_empty() {
        return Err(BadTarget(format!(
            "target `{target}`: expected k8s://namespace/service:port"
        )));
    }
    Ok(Discovery::Dns {
        host: format!("{service}.{namespace}.{CLUSTER_DOMAIN}"),
        port,
        refresh: REFRESH,
    })
}

/// `host:port` with a port that is a number.
pub(super) fn split_port<'a>(s: &'a str, target: &str) -> Result<(&'a str, u16), BadTarget> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| BadTarget(format!("target `{target}`: the port is missing")))?;
    let port = port
        .parse()
        .map_err(|_| BadTarget(format!("target `{target}`: `{port}` is not a port")))?;
    Ok((host, port))
}

/// Resolves `host` now and every `refresh`, until every receiver is gone.
pub(super) fn resolve(host: String, port: u16, refresh: Duration) -> Endpoints {
    let (tx, rx) = watch::channel(Vec::new());
    tokio::spawn(async move {
        loop {
            match tokio::net::lookup_host((host.as_str(), port)).await {
                Ok(addrs) => {
                    let mut list: Vec<String> = addrs.map(|a| a.to_string()).collect();
                    list.sort();
                    list.dedup();
                    tx.send_if_modified(|old| {
                        let changed = *old != list && !list.is_empty();
                        if changed {
                            *old = list;
                        }
                        changed
                    });
                }
                Err(e) => {
                    tracing::warn!(%host, "DNS lookup failed, keeping the last endpoints: {e}");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(refresh) => {}
                () = tx.closed() => return,
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dns_targets_resolve_and_refresh() {
        let mut rx = resolve("localhost".into(), 8081, Duration::from_millis(50));
        let list = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|l| !l.is_empty()))
            .await
            .expect("resolved in time")
            .expect("resolver alive")
            .clone();
        assert!(list.iter().all(|a| a.ends_with(":8081")), "{list:?}");
        assert!(
            list.iter()
                .any(|a| a.starts_with("127.0.0.1") || a.starts_with("[::1]"))
        );
    }
}
