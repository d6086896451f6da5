//! The processor with a real OTLP receiver (rzero's collector) on loopback, and with a
//! black hole (a listener that accepts and never answers).

use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use rzero_collector::{Collector, CollectorConfig, RunningCollector};

use super::BatchProcessor;
use crate::config::{BatchConf, Protocol};
use crate::settings::{ExportTarget, ExportTls};

const WAIT: Duration = Duration::from_secs(30);

async fn collector() -> RunningCollector {
    let config = CollectorConfig {
        otlp_grpc: Some("127.0.0.1:0".parse().expect("addr")),
        otlp_http: Some("127.0.0.1:0".parse().expect("addr")),
        ui: None,
        ..CollectorConfig::default()
    };
    Collector::start(config).await.expect("collector starts")
}

fn target(endpoint: String, protocol: Protocol) -> ExportTarget {
    ExportTarget {
        endpoint,
        protocol,
        headers: vec![("x-tenant".into(), "t1".into())],
        timeout: Duration::from_secs(10),
        tls: ExportTls::default(),
    }
}

fn batch(max_export_batch_size: usize, schedule_delay: u64) -> BatchConf {
    BatchConf {
        max_queue_size: 64,
        max_export_batch_size,
        schedule_delay,
        export_timeout: 10_000,
    }
}

fn provider(processor: BatchProcessor) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build()
}

fn end_spans(provider: &SdkTracerProvider, n: usize) {
    let tracer = provider.tracer("unit");
    for i in 0..n {
        let mut span = tracer.start(format!("span-{i}"));
        span.set_attribute(opentelemetry::KeyValue::new("i", i as i64));
        span.end();
    }
}

/// A full batch goes out without waiting for the (hour-long) schedule delay, over both
/// protocols.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_batch_is_exported_at_once() {
    let c = collector().await;
    for (endpoint, protocol) in [
        (
            format!("http://{}", c.grpc_addr().expect("grpc")),
            Protocol::Grpc,
        ),
        (
            format!("http://{}/v1/traces", c.http_addr().expect("http")),
            Protocol::HttpProtobuf,
        ),
    ] {
        let before = c.store().span_count();
        let p = BatchProcessor::new(&target(endpoint, protocol), &batch(4, 3_600_000))
            .expect("processor");
        let provider = provider(p);
        end_spans(&provider, 4);
        assert!(
            c.store().wait_for_spans(before + 4, WAIT).await,
            "{protocol:?}: the batch of 4 must arrive before the delay"
        );
        tokio::task::spawn_blocking(move || provider.shutdown())
            .await
            .expect("join")
            .expect("shutdown");
    }
}

/// `force_flush` sends a partial batch; shutdown sends what is left and then drops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_and_shutdown_send_partial_batches() {
    let c = collector().await;
    let endpoint = format!("http://{}", c.grpc_addr().expect("grpc"));
    let p = BatchProcessor::new(&target(endpoint, Protocol::Grpc), &batch(512, 3_600_000))
        .expect("processor");
    let provider = provider(p);
    end_spans(&provider, 3);
    let flushed = provider.clone();
    tokio::task::spawn_blocking(move || flushed.force_flush())
        .await
        .expect("join")
        .expect("flush");
    assert_eq!(c.store().span_count(), 3, "flush returns after the export");
    end_spans(&provider, 2);
    let shut = provider.clone();
    tokio::task::spawn_blocking(move || shut.shutdown())
        .await
        .expect("join")
        .expect("shutdown");
    assert_eq!(
        c.store().span_count(),
        5,
        "shutdown exports what was buffered"
    );
    end_spans(&provider, 2);
    assert_eq!(
        c.store().span_count(),
        5,
        "spans after shutdown are dropped"
    );
}

/// A collector that never answers holds the export thread, never the span's end: the
/// queue stays bounded and shutdown ends by its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_collector_never_blocks_span_end() {
    let hole = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}/v1/traces", hole.local_addr().expect("addr"));
    // Accept and hold every connection, answering nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in hole.incoming().flatten() {
            held.push(conn);
        }
    });
    let p = BatchProcessor::new(&target(endpoint, Protocol::HttpProtobuf), &batch(8, 10))
        .expect("processor");
    let shared = p.shared.clone();
    let provider = provider(p);
    end_spans(&provider, 10_000);
    assert!(
        shared.queued.load(std::sync::atomic::Ordering::Acquire) <= 64,
        "the queue is bounded by max_queue_size"
    );
    let started = std::time::Instant::now();
    let shut = provider.clone();
    let outcome =
        tokio::task::spawn_blocking(move || shut.shutdown_with_timeout(Duration::from_millis(300)))
            .await
            .expect("join");
    assert!(
        outcome.is_err(),
        "a black hole cannot be flushed: {outcome:?}"
    );
    // Generous: "ended by the deadline" rather than a timing claim.
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A bad endpoint fails at start, as the SDK's exporter builders do.
#[test]
fn a_bad_endpoint_fails_the_start() {
    let err = BatchProcessor::new(&target("not a uri".into(), Protocol::Grpc), &batch(8, 10))
        .expect_err("must fail");
    assert!(err.to_string().contains("traces"), "{err}");
}
