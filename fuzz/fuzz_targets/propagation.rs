//! Every propagator rzero offers (W3C traceparent/tracestate, baggage, b3 single and
//! multi, jaeger) extracting from headers made of the input: `name: value` lines. No
//! panic; what is extracted re-injects without a panic too.
#![no_main]

use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use opentelemetry::Context;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use rzero_telemetry::propagation::{HeaderExtractor, HeaderInjector, PropagatorName, composite};

const NAMES: [&str; 9] = [
    "traceparent",
    "tracestate",
    "baggage",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "uber-trace-id",
    "uberctx-user",
];

fn propagator() -> &'static TextMapCompositePropagator {
    static P: OnceLock<TextMapCompositePropagator> = OnceLock::new();
    P.get_or_init(|| {
        composite(&[
            PropagatorName::TraceContext,
            PropagatorName::Baggage,
            PropagatorName::B3,
            PropagatorName::B3Multi,
            PropagatorName::Jaeger,
        ])
    })
}

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        // A line's first byte picks the header (so the fuzzer need not spell names),
        // the rest is its value; repeated headers are kept, as HTTP allows.
        let Some((&pick, value)) = line.split_first() else {
            continue;
        };
        let name = NAMES[usize::from(pick) % NAMES.len()];
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.append(HeaderName::from_static(name), v);
        }
        if i > 64 {
            break;
        }
    }
    let cx = propagator().extract_with_context(&Context::new(), &HeaderExtractor(&headers));
    let mut out = HeaderMap::new();
    propagator().inject_context(&cx, &mut HeaderInjector(&mut out));
});
