//! The example, run as a user runs it, sends all three signals to a real OTLP receiver.

use std::process::Command;
use std::time::Duration;

use rzero_collector::{Collector, CollectorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_sends_traces_metrics_and_logs() {
    let collector = Collector::start(CollectorConfig {
        otlp_grpc: Some("127.0.0.1:0".parse().expect("addr")),
        otlp_http: None,
        ui: None,
        ..CollectorConfig::default()
    })
    .await
    .expect("collector");
    let endpoint = format!("http://{}", collector.grpc_addr().expect("grpc addr"));

    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_hello-telemetry"))
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .output()
            .expect("run the example")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let store = collector.store();
    assert!(
        store.wait_for_spans(3, Duration::from_secs(20)).await,
        "spans arrive"
    );
    let trace_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace ")?.split_whitespace().next())
        .expect("the example prints its trace id");
    let trace = store.trace(trace_id).expect("the example's trace");
    let mut names: Vec<_> = trace.spans.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["CreateOrder", "InsertOrder", "validate_user"]);
    assert!(
        trace.spans.iter().any(|s| s.status_code == "Error"),
        "the error is recorded: {:?}",
        trace.spans
    );
    assert!(
        !store.logs_for_trace(trace_id).is_empty(),
        "logs carry the trace id"
    );
    let metrics = store.metric_names();
    assert!(metrics.iter().any(|m| m == "hello.orders"), "{metrics:?}");
    collector.shutdown().await;
}
