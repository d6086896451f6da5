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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
    /// etcd user, when auth is on.
    #[serde(rename = "User", default)]
    pub user: String,
    /// etcd password, when auth is on.
    #[serde(rename = "Pass", default)]
    pub pass: Secret,
    /// Client certificate file, for TLS.
    #[serde(rename = "CertFile", default)]
    pub cert_file: String,
    /// Client key file, for TLS.
    #[serde(rename = "CertKeyFile", default)]
    pub cert_key_file: String,
    /// CA certificate file, for TLS.
    #[serde(rename = "CACertFile", default)]
    pub ca_cert_file: String,
    /// Skip server certificate verification (tests only).
    #[serde(rename = "InsecureSkipVerify", default)]
    pub insecure_skip_verify: bool,
}

impl EtcdConf {
    /// Checks what serde cannot: hosts and key present, TLS files given together.
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
        Ok(())
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
    }
}
