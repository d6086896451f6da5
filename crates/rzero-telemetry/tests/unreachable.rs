//! A collector that is not there costs the caller nothing: spans are created at full speed,
//! the full queue drops and counts, and shutdown ends within its deadline.

use std::time::{Duration, Instant};

use opentelemetry::global;
use opentelemetry::trace::{Span, Tracer};
use rzero_telemetry::config::BatchConf;
use rzero_telemetry::{Telemetry, TelemetryConf};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_collector_never_blocks_and_counts_drops() {
    // Port 9 (discard) is closed on loopback: connections are refused at once. A
    // black-holed address would be the slower case; the export timeout bounds both.
    let conf = TelemetryConf {
        endpoint: "http://127.0.0.1:9".into(),
        timeout: 500,
        batch: BatchConf {
            max_queue_size: 64,
            max_export_batch_size: 32,
            schedule_delay: 50,
            export_timeout: 500,
        },
        ..Default::default()
    };
    let mut guard = Telemetry::new("unreachable", "0.0.0")
        .conf(&conf)
        .env([])
        .without_subscriber()
        .init()
        .expect("an unreachable endpoint is not an error at start");
    guard.set_shutdown_deadline(Duration::from_secs(2));

    let tracer = global::tracer("test");
    let started = Instant::now();
    for i in 0..20_000 {
        let mut span = tracer.start("work");
        span.set_attribute(opentelemetry::KeyValue::new("i", i));
        span.end();
    }
    let spent = started.elapsed();
    // Not a performance assertion: a blocked caller would take the export timeout (500 ms)
    // per batch, i.e. minutes; ten seconds is "did not block" on any machine.
    assert!(
        spent < Duration::from_secs(10),
        "creating spans took {spent:?}"
    );

    let text = guard.prometheus().render();
    let dropped: f64 = text
        .lines()
        .filter(|l| l.starts_with("otel_sdk_processor_span_processed") && l.contains("queue_full"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        dropped > 0.0,
        "dropped spans must be counted; metrics were:\n{text}"
    );

    let shutdown_started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(10), guard.shutdown()).await;
    assert!(outcome.is_ok(), "shutdown must end within its deadline");
    assert!(shutdown_started.elapsed() < Duration::from_secs(10));
}
