//! Spans and the duration histogram shared by the SQL pool and the Redis client.
//!
//! Every operation is one CLIENT span, child of `opentelemetry::Context::current()`:
//! code that runs under a server span made with the `opentelemetry` API (as rzero-rest
//! and rzero-rpc do) gets its store spans under it. Code that only has a `tracing` span
//! bridged by tracing-opentelemetry should attach that span's context first
//! (`let _g = tracing::Span::current().context().attach();`). Attribute keys come from
//! the semantic conventions crate; `db.client.operation.duration` is in seconds, as the
//! conventions ask.

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::global::{self, BoxedSpan, BoxedTracer};
use opentelemetry::metrics::{Histogram, Meter};
use opentelemetry::trace::{Span, SpanKind, Status, TraceId, Tracer};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_semantic_conventions::{attribute as semconv, metric};

use crate::error::StoreError;

/// The instrumentation scope of store spans and metrics; the same name as
/// `rzero_telemetry::SCOPE`, so one filter catches every rzero signal.
pub const SCOPE: &str = "rzero";

/// Histogram buckets for `db.client.operation.duration`, in seconds, as the conventions
/// advise for it.
const BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
];

/// The tracer and the histogram store operations report to; cheap to clone.
#[derive(Clone, Debug)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tracer: BoxedTracer,
    duration: Histogram<f64>,
}

/// One operation in flight: its span, its start, and the attributes its metric point
/// carries.
pub(crate) struct Operation {
    span: BoxedSpan,
    start: Instant,
    metric_attrs: Vec<KeyValue>,
    telemetry: Telemetry,
}

// === impl Telemetry ===

impl Telemetry {
    /// Reports to the global tracer and meter providers (installed once in `main` by
    /// rzero-telemetry); a no-op until they are.
    pub fn global() -> Self {
        let scope = scope();
        let tracer = global::tracer_with_scope(scope.clone());
        let meter = global::meter_with_scope(scope);
        Self::from_parts(tracer, &meter)
    }

    /// Reports to `tracer` and to a histogram made from `meter` (tests, or a provider
    /// that is not the global one).
    pub fn new<T, S>(tracer: T, meter: &Meter) -> Self
    where
        T: Tracer<Span = S> + Send + Sync + 'static,
        S: Span + Send + Sync + 'static,
    {
        Self::from_parts(BoxedTracer::new(Box::new(tracer)), meter)
    }

    fn from_parts(tracer: BoxedTracer, meter: &Meter) -> Self {
        let duration = meter
            .f64_histogram(metric::DB_CLIENT_OPERATION_DURATION)
            .with_unit("s")
            .with_description("Duration of database client operations.")
            .with_boundaries(BUCKETS.to_vec())
            .build();
        Telemetry {
            inner: Arc::new(Inner { tracer, duration }),
        }
    }

    /// Starts a CLIENT span named `name` under the current context. `span_attrs` go on
    /// the span only (the query text); `metric_attrs` on both.
    pub(crate) fn start(
        &self,
        name: String,
        metric_attrs: Vec<KeyValue>,
        span_attrs: impl IntoIterator<Item = KeyValue>,
    ) -> Operation {
        let tracer = &self.inner.tracer;
        let mut attrs = metric_attrs.clone();
        attrs.extend(span_attrs);
        let builder = tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attrs);
        let span = tracer.build_with_context(builder, &Context::current());
        Operation {
            span,
            start: Instant::now(),
            metric_attrs,
            telemetry: self.clone(),
        }
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::global()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

// === impl Operation ===

impl Operation {
    /// Ends the span and records the duration. A not-found is an answer, not a failure:
    /// it leaves the span's status unset.
    pub(crate) fn end(mut self, error: Option<&StoreError>) -> Ended {
        let elapsed = self.start.elapsed();
        if let Some(e) = error.filter(|e| !e.is_not_found()) {
            let kind = KeyValue::new(semconv::ERROR_TYPE, e.kind().as_str());
            self.span.set_attribute(kind.clone());
            self.span.set_status(Status::error(e.to_string()));
            self.metric_attrs.push(kind);
        }
        let trace_id = self.span.span_context().trace_id();
        self.span.end();
        self.telemetry
            .inner
            .duration
            .record(elapsed.as_secs_f64(), &self.metric_attrs);
        Ended { elapsed, trace_id }
    }
}

/// What an ended operation leaves for the slow-query log (SQL's; Redis has none).
#[cfg_attr(not(feature = "sql"), allow(dead_code))]
pub(crate) struct Ended {
    /// How long the operation took.
    pub(crate) elapsed: std::time::Duration,
    /// The trace it belonged to (invalid when nothing traces).
    pub(crate) trace_id: TraceId,
}
