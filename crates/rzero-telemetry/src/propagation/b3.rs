//! B3 (Zipkin) propagation, single header (`b3`) or multiple (`x-b3-*`): the maintained
//! propagator of `opentelemetry-zipkin`, with one flag remapped.
//!
//! That propagator marks a "deferred" sampling decision (no sampled field) with trace
//! flag `0x02`, which W3C Trace Context Level 2 calls "random". Unmapped, a B3 caller
//! without a sampling field would make rzero send `traceparent` with the random flag,
//! and a W3C caller's random flag would make rzero send B3 without its sampling field.
//! So `0x02` is cleared on the way in (deferred then reads as not sampled, what a
//! parent-based sampler makes of it anyway) and on the way out to B3.
//!
//! `opentelemetry-zipkin` is marked deprecated as a whole since 0.32 because Zipkin now
//! takes OTLP; the deprecation is about its exporter. Its propagator is still released in
//! step with the SDK (0.33 here) and is the one the OpenTelemetry Rust project keeps, so
//! it is used, with the warning allowed in this module only.
#![allow(deprecated)]

use opentelemetry::Context;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapPropagator, text_map_propagator::FieldIter,
};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry_zipkin::{B3Encoding, Propagator};

use super::trace_context::RANDOM;

/// Extracts B3 (single or multiple headers) and injects the configured encoding.
#[derive(Clone, Debug)]
pub struct B3Propagator {
    inner: Propagator,
}

impl B3Propagator {
    /// Injects the single `b3` header (`OTEL_PROPAGATORS=b3`).
    pub fn single() -> Self {
        B3Propagator {
            inner: Propagator::with_encoding(B3Encoding::SingleHeader),
        }
    }

    /// Injects the `x-b3-*` headers (`OTEL_PROPAGATORS=b3multi`).
    pub fn multi() -> Self {
        B3Propagator {
            inner: Propagator::with_encoding(B3Encoding::MultipleHeader),
        }
    }
}

fn without_random(sc: &SpanContext) -> SpanContext {
    SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags() & !RANDOM,
        sc.is_remote(),
        sc.trace_state().clone(),
    )
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if sc.trace_flags() & RANDOM == RANDOM {
            let cx = Context::new().with_remote_span_context(without_random(sc));
            self.inner.inject_context(&cx, injector);
        } else {
            self.inner.inject_context(cx, injector);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let found = self.inner.extract_with_context(&Context::new(), extractor);
        let span = found.span();
        let sc = span.span_context();
        if sc.is_valid() {
            cx.with_remote_span_context(without_random(sc))
        } else {
            cx.clone()
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        self.inner.fields()
    }
}
