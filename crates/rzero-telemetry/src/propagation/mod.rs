//! Context propagation: what rzero reads from and writes into request headers (HTTP
//! headers and gRPC metadata alike).
//!
//! - [`TraceContextPropagator`]: W3C Trace Context Level 2 (`traceparent`, `tracestate`),
//!   strict, with repeated fields read as the spec says; rzero's own because the SDK's is
//!   lax (its module doc lists the cases).
//! - [`BaggagePropagator`]: W3C Baggage with its limits (180 members, 4096 bytes a member,
//!   8192 bytes in all): baggage over a limit is dropped, never forwarded.
//! - `b3`, `b3multi`: the B3 propagator of the maintained `opentelemetry-zipkin` crate,
//!   with one flag remapped so B3's "deferred" does not read as W3C's "random".
//! - `jaeger`: `uber-trace-id` and `uberctx-*`, written here (see [`JaegerPropagator`]).
//!
//! Which ones run is `OTEL_PROPAGATORS` (the SDK environment spec's names), else the
//! `Propagators:` key of the telemetry section, else `tracecontext,baggage`; `none`
//! propagates nothing. [`crate::Telemetry::init`] installs the result as the global
//! propagator, which rzero's rest and rpc layers and `httpc` use, so user code that calls
//! `opentelemetry::global::get_text_map_propagator` gets the same.
//!
//! SDK types stay at the boundary: what is extracted is a `SpanContext` (with a
//! `TraceState`) and a `Baggage` in an `opentelemetry::Context`.

mod b3;
mod baggage;
mod headers;
mod jaeger;
mod names;
mod trace_context;
mod tracestate;

pub use b3::B3Propagator;
pub use baggage::{BaggagePropagator, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, MAX_MEMBER_BYTES};
pub use headers::{HeaderExtractor, HeaderInjector};
pub use jaeger::JaegerPropagator;
pub(crate) use names::resolve;
pub use names::{DEFAULT_PROPAGATORS, PropagatorName, parse_propagators};
pub use trace_context::TraceContextPropagator;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};

/// The propagators `names` say, in that order (later ones win on extraction when two
/// formats carry a trace). No names, or `none`, gives one that does nothing.
pub fn composite(names: &[PropagatorName]) -> TextMapCompositePropagator {
    let mut all: Vec<Box<dyn TextMapPropagator + Send + Sync>> = Vec::new();
    if !names.contains(&PropagatorName::None) {
        for name in names {
            all.push(match name {
                PropagatorName::TraceContext => Box::new(TraceContextPropagator::new()),
                PropagatorName::Baggage => Box::new(BaggagePropagator::new()),
                PropagatorName::B3 => Box::new(B3Propagator::single()),
                PropagatorName::B3Multi => Box::new(B3Propagator::multi()),
                PropagatorName::Jaeger => Box::new(JaegerPropagator::new()),
                PropagatorName::None => continue,
            });
        }
    }
    TextMapCompositePropagator::new(all)
}

#[cfg(test)]
mod tests;
