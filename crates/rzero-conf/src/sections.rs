//! Config sections shared by several parts of rzero, with go-zero's key names.
//!
//! Sections that belong to one component live beside it (`RestConf` in rzero-rest,
//! `TelemetryConf` in rzero-telemetry); these are the ones more than one crate reads.
//!
//! None of them says `deny_unknown_fields`: the loader checks unknown keys itself, with
//! their line, also where serde cannot (inside `#[serde(flatten)]` parts).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A string that never shows in `Debug` output or logs (passwords, tokens).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// go-zero's `service.ServiceConf` `Mode` (read by rzero-service's `ServiceConf`): what kind of environment this process runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A developer's machine.
    Dev,
    /// A test environment.
    Test,
    /// Regression test.
    Rt,
    /// Pre-release.
    Pre,
    /// Production (the default, as in go-zero).
    #[default]
    Pro,
}

/// go-zero's `discov.EtcdConf`: where a service registers and where clients find it.
///
/// The first nine keys are go-zero's. `DialTimeout`, `RequestTimeout` and `LeaseTTL`
/// are rzero's, with go-zero's built-in values as defaults (go-zero hard-codes them in
/// `core/discov/internal/vars.go` and `TimeToLive`): every etcd call has a deadline,
/// and a lease that is not confirmed within its time to live counts as lost.
///
/// TLS is on when any of `CACertFile`, `CertFile`/`CertKeyFile` or `InsecureSkipVerify`
/// is set, or a host is written `https://...`; etcd's certificate is then checked
/// against `CACertFile`, or the system's trust store when it is empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EtcdConf {
    /// etcd endpoints, e.g. `["127.0.0.1:2379"]`.
    #[serde(rename = "Hosts")]
    pub hosts: Vec<String>,
    /// The key prefix the service registers under, e.g. `order.rpc`.
    #[serde(rename = "Key")]
    pub key: String,
    /// A fixed id to register under (go-zero's `ID`); absent lets the registry pick one.
    #[serde(rename = "ID", default)]
    pub id: Option<i64>,
    /// etcd user, when auth is on: the client authenticates and sends the token on
    /// every call, and authenticates again when etcd says the token expired.
    #[serde(rename = "User", default)]
    pub user: String,
    /// etcd password, when auth is on.
    #[serde(rename = "Pass", default)]
    pub pass: Secret,
    /// Client certificate file (PEM), for mutual TLS; with `CertKeyFile`.
    #[serde(rename = "CertFile", default)]
    pub cert_file: String,
    /// The client certificate's private key file (PEM).
    #[serde(rename = "CertKeyFile", default)]
    pub cert_key_file: String,
    /// A PEM file with the CA certificate(s) that signed etcd's certificate.
    #[serde(rename = "CACertFile", default)]
    pub ca_cert_file: String,
    /// Do not verify etcd's certificate (tests only: anyone between can read and
    /// change what the service sends and receives). Wins over `CACertFile`.
    #[serde(rename = "InsecureSkipVerify", default)]
    pub insecure_skip_verify: bool,
    /// How long connecting to etcd (TCP and TLS handshake) may take (default 5s).
    #[serde(
        rename = "DialTimeout",
        with = "crate::duration",
        default = "etcd_dial_timeout"
    )]
    pub dial_timeout: Duration,
    /// The deadline of every etcd call, and how long a keep-alive or a watch may wait
    /// for etcd's answer before the connection counts as dead (default 3s).
    #[serde(
        rename = "RequestTimeout",
        with = "crate::duration",
        default = "etcd_request_timeout"
    )]
    pub request_timeout: Duration,
    /// The time to live of a server's registration lease, in whole seconds (default
    /// 10s, at least 2s): a server that stops renewing it leaves discovery this long
    /// after, and a server that cannot renew it for this long registers again.
    #[serde(
        rename = "LeaseTTL",
        with = "crate::duration",
        default = "etcd_lease_ttl"
    )]
    pub lease_ttl: Duration,
}

fn etcd_dial_timeout() -> Duration {
    Duration::from_secs(5)
}

fn etcd_request_timeout() -> Duration {
    Duration::from_secs(3)
}

fn etcd_lease_ttl() -> Duration {
    Duration::from_secs(10)
}

/// etcd grants no lease shorter than about 2 s (1.5 election timeouts, rounded up).
const MIN_LEASE_TTL: Duration = Duration::from_secs(2);
/// A registration lease of hours is a mistake: a dead server would stay listed for it.
const MAX_LEASE_TTL: Duration = Duration::from_secs(3600);
/// The longest dial or request deadline: beyond it a call is as good as hung.
const MAX_ETCD_TIMEOUT: Duration = Duration::from_secs(600);

impl Default for EtcdConf {
    fn default() -> Self {
        EtcdConf {
            hosts: Vec::new(),
            key: String::new(),
            id: None,
            user: String::new(),
            pass: Secret::default(),
            cert_file: String::new(),
            cert_key_file: String::new(),
            ca_cert_file: String::new(),
            insecure_skip_verify: false,
            dial_timeout: etcd_dial_timeout(),
            request_timeout: etcd_request_timeout(),
            lease_ttl: etcd_lease_ttl(),
        }
    }
}

impl EtcdConf {
    /// Checks what serde cannot: hosts and key present, TLS files given together, a
    /// password with its user, deadlines and the lease TTL in range.
    pub fn validate(&self) -> Result<(), String> {
        if self.hosts.is_empty() || self.hosts.iter().any(|h| h.trim().is_empty()) {
            return Err("Etcd.Hosts: expected at least one `host:port`, found none".into());
        }
        if self.key.trim().is_empty() {
            return Err("Etcd.Key: expected the service's key, e.g. `order.rpc`".into());
        }
        if self.cert_file.is_empty() != self.cert_key_file.is_empty() {
            return Err("Etcd: CertFile and CertKeyFile must be given together".into());
        }
        if self.user.is_empty() && !self.pass.expose().is_empty() {
            return Err("Etcd.Pass is set but Etcd.User is empty: give the user too".into());
        }
        for (key, d) in [
            ("DialTimeout", self.dial_timeout),
            ("RequestTimeout", self.request_timeout),
        ] {
            if d.is_zero() || d > MAX_ETCD_TIMEOUT {
                return Err(format!(
                    "Etcd.{key}: {d:?} is out of range: expected more than 0 and at most \
                     {MAX_ETCD_TIMEOUT:?}"
                ));
            }
        }
        let ttl = self.lease_ttl;
        if ttl.subsec_nanos() != 0 || ttl < MIN_LEASE_TTL || ttl > MAX_LEASE_TTL {
            return Err(format!(
                "Etcd.LeaseTTL: {ttl:?} is not a whole number of seconds from \
                 {MIN_LEASE_TTL:?} to {MAX_LEASE_TTL:?} (etcd leases count whole seconds)"
            ));
        }
        Ok(())
    }

    /// Whether etcd is reached over TLS (see the type's doc).
    pub fn uses_tls(&self) -> bool {
        !self.ca_cert_file.is_empty()
            || !self.cert_file.is_empty()
            || !self.cert_key_file.is_empty()
            || self.insecure_skip_verify
            || self.hosts.iter().any(|h| h.trim().starts_with("https://"))
    }
}

/// go-zero's Redis `Type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedisType {
    /// One server (the default).
    #[default]
    Node,
    /// A Redis Cluster.
    Cluster,
}

/// go-zero's `redis.RedisConf`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedisConf {
    /// `host:port`; for a cluster, comma-separated seeds.
    #[serde(rename = "Host")]
    pub host: String,
    /// `node` (default) or `cluster`.
    #[serde(rename = "Type", default)]
    pub kind: RedisType,
    /// ACL user (Redis 6+), empty for the default user.
    #[serde(rename = "User", default)]
    pub user: String,
    /// Password (`AUTH`), empty for none.
    #[serde(rename = "Pass", default)]
    pub pass: Secret,
    /// Connect with TLS (default false). The server's certificate is verified: against
    /// `TlsCaFile` when set, else the system's trust store. (go-zero skips verification;
    /// rzero does not: give the CA of a self-signed server in `TlsCaFile`.)
    #[serde(rename = "Tls", default)]
    pub tls: bool,
    /// A PEM file with the CA certificate(s) that signed the server's certificate, used
    /// instead of the system's trust store (rzero's key; empty: the system's).
    #[serde(rename = "TlsCaFile", default)]
    pub tls_ca_file: String,
    /// Start even when Redis is down at start (default true, as in go-zero): the cache
    /// is an optimisation, and a Redis outage degrades to the database.
    #[serde(rename = "NonBlock", default = "non_block")]
    pub non_block: bool,
    /// How long the start-up ping may take (default 1s); `1000` or `"1s"`.
    #[serde(
        rename = "PingTimeout",
        with = "crate::duration",
        default = "ping_timeout"
    )]
    pub ping_timeout: Duration,
}

fn non_block() -> bool {
    true
}

fn ping_timeout() -> Duration {
    Duration::from_secs(1)
}

impl Default for RedisConf {
    fn default() -> Self {
        RedisConf {
            host: String::new(),
            kind: RedisType::default(),
            user: String::new(),
            pass: Secret::default(),
            tls: false,
            tls_ca_file: String::new(),
            non_block: non_block(),
            ping_timeout: ping_timeout(),
        }
    }
}

/// The `Mysql:` section of the guide: a data source in go-zero's DSN form
/// (`user:pass@tcp(host:port)/db?params`) or as a URL (`mysql://...`, `sqlite://...`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SqlConf {
    /// The data source name. Its password never appears in `Debug` output.
    #[serde(rename = "DataSource")]
    pub data_source: String,
}

impl fmt::Debug for SqlConf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlConf")
            .field("data_source", &redact_dsn(&self.data_source))
            .finish()
    }
}

/// `user:secret@tcp(h:3306)/db` -> `user:***@tcp(h:3306)/db`; the same for URLs.
pub fn redact_dsn(dsn: &str) -> String {
    let (scheme, rest) = match dsn.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), dsn),
    };
    match rest.rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}{user}:***{}", &rest[at..])
        }
        None => dsn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug() {
        let redis = RedisConf {
            host: "h:6379".into(),
            pass: Secret("hunter2".into()),
            ..Default::default()
        };
        assert!(!format!("{redis:?}").contains("hunter2"));
        let sql = SqlConf {
            data_source: "root:hunter2@tcp(localhost:3306)/db".into(),
        };
        assert_eq!(
            format!("{sql:?}"),
            "SqlConf { data_source: \"root:***@tcp(localhost:3306)/db\" }"
        );
        assert_eq!(redact_dsn("mysql://u:p@x/db"), "mysql://u:***@x/db");
        assert_eq!(redact_dsn("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn etcd_validation_says_what_is_missing() {
        let mut etcd = EtcdConf::default();
        assert!(etcd.validate().unwrap_err().starts_with("Etcd.Hosts"));
        etcd.hosts = vec!["127.0.0.1:2379".into()];
        assert!(etcd.validate().unwrap_err().starts_with("Etcd.Key"));
        etcd.key = "order.rpc".into();
        assert_eq!(etcd.validate(), Ok(()));
        assert!(!etcd.uses_tls());
    }

    #[test]
    fn etcd_deadlines_and_lease_ttl_are_checked() {
        let good = EtcdConf {
            hosts: vec!["127.0.0.1:2379".into()],
            key: "order.rpc".into(),
            ..EtcdConf::default()
        };
        assert_eq!(good.dial_timeout, Duration::from_secs(5));
        assert_eq!(good.request_timeout, Duration::from_secs(3));
        assert_eq!(good.lease_ttl, Duration::from_secs(10));
        let bad = |f: fn(&mut EtcdConf)| {
            let mut c = good.clone();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert!(bad(|c| c.request_timeout = Duration::ZERO).starts_with("Etcd.RequestTimeout"));
        assert!(
            bad(|c| c.dial_timeout = Duration::from_secs(3600)).starts_with("Etcd.DialTimeout")
        );
        assert!(bad(|c| c.lease_ttl = Duration::from_millis(2500)).starts_with("Etcd.LeaseTTL"));
        assert!(bad(|c| c.lease_ttl = Duration::from_secs(1)).starts_with("Etcd.LeaseTTL"));
        assert!(bad(|c| c.lease_ttl = Duration::from_secs(7200)).starts_with("Etcd.LeaseTTL"));
        assert!(bad(|c| c.pass = Secret("pw".into())).starts_with("Etcd.Pass"));
        assert!(bad(|c| c.cert_file = "c.pem".into()).contains("CertKeyFile"));
        let mut tls = good.clone();
        tls.ca_cert_file = "ca.pem".into();
        assert!(tls.uses_tls());
        tls.ca_cert_file.clear();
        tls.hosts = vec!["https://etcd:2379".into()];
        assert!(tls.uses_tls());
    }
}
