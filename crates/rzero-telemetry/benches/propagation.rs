//! What propagation costs per request: extracting a typical `traceparent` + `tracestate`
//! from request headers and injecting the result into the headers of an outgoing call,
//! with rzero's strict W3C propagator and with the SDK's `TraceContextPropagator`, side by
//! side on the same carrier (`http::HeaderMap`).
//!
//! `cargo bench -p rzero-telemetry --bench propagation`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use http::{HeaderMap, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use rzero_telemetry::propagation::{HeaderExtractor, HeaderInjector, TraceContextPropagator};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

fn request(tracestate: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("user-agent", HeaderValue::from_static("curl/8.5.0"));
    h.insert("traceparent", HeaderValue::from_static(TRACEPARENT));
    if tracestate {
        h.insert("tracestate", HeaderValue::from_static(TRACESTATE));
    }
    h
}

fn round_trip(p: &dyn TextMapPropagator, incoming: &HeaderMap) -> HeaderMap {
    let cx = p.extract_with_context(&Context::new(), &HeaderExtractor(incoming));
    let mut out = HeaderMap::new();
    p.inject_context(&cx, &mut HeaderInjector(&mut out));
    out
}

fn bench_propagation(c: &mut Criterion) {
    let rzero = TraceContextPropagator::new();
    let sdk = opentelemetry_sdk::propagation::TraceContextPropagator::new();
    // Both give the same headers for these inputs (but for the SDK's empty `tracestate`
    // when there is none): the benchmark compares like with like.
    let sent = |h: HeaderMap| {
        let mut h = h;
        if h.get("tracestate").is_some_and(|v| v.is_empty()) {
            h.remove("tracestate");
        }
        h
    };
    for with_state in [true, false] {
        let incoming = request(with_state);
        assert_eq!(
            sent(round_trip(&rzero, &incoming)),
            sent(round_trip(&sdk, &incoming))
        );
        let mut group = c.benchmark_group(if with_state {
            "extract_inject/traceparent+tracestate"
        } else {
            "extract_inject/traceparent"
        });
        group.bench_function("rzero", |b| {
            b.iter(|| black_box(round_trip(&rzero, black_box(&incoming))))
        });
        group.bench_function("sdk", |b| {
            b.iter(|| black_box(round_trip(&sdk, black_box(&incoming))))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_propagation
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
