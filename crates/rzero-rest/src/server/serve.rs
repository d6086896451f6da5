//! Running a server: bind, serve, and stop the way go-zero does on SIGTERM, with the
//! [`Lifecycle`] the gRPC server shares: `/ready` turns false at once, the listener keeps
//! accepting for `Shutdown.WrapUpTime` so load balancers notice, then it closes, idle
//! keep-alive connections are closed and in-flight requests get `Shutdown.WaitTime` to
//! finish; then the CPU sampler and the Prometheus listener stop and telemetry is flushed.

use std::future::Future;
use std::net::SocketAddr;

use rzero_service::{Lifecycle, StartError};
use tokio::net::TcpListener;

use super::Server;

/// Why a server did not start or stopped badly; each says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}; is another process on that port? change Host/Port")]
    Bind {
        /// `Host:Port`.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A route cannot be registered.
    #[error("{0}")]
    Route(String),
    /// A config value cannot be used.
    #[error("{0}")]
    Config(String),
    /// What runs beside the server could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// Serving failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A server whose socket is bound: its address is known (the real port when `Port` was
/// 0); requests are taken once [`serve`](Self::serve) runs. The rpc server's
/// `BoundServer` has the same shape, so a `main` reads the same for both.
#[derive(Debug)]
pub struct BoundServer<S = ()> {
    server: Server<S>,
    listener: TcpListener,
    addr: SocketAddr,
}

impl<S: Clone + Send + Sync + 'static> BoundServer<S> {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then drains and flushes (see the module docs).
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.server.serve_on(self.listener, shutdown).await
    }
}

impl<S: Clone + Send + Sync + 'static> Server<S> {
    /// Binds `Host:Port` and serves until SIGTERM or SIGINT, then drains and flushes.
    pub async fn serve(self) -> Result<(), ServeError> {
        self.bind()
            .await?
            .serve(rzero_telemetry::shutdown_signal())
            .await
    }

    /// Binds `Host:Port` without serving yet.
    pub async fn bind(self) -> Result<BoundServer<S>, ServeError> {
        let addr = format!("{}:{}", self.conf.host, self.conf.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener.local_addr()?;
        Ok(BoundServer {
            server: self,
            listener,
            addr,
        })
    }

    /// Serves on `listener` until `shutdown` completes, then drains (tests pass their
    /// own listener and signal).
    pub async fn serve_on(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        // The TLS files first: a bad one must fail the start before anything runs.
        let tls =
            crate::tls::acceptor(&self.conf).map_err(|e| ServeError::Config(e.to_string()))?;
        let built = self.build()?;
        let local = listener.local_addr()?;
        let mut life = Lifecycle::new(&self.conf.service).with_readiness(self.readiness.clone());
        life.own_sampler(built.sampler);
        if let Some(handle) = self.prometheus.take() {
            life.prometheus(handle);
        }
        if let Some(guard) = self.guard.take() {
            life.telemetry(guard);
        }
        life.start().await?;
        let scheme = if tls.is_some() { "HTTPS" } else { "HTTP" };
        tracing::info!(addr = %local, name = %self.conf.service.name, "serving {scheme}");
        let router = built.router;
        let mut limits = super::conn::ConnLimits::from_conf(&self.conf, built.refusals);
        limits.tls = tls;
        let sse_drain = built.sse_drain;
        life.run(
            |drain| async move {
                // Open SSE streams end as the drain starts: hyper's graceful shutdown
                // waits for every answer's body, and a stream's would never end.
                let drain = async move {
                    drain.await;
                    sse_drain.drain();
                };
                super::conn::serve(listener, router, limits, drain)
                    .await
                    .map_err(ServeError::from)
            },
            shutdown,
            async {},
        )
        .await
    }
}
