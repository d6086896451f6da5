//! The one lifecycle of a server, HTTP or gRPC: go-zero's graceful stop (`rest.Server.Stop`,
//! `zrpc`'s `proc.AddShutdownListener`), in this order:
//!
//! 1. the stop signal (SIGTERM, SIGINT, or a test's future) arrives;
//! 2. readiness turns false and the server's own wrap-up runs (the gRPC server leaves etcd
//!    and reports NOT_SERVING); the listener keeps accepting for `Shutdown.WrapUpTime` so
//!    load balancers and callers notice;
//! 3. the server is told to drain ([`Drain`] resolves): it stops accepting, closes idle
//!    connections and finishes what is in flight, for at most `Shutdown.WaitTime`;
//! 4. what the server started beside itself stops (the CPU sampler, the Prometheus
//!    listener, the `DevServer` port, which ends a running profile and gives its
//!    connections [`STOP_WAIT`](crate::devserver::STOP_WAIT)) and telemetry is flushed
//!    within its deadline: last, so the spans of the drained requests are in it.
//!
//! The lifecycle owns the telemetry guard when the server was given one, so both servers
//! flush the same way and `main` has nothing left to do.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use rzero_resilience::shedder::CpuSampler;
use std::net::SocketAddr;

use rzero_telemetry::{PrometheusHandle, TelemetryGuard};
use tokio::sync::oneshot;

use crate::conf::{ServiceConf, ShutdownConf};
use crate::devserver::{DevServer, DevServerConf, DevServerError};
use crate::readiness::Readiness;

/// Runs a server from start to a flushed stop; see the module docs.
#[derive(Debug)]
pub struct Lifecycle {
    name: String,
    shutdown: ShutdownConf,
    prometheus_conf: Option<rzero_telemetry::PrometheusConf>,
    prometheus: Option<PrometheusHandle>,
    dev_conf: Option<DevServerConf>,
    dev: Option<DevServer>,
    readiness: Readiness,
    guard: Option<TelemetryGuard>,
    sampler: Option<CpuSampler>,
    started: Option<rzero_telemetry::side::SidePort>,
}

/// Resolves when the server must stop accepting and drain: give it to the server's
/// graceful-shutdown hook. Also resolves if the lifecycle is dropped.
#[derive(Debug)]
pub struct Drain(oneshot::Receiver<()>);

/// What can fail before serving starts; each says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The `Prometheus` listener could not start.
    #[error("{0}; change or remove the Prometheus section")]
    Prometheus(#[source] rzero_telemetry::TelemetryError),
    /// The `DevServer` port could not start.
    #[error("{0}; or remove the DevServer section")]
    DevServer(#[source] DevServerError),
}

// === impl Lifecycle ===

impl Lifecycle {
    /// The lifecycle of the service `conf` describes.
    pub fn new(conf: &ServiceConf) -> Self {
        Lifecycle {
            name: conf.name.clone(),
            shutdown: conf.shutdown.clone(),
            prometheus_conf: conf.prometheus.clone(),
            prometheus: None,
            dev_conf: conf.dev_server.clone().filter(|c| c.enabled),
            dev: None,
            readiness: Readiness::default(),
            guard: None,
            sampler: None,
            started: None,
        }
    }

    /// Reports readiness on `readiness` instead of a flag of its own (the rest server
    /// creates its flag before the routes that serve `/ready`).
    pub fn with_readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = readiness;
        self
    }

    /// Takes the telemetry guard: flushed and shut down as the last step. Its Prometheus
    /// renderer serves the `Prometheus` section's port unless one was given.
    pub fn telemetry(&mut self, guard: TelemetryGuard) {
        if self.prometheus.is_none() {
            self.prometheus = Some(guard.prometheus());
        }
        self.guard = Some(guard);
    }

    /// Serves `handle` on the `Prometheus` section's port.
    pub fn prometheus(&mut self, handle: PrometheusHandle) {
        self.prometheus = Some(handle);
    }

    /// Stops `sampler` when the server stops (the shedder's CPU reading is the server's).
    pub fn own_sampler(&mut self, sampler: Option<CpuSampler>) {
        if let Some(s) = sampler {
            self.sampler = Some(s);
        }
    }

    /// The readiness flag this lifecycle sets.
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// The address of the `DevServer` port once [`start`](Self::start) ran (the real
    /// port when `DevServer.Port` was 0); `None` when the section is absent or disabled.
    pub fn dev_server_addr(&self) -> Option<SocketAddr> {
        self.dev.as_ref().map(DevServer::local_addr)
    }

    /// Starts what runs beside the server: the Prometheus listener when the config has a
    /// `Prometheus` section and a renderer is known, and the `DevServer` port when the
    /// config enables it. [`run`](Self::run) calls it when it has not been called; call it
    /// first to fail before binding the server.
    pub async fn start(&mut self) -> Result<(), StartError> {
        if self.started.is_some() || self.dev.is_some() {
            return Ok(());
        }
        if let (Some(conf), Some(handle)) = (&self.prometheus_conf, &self.prometheus) {
            let port = handle.serve(conf).await.map_err(StartError::Prometheus)?;
            tracing::info!(addr = %port.local_addr(), path = %conf.path, "serving Prometheus metrics");
            self.started = Some(port);
        }
        if let Some(conf) = &self.dev_conf {
            let dev = DevServer::start(conf, self.prometheus.clone(), self.readiness.clone())
                .await
                .map_err(StartError::DevServer)?;
            self.dev = Some(dev);
        }
        Ok(())
    }

    /// Runs `serve` (a server future that stops accepting and drains once its [`Drain`]
    /// resolves) until `signal`, then stops gracefully: `wrap_up` runs when the signal
    /// arrives (deregistration, NOT_SERVING), beside the `WrapUpTime` wait. Returns the
    /// server's result; an error of the telemetry flush is logged, not returned, since the
    /// requests themselves were served.
    pub async fn run<S, F, E>(
        mut self,
        serve: S,
        signal: impl Future<Output = ()>,
        wrap_up: impl Future<Output = ()>,
    ) -> Result<(), E>
    where
        S: FnOnce(Drain) -> F,
        F: Future<Output = Result<(), E>>,
        E: From<StartError>,
    {
        self.start().await?;
        let (drain_tx, drain_rx) = oneshot::channel();
        let serving = serve(Drain(drain_rx));
        tokio::pin!(serving);
        self.readiness.set(true);

        let stopped_by_signal = tokio::select! {
            result = &mut serving => return self.finish(result).await,
            () = signal => true,
        };
        debug_assert!(stopped_by_signal);
        self.readiness.set(false);
        let wrap_up_time = self.shutdown.wrap_up_time;
        tracing::info!(name = %self.name, ?wrap_up_time, "stop requested: not ready, wrapping up");
        let wrapping_up = async {
            wrap_up.await;
            tokio::time::sleep(wrap_up_time).await;
        };
        tokio::select! {
            result = &mut serving => return self.finish(result).await,
            () = wrapping_up => {}
        }

        let wait = self.shutdown.wait_time;
        tracing::info!(name = %self.name, ?wait, "listener closed; draining requests in flight");
        let _ = drain_tx.send(());
        let result = match tokio::time::timeout(wait, &mut serving).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(name = %self.name, ?wait, "requests still in flight after Shutdown.WaitTime were dropped");
                Ok(())
            }
        };
        self.finish(result).await
    }

    async fn finish<E>(mut self, result: Result<(), E>) -> Result<(), E> {
        self.readiness.set(false);
        if let Some(s) = self.sampler.take() {
            s.stop();
        }
        if let Some(port) = self.started.take() {
            port.stop().await;
        }
        if let Some(dev) = self.dev.take() {
            dev.stop().await;
        }
        if let Some(guard) = self.guard.take()
            && let Err(e) = guard.shutdown().await
        {
            tracing::warn!(name = %self.name, "telemetry was not flushed: {e}");
        }
        result
    }
}

// === impl Drain ===

impl Future for Drain {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A dropped sender (the lifecycle is gone) means drain too.
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

#[cfg(test)]
mod tests;
