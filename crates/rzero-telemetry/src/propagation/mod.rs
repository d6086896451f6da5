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
//! propagates nothing. [`crate::Telemetry::init`] installs the result ([`install`]) as the
//! global propagator, so user code that calls `opentelemetry::global::get_text_map_propagator`
//! gets the same. rzero's rest and rpc layers and `httpc` read and write headers with
//! [`extract_with_context`] and [`inject`]: with the default propagators they call rzero's W3C ones
//! directly, without the global's lock and the composite's boxed calls (about 800
//! instructions a request, measured with callgrind); with any other set they go through
//! the global. A propagator set with `opentelemetry::global::set_text_map_propagator`
//! after `init` is seen by rzero's layers only through [`install_global`].
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
pub use headers::{HeaderExtractor, HeaderInjector, TRACEPARENT, TRACESTATE};
pub use jaeger::JaegerPropagator;
pub(crate) use names::resolve;
pub use names::{DEFAULT_PROPAGATORS, PropagatorName, parse_propagators};
pub use trace_context::{TRACEPARENT_LEN, TraceContextPropagator, fields as trace_context_fields};

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::Context;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};

/// Whether the global propagator is rzero's default pair, as [`install`] left it.
static DEFAULT_INSTALLED: AtomicBool = AtomicBool::new(false);
static TRACE_CONTEXT: LazyLock<TraceContextPropagator> = LazyLock::new(TraceContextPropagator::new);
static BAGGAGE: LazyLock<BaggagePropagator> = LazyLock::new(BaggagePropagator::new);

/// Installs the propagators `names` say as the global propagator, for rzero's layers and
/// user code alike (what [`crate::Telemetry::init`] does with the resolved names).
pub fn install(names: &[PropagatorName]) {
    // Cleared first: between the two stores the layers use the global, which is right.
    DEFAULT_INSTALLED.store(false, Ordering::Release);
    opentelemetry::global::set_text_map_propagator(composite(names));
    DEFAULT_INSTALLED.store(names == DEFAULT_PROPAGATORS, Ordering::Release);
}

/// Installs a propagator of the user's own (X-Ray, a vendor's) as the global one; rzero's
/// layers use it from then on.
pub fn install_global<P>(propagator: P)
where
    P: TextMapPropagator + Send + Sync + 'static,
{
    DEFAULT_INSTALLED.store(false, Ordering::Release);
    opentelemetry::global::set_text_map_propagator(propagator);
}

/// `cx` with the caller's context from `extractor`, as the installed propagators read it.
pub fn extract_with_context(cx: &Context, extractor: &dyn Extractor) -> Context {
    if DEFAULT_INSTALLED.load(Ordering::Acquire) {
        // The composite's order: trace context, then baggage.
        let cx = TRACE_CONTEXT.extract_with_context(cx, extractor);
        BAGGAGE.extract_with_context(&cx, extractor)
    } else {
        opentelemetry::global::get_text_map_propagator(|p| p.extract_with_context(cx, extractor))
    }
}

/// [`extract_with_context`] from request headers: with the default propagators installed,
/// the trace context is read from the map directly and baggage only when the request has
/// a `baggage` field: every server layer does this on every request (measured on a request
/// without trace headers, 503 -> 359 instructions against [`HeaderExtractor`]). Any other
/// set of propagators reads through the extractor as before.
pub fn extract_from_headers(cx: &Context, headers: &http::HeaderMap) -> Context {
    if !DEFAULT_INSTALLED.load(Ordering::Acquire) {
        return extract_with_context(cx, &HeaderExtractor(headers));
    }
    let cx = trace_context::extract_headers(cx, headers);
    if headers.contains_key(headers::BAGGAGE) {
        BAGGAGE.extract_with_context(&cx, &HeaderExtractor(headers))
    } else {
        cx
    }
}

/// Writes `cx` into `injector`, as the installed propagators write it.
pub fn inject(cx: &Context, injector: &mut dyn Injector) {
    if DEFAULT_INSTALLED.load(Ordering::Acquire) {
        TRACE_CONTEXT.inject_context(cx, injector);
        BAGGAGE.inject_context(cx, injector);
    } else {
        opentelemetry::global::get_text_map_propagator(|p| p.inject_context(cx, injector));
    }
}

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
