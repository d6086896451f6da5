//! rzero-telemetry: one call from a service's config to OpenTelemetry traces, metrics and
//! logs, exported over OTLP (gRPC or HTTP/protobuf), with W3C TraceContext + Baggage
//! propagation, a resource built once, go-zero's and the guide's samplers, the guide's
//! batch defaults and a guard that flushes on shutdown.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use rzero_telemetry::{LogConf, Telemetry, TelemetryConf};
//!
//! let conf = TelemetryConf { endpoint: "localhost:4317".into(), ..Default::default() };
//! let guard = Telemetry::new("order-api", env!("CARGO_PKG_VERSION"))
//!     .conf(&conf)
//!     .log(&LogConf::default())
//!     .init()?;
//! tracing::info!("up");           // a log line with trace ids when inside a span
//! guard.shutdown().await?;        // flushes within the deadline
//! # Ok(()) }
//! ```
//!
//! Map of the crate:
//! - [`config`]: the YAML section (`OpenTelemetry:` / `Telemetry:`, `Log:`, `Prometheus:`);
//! - [`settings`]: how the `OTEL_*` environment variables override it;
//! - [`sampler`]: the rule-based sampler (the guide's DynamicSampler);
//! - [`metrics`]: the OTLP + Prometheus meter provider;
//! - [`propagation`]: W3C Trace Context Level 2 and Baggage done strictly, B3, Jaeger,
//!   `OTEL_PROPAGATORS`;
//! - `logs`: stdout lines and OTLP log records with trace ids;
//! - [`BatchProcessor`]: rzero's span pipeline (sharded buffers, one export thread, OTLP
//!   written straight from the spans), in place of the SDK's batch span processor;
//! - [`guard`]: shutdown and signals;
//! - [`step`]: one step of a request as a span of its own, failures recorded on it;
//! - [`tls`]: the process's one crypto provider (ring), PEM files, OTLP over TLS.
//!
//! Spans made with the `opentelemetry` API and with `tracing` (`#[instrument]`) land in the
//! same trace: the `tracing` bridge activates the OpenTelemetry context of an entered span
//! and parents new spans on the current OpenTelemetry context. rzero's own layers use the
//! SDK tracer directly ([`TelemetryGuard::tracer`], [`TelemetryGuard::meter`]), which costs a fraction of the bridge.
#![warn(missing_docs)]

pub mod config;
mod error;
mod exporter;
pub mod guard;
mod logs;
pub mod metrics;
pub mod propagation;
mod resource;
pub mod sampler;
pub mod settings;
pub mod side;
mod step;
pub mod tls;

use std::sync::atomic::AtomicBool;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use config::{LogConf, LogEncoding, PrometheusConf, Protocol, SampleRule, TelemetryConf};
pub use error::TelemetryError;
pub use exporter::spans::BatchProcessor;
pub use guard::{ShutdownError, TelemetryGuard, shutdown_signal, start_span};
pub use logs::current_trace_ids;
pub use metrics::PrometheusHandle;
pub use settings::Settings;
pub use step::step;

/// The tracer [`TelemetryGuard::tracer`] gives, for service contexts that keep one.
pub use opentelemetry_sdk::trace::SdkTracer;

/// The instrumentation scope of a service's spans and metrics: rzero's layers, stores and
/// the service's own logic (through [`TelemetryGuard::tracer`] and
/// [`TelemetryGuard::meter`]).
pub const SCOPE: &str = "rzero";

/// The scope every signal of rzero and of the service's own code is reported under.
fn scope() -> opentelemetry::InstrumentationScope {
    opentelemetry::InstrumentationScope::builder(SCOPE)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// Builder for the one call that starts telemetry. See the crate docs.
#[derive(Debug)]
pub struct Telemetry {
    service_name: String,
    version: String,
    conf: TelemetryConf,
    log: LogConf,
    env: Option<std::collections::HashMap<String, String>>,
    install_subscriber: bool,
}

impl Telemetry {
    /// Telemetry for the service `name` (go-zero's `Name`) at `version`
    /// (`env!("CARGO_PKG_VERSION")` of the binary).
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Telemetry {
            service_name: name.into(),
            version: version.into(),
            conf: TelemetryConf::default(),
            log: LogConf::default(),
            env: None,
            install_subscriber: true,
        }
    }

    /// The `OpenTelemetry:` / `Telemetry:` section.
    pub fn conf(mut self, conf: &TelemetryConf) -> Self {
        self.conf = conf.clone();
        self
    }

    /// The `Log:` section.
    pub fn log(mut self, log: &LogConf) -> Self {
        self.log = log.clone();
        self
    }

    /// Reads `OTEL_*` and `RUST_LOG` from this map instead of the process environment.
    pub fn env(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.env = Some(vars.into_iter().collect());
        self
    }

    /// Skips installing the global `tracing` subscriber (for tests that install their own,
    /// or applications that compose their own from [`Telemetry::layers`]-like parts).
    pub fn without_subscriber(mut self) -> Self {
        self.install_subscriber = false;
        self
    }

    /// Starts everything and installs the global tracer provider, meter provider,
    /// propagator and `tracing` subscriber. Call once, in `main`, inside a Tokio runtime
    /// (the gRPC exporter needs one).
    pub fn init(self) -> Result<TelemetryGuard, TelemetryError> {
        let lookup = |k: &str| match &self.env {
            Some(map) => map.get(k).cloned(),
            None => std::env::var(k).ok(),
        };
        let settings = Settings::resolve(&self.conf, &self.service_name, lookup)?;
        // Before any exporter or client builds a TLS config (see `tls`).
        tls::install_crypto_provider();
        // rzero's strict W3C propagators (or what OTEL_PROPAGATORS names), for rzero's
        // layers and for user code alike.
        propagation::install(&settings.propagators);

        let resource = resource::build(&settings, &self.version);
        let (meter_provider, prometheus) = metrics::provider(&settings, resource.clone())?;
        let meter_provider = (!settings.disabled).then_some(meter_provider);
        if let Some(m) = &meter_provider {
            // Before the tracer provider: its batch processor counts dropped spans on the
            // global meter it finds at construction (as the SDK's does).
            opentelemetry::global::set_meter_provider(m.clone());
        }

        let tracer_provider = if settings.disabled {
            None
        } else {
            let mut builder = SdkTracerProvider::builder()
                .with_resource(resource.clone())
                .with_sampler(sampler::build(&settings.sampler));
            if let Some(target) = &settings.traces {
                // rzero's own batching processor, not the SDK's: see `exporter::spans`.
                let processor = exporter::spans::BatchProcessor::new(target, &settings.batch)?;
                builder = builder.with_span_processor(processor);
            }
            let provider = builder.build();
            opentelemetry::global::set_tracer_provider(provider.clone());
            Some(provider)
        };

        let logger_provider = match (&settings.logs, settings.disabled) {
            (Some(target), false) => Some(
                SdkLoggerProvider::builder()
                    .with_resource(resource)
                    .with_batch_exporter(exporter::logs(target)?)
                    .build(),
            ),
            _ => None,
        };

        let mut warnings = settings.warnings.clone();
        if self.install_subscriber {
            let rust_log = lookup("RUST_LOG").filter(|v| !v.trim().is_empty());
            let stdout = self
                .log
                .stdout
                .then(|| logs::StdoutLayer::new(self.log.encoding));
            let otlp_logs = logger_provider
                .as_ref()
                .map(|p| logs::ExportLoopGuard(OpenTelemetryTracingBridge::new(p)));
            let bridge = tracer_provider.as_ref().map(|p| {
                tracing_opentelemetry::layer()
                    .with_tracer(p.tracer_with_scope(scope()))
                    .with_context_activation(true)
            });
            let (filter, warning) = logs::filter(&self.log, rust_log);
            warnings.extend(warning);
            tracing_subscriber::registry()
                .with(filter)
                .with(stdout)
                .with(otlp_logs)
                .with(bridge)
                .try_init()
                .map_err(|_| TelemetryError::SubscriberInstalled)?;
        }
        for warning in &warnings {
            tracing::warn!(target: "rzero_telemetry", "{warning}");
        }

        let scope = scope();
        let tracer = match &tracer_provider {
            Some(p) => p.tracer_with_scope(scope.clone()),
            None => SdkTracerProvider::builder()
                .build()
                .tracer_with_scope(scope.clone()),
        };
        let meter = match &meter_provider {
            Some(m) => m.meter_with_scope(scope),
            // Nothing was installed: the global provider is the no-op one.
            None => opentelemetry::global::meter_with_scope(scope),
        };
        Ok(TelemetryGuard {
            tracer,
            meter,
            tracer_provider,
            meter_provider,
            logger_provider,
            prometheus,
            defer_span_attributes: settings.sampler.defer_attributes(),
            service_name: settings.service_name,
            deadline: guard::DEFAULT_SHUTDOWN_DEADLINE,
            done: AtomicBool::new(false),
        })
    }
}
