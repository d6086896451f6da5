//! The diagnostics port: go-zero's dev server (`internal/devserver`), started and stopped
//! by the service's [`Lifecycle`](crate::Lifecycle) beside the HTTP or gRPC server.
//!
//! | route | answers |
//! |---|---|
//! | `/` | the routes, as JSON (as go-zero) |
//! | `HealthPath` (`/healthz`) | `HealthResponse` while ready, 503 once stopping |
//! | `MetricsPath` (`/metrics`) | the Prometheus text the `Prometheus` port serves: one registry |
//! | `/debug/pprof/profile?seconds=N` | a CPU profile, gzip-compressed pprof protobuf (`go tool pprof`, `pprof`) |
//! | `/debug/pprof/flamegraph?seconds=N` | the same profile as an SVG flamegraph |
//!
//! Bounded like a port that may be reached by mistake: `seconds` is 1 to
//! [`MAX_PROFILE_SECONDS`] (30 when absent, as Go), one profile at a time, at most
//! [`MAX_CONNECTIONS`] connections, 10 s to send the request head, and a connection
//! lives at most [`MAX_PROFILE_SECONDS`] + 30 s. On stop it takes no new connection,
//! ends a running profile (503), and gives the rest [`STOP_WAIT`] to finish.

mod config;
#[cfg(all(feature = "pprof", unix))]
mod profile;
pub mod proto;
mod routes;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rzero_telemetry::PrometheusHandle;
use rzero_telemetry::side::{Handler, SideLimits, SidePort};
use tokio::net::TcpListener;

pub use config::{DEFAULT_PORT, DevServerConf};
pub(crate) use rzero_telemetry::side::Stopping;

use crate::readiness::Readiness;

/// The prefix of the profile routes.
pub const PPROF_PREFIX: &str = "/debug/pprof/";

/// The longest profile a request may ask for, in seconds.
pub const MAX_PROFILE_SECONDS: u64 = 60;

/// Connections served at once; more are closed on accept.
pub const MAX_CONNECTIONS: usize = 64;

/// How long open connections get to finish once the server stops.
pub const STOP_WAIT: Duration = Duration::from_secs(1);

const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECTION_LIFETIME: Duration = Duration::from_secs(MAX_PROFILE_SECONDS + 30);

/// A running diagnostics port. Dropping it aborts it; [`stop`](Self::stop) ends it
/// gracefully.
#[derive(Debug)]
pub struct DevServer {
    port: SidePort,
}

/// The DevServer's connections (see the module doc).
const LIMITS: SideLimits = SideLimits {
    name: "DevServer",
    max_connections: MAX_CONNECTIONS,
    header_read_timeout: HEADER_READ_TIMEOUT,
    connection_lifetime: CONNECTION_LIFETIME,
    stop_wait: STOP_WAIT,
};

/// Why the diagnostics port did not start; each says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevServerError {
    /// The address could not be bound.
    #[error(
        "DevServer cannot listen on {addr}: {source}; is another process on that port? change DevServer.Port"
    )]
    Bind {
        /// `Host:Port`.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Two routes have the same path.
    #[error(
        "DevServer.MetricsPath and DevServer.HealthPath are both {0:?}: give them different paths"
    )]
    SamePath(String),
}

// === impl DevServer ===

impl DevServer {
    /// Binds `Host:Port` and serves until stopped. `metrics` renders `MetricsPath` (the
    /// telemetry guard's registry); `readiness` answers `HealthPath`.
    pub async fn start(
        conf: &DevServerConf,
        metrics: Option<PrometheusHandle>,
        readiness: Readiness,
    ) -> Result<DevServer, DevServerError> {
        if conf.enable_metrics && conf.metrics_path == conf.health_path {
            return Err(DevServerError::SamePath(conf.health_path.clone()));
        }
        let addr = format!("{}:{}", conf.host, conf.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| DevServerError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let local = listener
            .local_addr()
            .map_err(|source| DevServerError::Bind { addr, source })?;
        let routes = routes::Routes::new(conf, metrics, readiness);
        if is_loopback(&conf.host) {
            tracing::info!(addr = %local, routes = ?routes.list(), "serving diagnostics (DevServer)");
        } else {
            tracing::warn!(
                addr = %local, routes = ?routes.list(),
                "serving diagnostics (DevServer) beyond loopback: profiles and metrics are \
                 reachable from the network; set DevServer.Host to 127.0.0.1 unless that is meant"
            );
        }
        let routes = Arc::new(routes);
        let handler: Handler = Arc::new(move |req, stopping| {
            let routes = routes.clone();
            Box::pin(async move { routes.answer(req, stopping).await })
        });
        let port =
            SidePort::serve(listener, LIMITS, handler).map_err(|source| DevServerError::Bind {
                addr: local.to_string(),
                source,
            })?;
        Ok(DevServer { port })
    }

    /// The address it listens on (the real port when `Port` was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.port.local_addr()
    }

    /// Stops accepting, ends a running profile and waits at most [`STOP_WAIT`] for the
    /// connections in flight.
    pub async fn stop(self) {
        self.port.stop().await;
    }
}

/// `localhost` or a loopback address: what may be bound without a warning.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_told_apart_from_the_network() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["0.0.0.0", "::", "10.0.0.1", "example.com", ""] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
