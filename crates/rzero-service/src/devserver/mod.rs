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

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rzero_telemetry::PrometheusHandle;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use config::{DEFAULT_PORT, DevServerConf};

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
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

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

/// Fires once the server stops: what a running profile waits on besides its timer.
#[derive(Clone, Debug)]
pub(crate) struct Stopping(watch::Receiver<bool>);

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
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(serve(listener, Arc::new(routes), Stopping(stopping)));
        Ok(DevServer {
            addr: local,
            stop,
            task: Some(task),
        })
    }

    /// The address it listens on (the real port when `Port` was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, ends a running profile and waits at most [`STOP_WAIT`] for the
    /// connections in flight.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            // The server task itself bounds its wait; this only reaps it.
            let _ = task.await;
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

// === impl Stopping ===

impl Stopping {
    /// Resolves once the server stops (or is gone).
    pub(crate) async fn wait(mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
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

async fn serve(listener: TcpListener, routes: Arc<routes::Routes>, stopping: Stopping) {
    let mut conns = JoinSet::new();
    let mut pause = Duration::from_millis(5);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    pause = Duration::from_millis(5);
                    if conns.len() >= MAX_CONNECTIONS {
                        tracing::debug!("DevServer: {MAX_CONNECTIONS} connections open; closing a new one");
                        continue;
                    }
                    conns.spawn(connection(stream, routes.clone(), stopping.clone()));
                }
                Err(e) => {
                    // Out of file descriptors, most often: retry, do not end the port.
                    tracing::warn!(error = %e, ?pause, "DevServer: accept failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            () = stopping.clone().wait() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(STOP_WAIT, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    // Dropping the set aborts what is left.
}

async fn connection(stream: TcpStream, routes: Arc<routes::Routes>, stopping: Stopping) {
    let service = {
        let stopping = stopping.clone();
        service_fn(move |req| {
            let (routes, stopping) = (routes.clone(), stopping.clone());
            async move { Ok::<_, std::convert::Infallible>(routes.answer(req, stopping).await) }
        })
    };
    let conn = http1::Builder::new()
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = &mut conn => return,
        () = stopping.wait() => {}
        // A client that holds a connection this long is stuck or hostile.
        () = tokio::time::sleep(CONNECTION_LIFETIME) => return,
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
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
