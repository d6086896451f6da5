//! go-zero's `DevServer` section (`internal/devserver/config.go`), inside the service
//! section: `DevServer: {Enabled, Host, Port, MetricsPath, HealthPath, EnableMetrics,
//! EnablePprof, HealthResponse}`.
//!
//! Two deliberate differences from go-zero, both because the port serves CPU profiles and
//! every metric: it is off unless the file has a `DevServer` section (go-zero starts it
//! whenever `Enabled` is left at its default), and `Host` defaults to `127.0.0.1`, not
//! every interface. Inside a written section the keys keep go-zero's defaults, so a
//! go-zero file's `DevServer: {Enabled: true}` means the same here.

use serde::{Deserialize, Serialize};

/// Where and what the diagnostics port serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DevServerConf {
    /// Serve the port (default true once the section is written; `false` keeps the
    /// section but turns the port off).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Interface to bind (default `127.0.0.1`). Any other address exposes profiles and
    /// metrics to the network and is logged as a warning at start.
    #[serde(default = "default_host")]
    pub host: String,
    /// Port to bind (default 6060, go-zero's; 0 picks a free one).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Path of the Prometheus text exposition (default `/metrics`).
    #[serde(default = "default_metrics_path", deserialize_with = "url_path")]
    pub metrics_path: String,
    /// Path of the health check (default `/healthz`): 200 with `HealthResponse` while the
    /// service is ready, 503 once it is stopping.
    #[serde(default = "default_health_path", deserialize_with = "url_path")]
    pub health_path: String,
    /// Serve `MetricsPath` (default true).
    #[serde(default = "yes")]
    pub enable_metrics: bool,
    /// Serve CPU profiles under `/debug/pprof/` (default true). Needs the `pprof` feature;
    /// without it the routes answer 501 saying so.
    #[serde(default = "yes")]
    pub enable_pprof: bool,
    /// The body of a healthy answer (default `OK`).
    #[serde(default = "default_health_response")]
    pub health_response: String,
}

/// go-zero's dev server port.
pub const DEFAULT_PORT: u16 = 6060;

impl Default for DevServerConf {
    fn default() -> Self {
        DevServerConf {
            enabled: true,
            host: default_host(),
            port: DEFAULT_PORT,
            metrics_path: default_metrics_path(),
            health_path: default_health_path(),
            enable_metrics: true,
            enable_pprof: true,
            health_response: default_health_response(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_host() -> String {
    "127.0.0.1".to_owned()
}
fn default_port() -> u16 {
    DEFAULT_PORT
}
fn default_metrics_path() -> String {
    "/metrics".to_owned()
}
fn default_health_path() -> String {
    "/healthz".to_owned()
}
fn default_health_response() -> String {
    "OK".to_owned()
}

/// A path is matched exactly, so it must be one: `/` first, no query, and not under
/// `/debug/pprof/`, where the profiles are.
fn url_path<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let path = String::deserialize(d)?;
    check_path(&path).map_err(serde::de::Error::custom)?;
    Ok(path)
}

pub(crate) fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
        return Err(format!(
            "{path:?} is not a URL path: write it as `/metrics`, with a leading `/`"
        ));
    }
    if path.starts_with(super::PPROF_PREFIX) {
        return Err(format!(
            "{path:?} is under {}, where the profiles are: choose another path",
            super::PPROF_PREFIX
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<DevServerConf, rzero_conf::ConfError> {
        rzero_conf::Loader::new()
            .env(|_| None)
            .load_str("a.yaml", yaml)
    }

    #[test]
    fn an_empty_section_has_go_zero_defaults_but_loopback() {
        let c = load("Port: 6060\n").expect("loads");
        assert_eq!(c, DevServerConf::default());
        assert!(c.enabled && c.enable_metrics && c.enable_pprof);
        assert_eq!(c.host, "127.0.0.1");
    }

    #[test]
    fn a_path_without_slash_is_refused_with_its_line() {
        let err = load("Port: 1\nMetricsPath: metrics\n").expect_err("bad path");
        let msg = err.to_string();
        assert!(
            msg.contains("a.yaml:2") && msg.contains("leading `/`"),
            "{msg}"
        );
    }

    #[test]
    fn a_path_over_the_profiles_is_refused() {
        let err = load("HealthPath: /debug/pprof/health\n").expect_err("bad path");
        assert!(err.to_string().contains("/debug/pprof/"), "{err}");
    }
}
