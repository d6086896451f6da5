//! etcd discovery, as go-zero's `core/discov` does it: a server registers
//! `Key/<id>` → `host:port` under a lease it keeps alive (and registers again when the
//! lease is lost), and a client reads every key under `Key/` and watches the prefix.
//!
//! The etcd client is the slice of etcd's v3 gRPC API discovery needs, compiled from
//! `proto/etcd.proto` on the tonic this crate already uses: a full etcd client crate
//! would add its own proto build (and a system protoc) for three services.
//!
//! Layout: `mod.rs` connection and errors, `register.rs` the server side, `resolve.rs`
//! the client side.

mod register;
mod resolve;

pub use register::Registration;
pub(crate) use resolve::resolve;

use tonic::transport::{Channel, Endpoint};

/// The generated etcd API.
#[allow(unreachable_pub, missing_docs, clippy::all, clippy::pedantic)]
pub(crate) mod pb {
    tonic::include_proto!("etcdserverpb");
}

/// The lease time-to-live, in seconds (go-zero's `TimeToLive`).
pub const LEASE_TTL_SECS: i64 = 10;

/// What went wrong talking to etcd.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// A host in `Etcd.Hosts` is not a valid address.
    #[error("Etcd.Hosts: `{host}` is not a valid address: {source}")]
    BadHost {
        /// The host as configured.
        host: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
    /// `Etcd` is incomplete.
    #[error("{0}")]
    Config(String),
    /// etcd answered with an error, or could not be reached.
    #[error("etcd at {hosts}: {status}; is etcd running there?")]
    Call {
        /// `Etcd.Hosts`, joined.
        hosts: String,
        /// What etcd or the transport said.
        status: tonic::Status,
    },
    /// A lease came back with no time to live.
    #[error("etcd at {hosts}: the lease expired or was revoked")]
    LeaseLost {
        /// `Etcd.Hosts`, joined.
        hosts: String,
    },
}

/// A channel to the etcd cluster of `hosts`, connected on first use.
pub(crate) fn connect(hosts: &[String]) -> Result<Channel, EtcdError> {
    let mut endpoints = Vec::with_capacity(hosts.len());
    for host in hosts {
        let uri = if host.contains("://") {
            host.clone()
        } else {
            format!("http://{host}")
        };
        let endpoint = Endpoint::from_shared(uri)
            .map_err(|source| EtcdError::BadHost {
                host: host.clone(),
                source,
            })?
            .connect_timeout(std::time::Duration::from_secs(3))
            .tcp_nodelay(true);
        endpoints.push(endpoint);
    }
    match endpoints.len() {
        0 => Err(EtcdError::Config(
            "Etcd.Hosts: expected at least one `host:port`, found none".into(),
        )),
        1 => Ok(endpoints.remove(0).connect_lazy()),
        _ => Ok(Channel::balance_list(endpoints.into_iter())),
    }
}

/// The end of the range of every key starting with `prefix` (etcd's `WithPrefix`).
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // All 0xff: every key after the prefix.
    vec![0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_end_after_the_prefix() {
        assert_eq!(prefix_end(b"user.rpc/"), b"user.rpc0".to_vec());
        assert_eq!(prefix_end(&[b'a', 0xff]), b"b".to_vec());
        assert_eq!(prefix_end(&[0xff]), vec![0]);
    }
}
