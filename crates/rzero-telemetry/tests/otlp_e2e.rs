//! End to end against a real OTLP receiver on loopback (rzero's collector, which speaks
//! OTLP/gRPC and OTLP/HTTP like any collector): traces with the right parents, resource,
//! status and events; metrics; logs carrying the trace id; shutdown flushing the buffer.
//!
//! Each test runs in its own process (one file each would do too): telemetry installs
//! process-wide globals, so the two protocols are two `#[test]`s that each spawn this
//! binary again with a filter.

use std::time::Duration;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Span, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use rzero_collector::{Collector, CollectorConfig, Store};
use rzero_telemetry::config::{BatchConf, MetricsConf};
use rzero_telemetry::{LogConf, Protocol, Telemetry, TelemetryConf};

const WAIT: Duration = Duration::from_secs(20);

async fn start_collector() -> rzero_collector::RunningCollector {
    let config = CollectorConfig {
        otlp_grpc: Some("127.0.0.1:0".parse().expect("addr")),
        otlp_http: Some("127.0.0.1:0".parse().expect("addr")),
        ui: None,
        ..CollectorConfig::default()
    };
    Collector::start(config).await.expect("collector starts")
}

/// The traced work: root (opentelemetry API) -> child (`tracing::instrument`) ->
/// grandchild (opentelemetry API again), an event, an error, log lines, metrics.
async fn emit() -> String {
    let tracer = global::tracer("e2e");
    let root = tracer.start("CreateOrder");
    let cx = Context::current_with_span(root);
    validate_user(7).with_context(cx.clone()).await;
    cx.span()
        .add_event("order.validated", vec![KeyValue::new("items", 2)]);
    cx.span().set_status(Status::error("insert failed"));
    cx.span()
        .set_attribute(KeyValue::new("error.type", "database"));
    cx.span().end();
    let counter = global::meter("e2e").u64_counter("e2e.orders").build();
    counter.add(1, &[KeyValue::new("status", "failed")]);
    cx.span().span_context().trace_id().to_string()
}

#[tracing::instrument]
async fn validate_user(user_id: u64) {
    tracing::info!(user_id, "validating");
    let tracer = global::tracer("e2e");
    let mut grandchild = tracer.start("SELECT users");
    grandchild.set_attribute(KeyValue::new("db.system.name", "sqlite"));
    grandchild.end();
}

fn conf(endpoint: String, protocol: Protocol, schedule_delay_ms: u64) -> TelemetryConf {
    TelemetryConf {
        endpoint,
        protocol: Some(protocol),
        environment: "test".into(),
        batch: BatchConf {
            schedule_delay: schedule_delay_ms,
            ..BatchConf::default()
        },
        metrics: MetricsConf { interval: 200 },
        ..TelemetryConf::default()
    }
}

async fn check_trace(store: &Store, trace_id: &str) {
    assert!(store.wait_for_spans(3, WAIT).await, "3 spans must arrive");
    let trace = store.trace(trace_id).expect("the trace is stored");
    let by_name = |name: &str| {
        trace
            .spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("span {name} in {:?}", trace.spans))
    };
    let (root, child, grandchild) = (
        by_name("CreateOrder"),
        by_name("validate_user"),
        by_name("SELECT users"),
    );
    assert!(
        root.parent_span_id.as_deref().unwrap_or("").is_empty(),
        "root has no parent"
    );
    assert_eq!(child.parent_span_id.as_deref(), Some(root.span_id.as_str()));
    assert_eq!(
        grandchild.parent_span_id.as_deref(),
        Some(child.span_id.as_str())
    );
    assert_eq!(root.status_code, "Error", "{root:?}");
    assert!(
        root.events.iter().any(|e| e.name == "order.validated"),
        "{root:?}"
    );
    let res = |k: &str| root.resource.get(k).map(|v| v.to_string());
    assert_eq!(res("service.name").as_deref(), Some("\"e2e-svc\""));
    assert_eq!(res("service.version").as_deref(), Some("\"1.2.3\""));
    assert_eq!(
        res("deployment.environment.name").as_deref(),
        Some("\"test\"")
    );
    assert!(
        res("host.name").is_some() && res("process.pid").is_some(),
        "{:?}",
        root.resource
    );
}

async fn run(protocol: Protocol) {
    let collector = start_collector().await;
    let endpoint = match protocol {
        Protocol::Grpc => format!("http://{}", collector.grpc_addr().expect("grpc")),
        Protocol::HttpProtobuf => format!("http://{}", collector.http_addr().expect("http")),
    };
    // A long schedule delay: nothing leaves before shutdown, so arrival proves the flush.
    let guard = Telemetry::new("e2e-svc", "1.2.3")
        .conf(&conf(endpoint, protocol, 60_000))
        .log(&LogConf::default())
        .env([("RUST_LOG".to_owned(), "info".to_owned())])
        .init()
        .expect("init");
    let trace_id = emit().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let store = collector.store();
    assert_eq!(store.span_count(), 0, "spans wait for the batch delay");
    guard.shutdown().await.expect("shutdown flushes");

    check_trace(&store, &trace_id).await;
    let logs = store.logs_for_trace(&trace_id);
    assert!(
        logs.iter()
            .any(|l| l.body.contains("validating") && !l.span_id.is_empty()),
        "the log line carries the trace and span ids: {logs:?}"
    );
    let names = store.metric_names();
    assert!(
        names.iter().any(|n| n == "e2e.orders"),
        "metrics arrive: {names:?}"
    );
    collector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_exports_traces_metrics_and_logs() {
    if std::env::var("RZERO_E2E_PROTOCOL").as_deref() == Ok("http") {
        return;
    }
    run(Protocol::Grpc).await;
}

/// Runs the HTTP case in a child process: the globals of the gRPC case live in this one.
#[test]
fn http_protobuf_exports_traces_metrics_and_logs() {
    if std::env::var("RZERO_E2E_PROTOCOL").as_deref() == Ok("http") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run(Protocol::HttpProtobuf));
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "http_protobuf_exports_traces_metrics_and_logs",
            "--nocapture",
        ])
        .env("RZERO_E2E_PROTOCOL", "http")
        .output()
        .expect("run the http case");
    assert!(
        out.status.success(),
        "http case failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
