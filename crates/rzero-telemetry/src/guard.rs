//! The guard that owns the providers and flushes them on the way out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use opentelemetry::metrics::Meter;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::metrics::PrometheusHandle;

/// How long shutdown waits for buffered telemetry by default.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// Keeps telemetry running; flushes and stops it on [`shutdown`](Self::shutdown) or drop.
///
/// Hold it in `main` for the life of the process. In async code prefer
/// `guard.shutdown().await`: the blocking flush then runs off the runtime's threads, which
/// a gRPC exporter needs to make progress.
#[derive(Debug)]
pub struct TelemetryGuard {
    pub(crate) tracer_provider: Option<SdkTracerProvider>,
    pub(crate) meter_provider: Option<SdkMeterProvider>,
    pub(crate) logger_provider: Option<SdkLoggerProvider>,
    pub(crate) prometheus: PrometheusHandle,
    /// The one tracer and meter of the service's instrumentation scope ([`crate::SCOPE`]):
    /// rzero's layers, its stores and the service's own logic share them, so one service
    /// reports under one scope.
    pub(crate) tracer: SdkTracer,
    pub(crate) meter: Meter,
    pub(crate) service_name: String,
    /// See [`Self::defer_span_attributes`].
    pub(crate) defer_span_attributes: bool,
    pub(crate) deadline: Duration,
    pub(crate) done: AtomicBool,
}

/// What a shutdown did not manage within its deadline.
#[derive(Debug, thiserror::Error)]
#[error("telemetry shutdown: {0}")]
pub struct ShutdownError(String);

// === impl TelemetryGuard ===

impl TelemetryGuard {
    /// The tracer of this service: the zero-allocation SDK tracer that rzero's own layers
    /// use (the global tracer boxes every span). Its scope is [`crate::SCOPE`] at rzero's
    /// version; a service's own spans (its logic steps) use it too, so that one service
    /// has one instrumentation scope. Cheap to clone.
    pub fn tracer(&self) -> SdkTracer {
        self.tracer.clone()
    }

    /// Whether rzero's layers build a span's attributes only once the span is sampled:
    /// when this service's sampler does not read them (a `Rules` sampler does) and drops
    /// most spans (`SamplerSpec::defer_attributes`), which saves their cost on every
    /// request that is not sampled.
    pub fn defer_span_attributes(&self) -> bool {
        self.defer_span_attributes
    }

    /// The meter of this service, on the same scope as [`tracer`](Self::tracer): what
    /// rzero's metrics layers, stores and clients record on. A no-op meter when telemetry
    /// is disabled.
    pub fn meter(&self) -> Meter {
        self.meter.clone()
    }

    /// The Prometheus text renderer of this guard's meter provider.
    pub fn prometheus(&self) -> PrometheusHandle {
        self.prometheus.clone()
    }

    /// `service.name` as resolved from config and environment.
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// Changes how long [`shutdown`](Self::shutdown) and drop wait.
    pub fn set_shutdown_deadline(&mut self, deadline: Duration) {
        self.deadline = deadline;
    }

    /// Exports everything buffered now, without stopping (bounded by the deadline).
    pub async fn flush(&self) -> Result<(), ShutdownError> {
        let (t, m, l) = self.providers();
        run_bounded(self.deadline, move || {
            let mut errors = Vec::new();
            if let Some(t) = t {
                note(&mut errors, "traces", t.force_flush());
            }
            if let Some(m) = m {
                note(&mut errors, "metrics", m.force_flush());
            }
            if let Some(l) = l {
                note(&mut errors, "logs", l.force_flush());
            }
            errors
        })
        .await
    }

    /// Flushes and stops all signals within the deadline. Telemetry is off afterwards.
    pub async fn shutdown(self) -> Result<(), ShutdownError> {
        if self.done.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let (t, m, l) = self.providers();
        let deadline = self.deadline;
        run_bounded(deadline, move || shutdown_all(t, m, l, deadline)).await
    }

    fn providers(
        &self,
    ) -> (
        Option<SdkTracerProvider>,
        Option<SdkMeterProvider>,
        Option<SdkLoggerProvider>,
    ) {
        (
            self.tracer_provider.clone(),
            self.meter_provider.clone(),
            self.logger_provider.clone(),
        )
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if self.done.swap(true, Ordering::SeqCst) {
            return;
        }
        let (t, m, l) = self.providers();
        let deadline = self.deadline;
        let (tx, rx) = mpsc::channel();
        // A thread of its own: a provider stuck on a dead collector must not hold the
        // process past the deadline.
        let spawned = std::thread::Builder::new()
            .name("rzero-telemetry-shutdown".into())
            .spawn(move || {
                let _ = tx.send(shutdown_all(t, m, l, deadline));
            });
        if spawned.is_ok() {
            let _ = rx.recv_timeout(deadline + Duration::from_millis(100));
        }
    }
}

fn shutdown_all(
    t: Option<SdkTracerProvider>,
    m: Option<SdkMeterProvider>,
    l: Option<SdkLoggerProvider>,
    deadline: Duration,
) -> Vec<String> {
    let start = Instant::now();
    let left = || {
        deadline
            .saturating_sub(start.elapsed())
            .max(Duration::from_millis(1))
    };
    let mut errors = Vec::new();
    // Traces first: they are what a person looks for after an incident.
    if let Some(t) = t {
        note(&mut errors, "traces", t.shutdown_with_timeout(left()));
    }
    if let Some(l) = l {
        note(&mut errors, "logs", l.shutdown_with_timeout(left()));
    }
    if let Some(m) = m {
        note(&mut errors, "metrics", m.shutdown_with_timeout(left()));
    }
    errors
}

fn note(errors: &mut Vec<String>, signal: &str, result: opentelemetry_sdk::error::OTelSdkResult) {
    if let Err(e) = result {
        errors.push(format!("{signal}: {e}"));
    }
}

/// Runs blocking provider calls on a blocking thread, waiting at most `deadline`.
async fn run_bounded(
    deadline: Duration,
    work: impl FnOnce() -> Vec<String> + Send + 'static,
) -> Result<(), ShutdownError> {
    let task = tokio::task::spawn_blocking(work);
    match tokio::time::timeout(deadline + Duration::from_millis(100), task).await {
        Ok(Ok(errors)) if errors.is_empty() => Ok(()),
        Ok(Ok(errors)) => Err(ShutdownError(errors.join("; "))),
        Ok(Err(join)) => Err(ShutdownError(format!("the flush task failed: {join}"))),
        Err(_) => Err(ShutdownError(format!(
            "not finished after {deadline:?}; is the collector reachable?"
        ))),
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C): what servers await before draining.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Starts a span from `builder` under `parent`, with the attributes `attributes` makes:
/// given at the start, or, when `defer` (a guard's [`TelemetryGuard::defer_span_attributes`]:
/// the sampler reads no attributes and drops most spans), set only once the span is
/// sampled, so an unsampled request builds none. The one way rzero's rest and rpc layers
/// start their spans.
#[inline]
pub fn start_span(
    tracer: &SdkTracer,
    builder: opentelemetry::trace::SpanBuilder,
    parent: &opentelemetry::Context,
    defer: bool,
    attributes: impl FnOnce() -> Vec<opentelemetry::KeyValue>,
) -> opentelemetry_sdk::trace::Span {
    use opentelemetry::trace::{Span as _, Tracer as _};
    if !defer {
        return tracer.build_with_context(builder.with_attributes(attributes()), parent);
    }
    let mut span = tracer.build_with_context(builder, parent);
    if span.is_recording() {
        span.set_attributes(attributes());
    }
    span
}
