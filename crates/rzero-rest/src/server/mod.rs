//! The gateway server: routes from the service, middleware from `RestConf`.
//!
//! ```no_run
//! use rzero_rest::{Group, RestConf, Route, Server};
//!
//! # async fn run(conf: RestConf, guard: rzero_telemetry::TelemetryGuard) -> Result<(), rzero_rest::ServeError> {
//! Server::new(conf)
//!     .telemetry(&guard)
//!     .group(Group::new().prefix("/api/v1").routes([
//!         Route::post("/orders", || async { "created" }),
//!         Route::get("/orders/:order_id", || async { "an order" }),
//!     ]))
//!     .serve() // until SIGTERM/SIGINT, then drains
//!     .await?;
//! guard.shutdown().await.ok(); // then flush telemetry
//! # Ok(()) }
//! ```
//!
//! Every route gets, outermost first: CORS, tracing, the access log, metrics, `MaxConns`,
//! shedding, then its own breaker, timeout, panic recovery, body limit, JWT (when its
//! group asks) and its group's middleware (go-zero's order in `rest/engine.go`). Each
//! can be switched off under `Middlewares:`.

mod build;
mod route;
mod serve;

use std::sync::Arc;

use opentelemetry::metrics::Meter;
use opentelemetry_sdk::trace::SdkTracer;
use rzero_resilience::breaker::BreakerConfig;
use rzero_resilience::shedder::CpuUsage;
use rzero_telemetry::{PrometheusHandle, TelemetryGuard};

pub use route::{Group, Route};
pub use serve::ServeError;

use crate::conf::RestConf;
use crate::health::Readiness;

/// A gateway being set up; [`Server::serve`] runs it.
pub struct Server {
    conf: RestConf,
    tracer: Option<SdkTracer>,
    meter: Option<Meter>,
    prometheus: Option<PrometheusHandle>,
    cpu: Option<Arc<dyn CpuUsage>>,
    breaker: BreakerConfig,
    groups: Vec<Group>,
    readiness: Readiness,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.conf.service.name)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server configured by `conf`, with no routes yet.
    pub fn new(conf: RestConf) -> Self {
        Server {
            conf,
            tracer: None,
            meter: None,
            prometheus: None,
            cpu: None,
            breaker: BreakerConfig::default(),
            groups: Vec::new(),
            readiness: Readiness::default(),
        }
    }

    /// Traces, metrics and the Prometheus endpoint from `guard` (what `main` set up).
    pub fn telemetry(self, guard: &TelemetryGuard) -> Self {
        let meter = opentelemetry::global::meter(rzero_telemetry::SCOPE);
        self.tracer(guard.tracer(rzero_telemetry::SCOPE))
            .meter(meter)
            .prometheus(guard.prometheus())
    }

    /// Server spans with `tracer`. Without one, the trace middleware is off.
    pub fn tracer(mut self, tracer: SdkTracer) -> Self {
        self.tracer = Some(tracer);
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

    /// Adds one route at the root.
    pub fn route(self, route: Route) -> Self {
        self.group(Group::new().route(route))
    }

    /// Adds a group of routes.
    pub fn group(mut self, group: Group) -> Self {
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
