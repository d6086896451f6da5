//! What one span costs: created and ended in a sampled trace, in an unsampled trace, and
//! through the `tracing` bridge, each with the batch processor of the guide's defaults in
//! front of an exporter that discards (the network is not what is measured here).
//!
//! `cargo bench -p rzero-telemetry --bench span` prints criterion's ns per span, then the
//! heap allocations per span made on the calling thread (the batch thread's are its own),
//! then the whole CPU cost of an exported span, the SDK's batch processor and OTLP
//! exporter against rzero's [`BatchProcessor`](rzero_telemetry::BatchProcessor), side by
//! side (see `support/export.rs`).

#[path = "support/export.rs"]
mod export;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider, SpanData,
    SpanExporter,
};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn provider() -> SdkTracerProvider {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(2048)
        .with_max_export_batch_size(512)
        .with_scheduled_delay(Duration::from_secs(5))
        .build();
    SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .with_span_processor(BatchSpanProcessor::new(Discard, config))
        .build()
}

fn parent(sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128),
        SpanId::from(0xb7ad6b7169203331_u64),
        flags,
        true,
        TraceState::default(),
    ))
}

fn sdk_span(tracer: &SdkTracer, cx: &Context) {
    let span = tracer.build_with_context(
        tracer
            .span_builder("GET /api/v1/orders/:order_id")
            .with_kind(SpanKind::Server),
        cx,
    );
    drop(black_box(span));
}

fn http_server_span(tracer: &SdkTracer, cx: &Context) {
    let attrs = vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.route", "/api/v1/orders/:order_id"),
        KeyValue::new("url.path", "/api/v1/orders/42"),
        KeyValue::new("url.scheme", "http"),
        KeyValue::new("server.port", 8888),
        KeyValue::new("http.response.status_code", 200),
    ];
    let builder = tracer
        .span_builder("GET /api/v1/orders/:order_id")
        .with_kind(SpanKind::Server)
        .with_attributes(attrs);
    drop(black_box(tracer.build_with_context(builder, cx)));
}

fn bench_spans(c: &mut Criterion) {
    let provider = provider();
    let tracer = provider.tracer("bench");
    let (sampled, unsampled) = (parent(true), parent(false));
    let mut group = c.benchmark_group("span");
    group.bench_function("sdk_sampled", |b| b.iter(|| sdk_span(&tracer, &sampled)));
    group.bench_function("sdk_unsampled", |b| {
        b.iter(|| sdk_span(&tracer, &unsampled))
    });
    group.bench_function("sdk_sampled_http_attrs", |b| {
        b.iter(|| http_server_span(&tracer, &sampled))
    });
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    tracing::subscriber::with_default(subscriber, || {
        let _attached = sampled.clone().attach();
        group.bench_function("tracing_bridge_sampled", |b| {
            b.iter(|| tracing::info_span!("GET /api/v1/orders/:order_id").in_scope(|| {}))
        });
    });
    group.finish();
    report_allocations(&provider);
    let _ = provider.shutdown();
}

fn report_allocations(provider: &SdkTracerProvider) {
    const N: u64 = 10_000;
    let tracer = provider.tracer("bench");
    let (sampled, unsampled) = (parent(true), parent(false));
    let per_span = |f: &dyn Fn()| {
        // Warm up thread-locals and lazily built parts outside the measurement.
        f();
        let info = allocation_counter::measure(|| (0..N).for_each(|_| f()));
        (
            info.count_total as f64 / N as f64,
            info.bytes_total as f64 / N as f64,
        )
    };
    let rows = [
        ("sdk_sampled", per_span(&|| sdk_span(&tracer, &sampled))),
        ("sdk_unsampled", per_span(&|| sdk_span(&tracer, &unsampled))),
        (
            "sdk_sampled_http_attrs",
            per_span(&|| http_server_span(&tracer, &sampled)),
        ),
    ];
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    let bridge = tracing::subscriber::with_default(subscriber, || {
        let _attached = sampled.clone().attach();
        per_span(&|| tracing::info_span!("GET /api/v1/orders/:order_id").in_scope(|| {}))
    });
    println!("\nheap allocations per span on the calling thread:");
    for (name, (count, bytes)) in rows
        .iter()
        .chain([("tracing_bridge_sampled", bridge)].iter())
    {
        println!("  {name:<26} {count:>6.2} allocations {bytes:>8.1} bytes");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_spans
}

fn main() {
    benches();
    export::report();
    Criterion::default().configure_from_args().final_summary();
}
