//! etcd discovery, as go-zero's `core/discov` does it: a server registers
//! `Key/<id>` → `host:port` under a lease it keeps alive (and registers again when the
//! lease is lost), and a client reads every key under `Key/` and watches the prefix.
//!
//! The etcd client is the slice of etcd's v3 gRPC API discovery needs, compiled from
//! `proto/etcd.proto` on the tonic this crate already uses: a full etcd client crate
//! would add its own proto build (and a system protoc) for four services.
//!
//! # Nothing waits on etcd without a deadline
//!
//! A half-open connection (etcd's host gone without a FIN, a firewall dropping the
//! flow) otherwise leaves a call waiting for TCP to give up, about 15 minutes, while
//! the server's lease expires and it silently leaves discovery. So:
//!
//! - every unary call has `Etcd.RequestTimeout` (go-zero's 3 s), connecting has
//!   `Etcd.DialTimeout` (5 s), and a call that runs out drops the connection so the
//!   next one dials afresh;
//! - the channel sends HTTP/2 pings while a stream is open (every 5 s, go-zero's
//!   `dialKeepAliveTime`), which ends a dead connection and every stream on it;
//! - the lease keeper waits `RequestTimeout` for each keep-alive's answer, and holds the
//!   lease for lost when none was confirmed within its TTL (or etcd answers TTL 0): it
//!   logs that, and registers again until it succeeds;
//! - watches ask etcd for progress notifications, and a watchdog asks for one when a
//!   watch has been silent; a watch that does not answer is restarted (`watch.rs`).
//!
//! # Auth and TLS
//!
//! `Etcd.User`/`Pass`: the client calls `Authenticate`, sends the token in the `token`
//! metadata of every call, and authenticates again when etcd says the token is invalid
//! (it expired: etcd's simple tokens live 5 minutes unused). TLS with `CACertFile`,
//! mutual TLS with `CertFile`/`CertKeyFile`, `InsecureSkipVerify`: see `tls.rs`, which is
//! also the one place that picks the rustls crypto provider.
//!
//! Layout: `mod.rs` errors; `client.rs` the connection and deadlines; `auth.rs` the
//! token; `tls.rs`;
//! `watch.rs` a watch with its watchdog; `register.rs` the server side; `resolve.rs` the
//! client side. Tests against a real etcd: `tests.rs`, and `tests/etcd/` for the public
//! API.

mod auth;
mod client;
mod register;
mod resolve;
mod tls;
mod watch;

#[cfg(test)]
mod tests;

use std::time::Duration;

use rzero_conf::EtcdConf;

pub(crate) use client::{Client, Settings};
pub use register::Registration;
pub(crate) use resolve::resolve;
pub(crate) use watch::{WatchStats, watch_from};

/// The generated etcd API.
#[allow(unreachable_pub, missing_docs, clippy::all, clippy::pedantic)]
pub(crate) mod pb {
    tonic::include_proto!("etcdserverpb");
}

/// The default lease time-to-live, in seconds (go-zero's `TimeToLive`); `Etcd.LeaseTTL`
/// changes it.
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
    /// `Etcd` is incomplete or names files that cannot be used.
    #[error("{0}")]
    Config(String),
    /// etcd answered with an error, or could not be reached.
    #[error("etcd at {hosts}: {what}: {}{}", status_text(.status), hint(.status))]
    Call {
        /// `Etcd.Hosts`, joined.
        hosts: String,
        /// The call, e.g. `lease grant`.
        what: &'static str,
        /// What etcd or the transport said.
        status: tonic::Status,
    },
    /// etcd did not answer within the deadline.
    #[error(
        "etcd at {hosts}: {what}: no answer within {after:?} (Etcd.RequestTimeout); \
         is etcd reachable from here?"
    )]
    Timeout {
        /// `Etcd.Hosts`, joined.
        hosts: String,
        /// The call, e.g. `range`.
        what: &'static str,
        /// The deadline that passed.
        after: Duration,
    },
    /// etcd refused `Etcd.User` and `Etcd.Pass`.
    #[error(
        "etcd at {hosts}: authenticating as `{user}` failed: {}; check Etcd.User and \
         Etcd.Pass",
        status_text(.status)
    )]
    Auth {
        /// `Etcd.Hosts`, joined.
        hosts: String,
        /// `Etcd.User`.
        user: String,
        /// What etcd said.
        status: tonic::Status,
    },
    /// The registration's lease is gone, or could not be confirmed within its TTL.
    #[error("etcd at {hosts}: lease lost: {reason}")]
    LeaseLost {
        /// `Etcd.Hosts`, joined.
        hosts: String,
        /// How it was found lost.
        reason: String,
    },
}

/// A status's message, with the transport's cause when tonic wraps one (a refused
/// connection or a certificate etcd would not accept says why only there).
fn status_text(status: &tonic::Status) -> String {
    let mut text = format!("{} ({:?})", status.message(), status.code());
    let mut source = std::error::Error::source(status);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What to check, from what etcd or the transport said.
fn hint(status: &tonic::Status) -> &'static str {
    let text = status_text(status);
    if text.contains("invalid peer certificate") {
        return "; check Etcd.CACertFile (the CA that signed etcd's certificate)";
    }
    // rustls' `AlertReceived`: etcd refused our side of the handshake, which with
    // --client-cert-auth is about the client certificate (missing, or from a CA it does
    // not trust).
    if text.contains("received fatal alert") {
        return "; etcd refused the TLS handshake: with --client-cert-auth it needs a client \
                certificate signed by a CA it trusts (Etcd.CertFile, Etcd.CertKeyFile)";
    }
    if text.contains("user name is empty") {
        return "; etcd has auth on: set Etcd.User and Etcd.Pass";
    }
    if ["connection closed", "broken pipe", "connection reset"]
        .iter()
        .any(|t| text.contains(t))
    {
        return "; etcd closed the connection: a TLS etcd closes plain ones (set \
                Etcd.CACertFile or write https://), and one with --client-cert-auth those \
                without a client certificate it trusts (Etcd.CertFile, Etcd.CertKeyFile)";
    }
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::Unknown => "; is etcd running there?",
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
            "; check Etcd.User and Etcd.Pass, and that the user's role may use Etcd.Key"
        }
        _ => "",
    }
}

/// Checks what can be checked of `conf` without etcd: the hosts, the TLS files.
pub(crate) fn check(conf: &EtcdConf) -> Result<(), EtcdError> {
    client::endpoints(conf, &Settings::from_conf(conf)).map(drop)
}

/// A bare channel with `conf`'s endpoint and TLS, for test set-up calls the client
/// does not make (turning auth on).
#[cfg(any(test, feature = "testing"))]
pub(crate) fn setup_channel(conf: &EtcdConf) -> Result<tonic::transport::Channel, EtcdError> {
    let endpoints = client::endpoints(conf, &Settings::from_conf(conf))?;
    Ok(endpoints[0].connect_lazy())
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
