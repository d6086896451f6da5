//! Property tests of the propagators' parsers (the fast pass beside `fuzz/`): any
//! `traceparent`, `tracestate`, `baggage`, b3 or jaeger header extracts without a panic,
//! and a valid `traceparent` round-trips.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use proptest::prelude::*;
use rzero_telemetry::propagation::{HeaderExtractor, HeaderInjector, PropagatorName, composite};

fn all() -> opentelemetry::propagation::TextMapCompositePropagator {
    composite(&[
        PropagatorName::TraceContext,
        PropagatorName::Baggage,
        PropagatorName::B3,
        PropagatorName::B3Multi,
        PropagatorName::Jaeger,
    ])
}

const NAMES: [&str; 7] = [
    "traceparent",
    "tracestate",
    "baggage",
    "b3",
    "x-b3-traceid",
    "uber-trace-id",
    "uberctx-k",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_headers_extract_and_reinject_without_panic(
        values in proptest::collection::vec((0usize..NAMES.len(), "[ -~]{0,80}"), 0..8),
    ) {
        let mut headers = HeaderMap::new();
        for (i, v) in &values {
            if let Ok(v) = HeaderValue::from_str(v) {
                headers.append(HeaderName::from_static(NAMES[*i]), v);
            }
        }
        let p = all();
        let cx = p.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
        let mut out = HeaderMap::new();
        p.inject_context(&cx, &mut HeaderInjector(&mut out));
    }

    #[test]
    fn a_valid_traceparent_round_trips(
        trace in "[0-9a-f]{32}",
        span in "[0-9a-f]{16}",
        sampled in any::<bool>(),
    ) {
        prop_assume!(trace.chars().any(|c| c != '0') && span.chars().any(|c| c != '0'));
        let tp = format!("00-{trace}-{span}-0{}", u8::from(sampled));
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_str(&tp).expect("ascii"));
        let p = all();
        let cx = p.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
        let sc = cx.span().span_context().clone();
        prop_assert!(sc.is_valid());
        prop_assert_eq!(sc.trace_id().to_string(), trace);
        let mut out = HeaderMap::new();
        p.inject_context(&cx, &mut HeaderInjector(&mut out));
        prop_assert_eq!(out.get("traceparent").and_then(|v| v.to_str().ok()), Some(tp.as_str()));
    }
}
