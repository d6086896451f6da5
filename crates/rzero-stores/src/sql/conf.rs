//! `SqlPoolConf`: the `Mysql:` section, go-zero's `DataSource` plus the pool's knobs.
//!
//! go-zero's section holds only `DataSource`; the other keys are optional and default to
//! go-zero's `sqlx` constants (64 open connections, one-minute lifetime, 500 ms slow
//! threshold), so a go-zero YAML file loads unchanged. Unknown keys are reported by the
//! rzero-conf loader with their line.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How to open a SQL pool.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SqlPoolConf {
    /// `user:pass@tcp(host:port)/db?params`, `mysql://user:pass@host:port/db`,
    /// `sqlite://file.db` or `sqlite::memory:`. Its password never shows in `Debug`,
    /// spans, logs or errors.
    pub data_source: String,
    /// Most connections open at once (default 64, go-zero's `maxOpenConns`).
    #[serde(default = "default_max_open_conns")]
    pub max_open_conns: u32,
    /// How long a connection lives before it is replaced (default 1 minute).
    #[serde(default = "default_max_lifetime", with = "rzero_conf::duration")]
    pub max_lifetime: Duration,
    /// How long to wait for a connection, connecting included, before the statement fails
    /// as unavailable (default 3 s).
    #[serde(default = "default_connect_timeout", with = "rzero_conf::duration")]
    pub connect_timeout: Duration,
    /// How long one statement may run once it has a connection before it fails as
    /// unavailable (default 3 s, the default request timeout).
    #[serde(default = "default_timeout", with = "rzero_conf::duration")]
    pub timeout: Duration,
    /// Statements slower than this are logged with their trace id (default 500 ms).
    #[serde(default = "default_slow_threshold", with = "rzero_conf::duration")]
    pub slow_threshold: Duration,
    /// Run the service's embedded migrations when the pool opens (default false).
    #[serde(default)]
    pub migrate: bool,
}

fn default_max_open_conns() -> u32 {
    64
}

fn default_max_lifetime() -> Duration {
    Duration::from_secs(60)
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(3)
}

fn default_timeout() -> Duration {
    Duration::from_secs(3)
}

fn default_slow_threshold() -> Duration {
    Duration::from_millis(500)
}

// === impl SqlPoolConf ===

impl SqlPoolConf {
    /// The defaults with `data_source`.
    pub fn new(data_source: impl Into<String>) -> Self {
        SqlPoolConf {
            data_source: data_source.into(),
            max_open_conns: default_max_open_conns(),
            max_lifetime: default_max_lifetime(),
            connect_timeout: default_connect_timeout(),
            timeout: default_timeout(),
            slow_threshold: default_slow_threshold(),
            migrate: false,
        }
    }

    /// An in-memory SQLite database, the embedded default.
    pub fn sqlite_memory() -> Self {
        Self::new("sqlite::memory:")
    }
}

impl From<rzero_conf::SqlConf> for SqlPoolConf {
    fn from(c: rzero_conf::SqlConf) -> Self {
        Self::new(c.data_source)
    }
}

impl fmt::Debug for SqlPoolConf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlPoolConf")
            .field("data_source", &rzero_conf::redact_dsn(&self.data_source))
            .field("max_open_conns", &self.max_open_conns)
            .field("max_lifetime", &self.max_lifetime)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("slow_threshold", &self.slow_threshold)
            .field("migrate", &self.migrate)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_zero_section_loads_with_defaults_and_round_trips() {
        let c: SqlPoolConf = serde_json::from_str(
            r#"{"DataSource":"root:hunter2@tcp(127.0.0.1:3306)/orders","SlowThreshold":"200ms"}"#,
        )
        .expect("loads");
        assert_eq!(c.max_open_conns, 64);
        assert_eq!(c.slow_threshold, Duration::from_millis(200));
        assert!(!format!("{c:?}").contains("hunter2"));
        let back: SqlPoolConf =
            serde_json::from_value(serde_json::to_value(&c).expect("writes")).expect("reads");
        assert_eq!(back, c);
    }
}
