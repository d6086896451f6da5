//! The gateway server: routes from the service, middleware from `RestConf`.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use axum::extract::State;
//! use rzero_rest::{Group, RestConf, Route, Server};
//!
//! struct ServiceContext { greeting: String }
//!
//! async fn hello(State(ctx): State<Arc<ServiceContext>>) -> String {
//!     ctx.greeting.clone()
//! }
//!
//! # async fn run(conf: RestConf) -> Result<(), Box<dyn std::error::Error>> {
//! let guard = conf.service.init_telemetry(env!("CARGO_PKG_VERSION"))?;
//! let ctx = Arc::new(ServiceContext { greeting: "hi".into() });
//! Server::with_state(conf, ctx)
//!     .telemetry(guard) // the server flushes it as the last step of its stop
//!     .group(Group::new().prefix("/api/v1").routes([
//!         Route::get("/hello", hello),
//!         Route::get("/orders/:order_id", || async { "an order" }),
//!     ]))
//!     .serve() // until SIGTERM/SIGINT, then drains and flushes telemetry
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Every route gets, outermost first: CORS, tracing, the access log, metrics, `MaxConns`,
//! shedding, then its own breaker, timeout, panic recovery, body limit, JWT (when its
//! group asks) and its group's middleware (go-zero's order in `rest/engine.go`). Each
//! can be switched off under `Middlewares:`. A request no route matches (404) or whose
//! method a route does not serve (405) goes through tracing, the access log and metrics
//! too, without an `http.route`.
//!
//! An SSE route ([`Group::sse`], `@server(sse: true)`) has no timeout; the
//! [`crate::sse`] layer takes its place, and the drain ends its open streams.
//!
//! `/health` and `/ready` are the server's own (see [`crate::health`]); a route declared
//! at either path is an error when the server is built, never a panic and never a silent
//! takeover of the probe.
//!
//! The stop is the [`rzero_service::Lifecycle`] the gRPC server runs as well.

mod build;
mod conn;
mod endpoint;
mod route;
mod serve;
mod watch;

use std::sync::Arc;

use opentelemetry::metrics::Meter;
use opentelemetry_sdk::trace::SdkTracer;
use rzero_resilience::breaker::BreakerConfig;
use rzero_resilience::shedder::CpuUsage;
use rzero_service::Readiness;
use rzero_telemetry::{PrometheusHandle, TelemetryGuard};

pub(crate) use route::axum_path;
pub use route::{Group, Route};
pub use serve::{BoundServer, ServeError};

use crate::conf::RestConf;

/// A gateway being set up; [`Server::serve`] runs it. `S` is the state its handlers
/// share (`State<S>`), `()` for none.
pub struct Server<S = ()> {
    conf: RestConf,
    state: S,
    tracer: Option<SdkTracer>,
    /// Span attributes only for sampled spans (`TelemetryGuard::defer_span_attributes`;
    /// never for a tracer given alone, whose sampler is unknown).
    defer_span_attributes: bool,
    meter: Option<Meter>,
    prometheus: Option<PrometheusHandle>,
    guard: Option<TelemetryGuard>,
    cpu: Option<Arc<dyn CpuUsage>>,
    breaker: BreakerConfig,
    groups: Vec<route::Group<S>>,
    readiness: Readiness,
    limit_store: Option<rzero_stores::redis::RedisStore>,
}

impl<S> std::fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.conf.service.name)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server configured by `conf`, with no routes yet and no shared state.
    pub fn new(conf: RestConf) -> Self {
        Server::with_state(conf, ())
    }
}

impl<S: Clone + Send + Sync + 'static> Server<S> {
    /// A server whose handlers share `state` (the service context): a handler takes it
    /// as axum's `State<S>`.
    pub fn with_state(conf: RestConf, state: S) -> Self {
        Server {
            conf,
            state,
            tracer: None,
            defer_span_attributes: false,
            meter: None,
            prometheus: None,
            guard: None,
            cpu: None,
            breaker: BreakerConfig::default(),
            groups: Vec::new(),
            readiness: Readiness::default(),
            limit_store: None,
        }
    }

    /// Takes the telemetry guard `main` started: its tracer and meter trace and measure
    /// every request, its Prometheus renderer serves the `Prometheus` section, and the
    /// server flushes it as the last step of a graceful stop.
    pub fn telemetry(mut self, guard: TelemetryGuard) -> Self {
        self.tracer = Some(guard.tracer());
        self.defer_span_attributes = guard.defer_span_attributes();
        self.meter = Some(guard.meter());
        self.prometheus = Some(guard.prometheus());
        self.guard = Some(guard);
        self
    }

    /// Server spans with `tracer`. Without one, the trace middleware is off.
    pub fn tracer(mut self, tracer: SdkTracer) -> Self {
        self.tracer = Some(tracer);
        self.defer_span_attributes = false;
        self
    }

    /// Metrics on `meter`. Without one, the metrics middleware is off.
    pub fn meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Serves `handle` on the `Prometheus` section's port when the config has one.
    pub fn prometheus(mut self, handle: PrometheusHandle) -> Self {
        self.prometheus = Some(handle);
        self
    }

    /// The CPU reading the shedder uses, instead of sampling this process's cgroup (tests
    /// force a reading with `FixedCpu`).
    pub fn cpu(mut self, cpu: impl CpuUsage) -> Self {
        self.cpu = Some(Arc::new(cpu));
        self
    }

    /// The settings of every route's breaker (default: go-zero's, a 10 s window).
    pub fn breaker_config(mut self, config: BreakerConfig) -> Self {
        self.breaker = config;
        self
    }

    /// The Redis that `RateLimit` rules of kind `token` and `period` use, instead of a
    /// client made from `RateLimit.Redis` (share the service's own client).
    pub fn rate_limit_store(mut self, store: rzero_stores::redis::RedisStore) -> Self {
        self.limit_store = Some(store);
        self
    }

    /// Adds one route at the root.
    pub fn route(self, route: Route<S>) -> Self {
        self.group(Group::new().route(route))
    }

    /// Adds a group of routes.
    pub fn group(mut self, group: Group<S>) -> Self {
        self.groups.push(group);
        self
    }

    /// The readiness flag `/ready` reports; [`Server::serve`] sets it.
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// The config.
    pub fn conf(&self) -> &RestConf {
        &self.conf
    }
}
