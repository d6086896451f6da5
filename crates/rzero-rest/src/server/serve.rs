//! Running a server: bind, serve, and stop the way go-zero does on SIGTERM. `/ready`
//! turns false at once, the listener keeps accepting for `Shutdown.WrapUpTime` so load
//! balancers notice, then it closes, idle keep-alive connections are closed and in-flight
//! requests get `Shutdown.WaitTime` to finish. `serve` returns then, and `main` flushes
//! telemetry by shutting its guard down.

use std::future::Future;
use std::net::SocketAddr;

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
    /// Serving failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

impl Server {
    /// Binds `Host:Port` and serves until SIGTERM or SIGINT, then drains.
    pub async fn serve(self) -> Result<(), ServeError> {
        let addr = format!("{}:{}", self.conf.host, self.conf.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        self.serve_on(listener, rzero_telemetry::shutdown_signal())
            .await
    }

    /// Serves on `listener` until `shutdown` completes, then drains (tests pass their
    /// own listener and signal).
    pub async fn serve_on(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let built = self.build()?;
        let local = listener.local_addr()?;
        let mut prometheus_task = None;
        if let (Some(conf), Some(handle)) = (&self.conf.prometheus, &self.prometheus) {
            let (addr, task) = handle
                .serve(conf)
                .await
                .map_err(|e| ServeError::Config(e.to_string()))?;
            tracing::info!(%addr, path = %conf.path, "serving Prometheus metrics");
            prometheus_task = Some(task);
        }
        let readiness = self.readiness.clone();
        let shutdown_conf = self.conf.shutdown.clone();
        let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
        let signal = {
            let readiness = readiness.clone();
            let wrap_up = shutdown_conf.wrap_up_time;
            async move {
                shutdown.await;
                readiness.set(false);
                tracing::info!(?wrap_up, "stop requested: /ready is now false");
                tokio::time::sleep(wrap_up).await;
                tracing::info!("listener closed; draining in-flight requests");
                let _ = drain_tx.send(());
            }
        };
        readiness.set(true);
        tracing::info!(addr = %local, name = %self.conf.service.name, "serving HTTP");
        let app = built
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        // TCP_NODELAY: an answer written in two parts must not wait for a delayed ACK.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serving = axum::serve(listener, app).with_graceful_shutdown(signal);
        let wait = shutdown_conf.wait_time;
        let deadline = async move {
            if drain_rx.await.is_ok() {
                tokio::time::sleep(wait).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let result = tokio::select! {
            r = serving.into_future() => r.map_err(ServeError::from),
            () = deadline => {
                tracing::warn!(?wait, "requests still in flight after Shutdown.WaitTime; dropping them");
                Ok(())
            }
        };
        if let Some(s) = built.sampler {
            s.stop();
        }
        if let Some(task) = prometheus_task {
            task.abort();
        }
        readiness.set(false);
        result
    }
}
