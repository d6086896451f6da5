//! RED from the services' OTLP metrics: the OpenTelemetry SDK's own OTLP/gRPC metric
//! exporter sends `http.server.request.duration` and `rpc.server.duration` histograms
//! (cumulative, as by default) to the real receiver, and the RED API answers from them,
//! from spans for operations without metrics; and the metric store stays in its budget
//! under a flood of attribute sets.

use std::net::SocketAddr;

use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_otlp::{MetricExporter, WithExportConfig};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::metrics::v1::{
    Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics, metric,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use rzero_collector::{Collector, CollectorConfig, RunningCollector, StoreLimits};
use serde_json::Value;

mod otlp;

use otlp::{MS, SERVER, get_json, post_traces, span};

/// Milliseconds bounds, sent in seconds as the HTTP conventions say.
const BOUNDS_S: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

async fn start(limits: StoreLimits) -> RunningCollector {
    let any: Option<SocketAddr> = "127.0.0.1:0".parse().ok();
    Collector::start(CollectorConfig {
        otlp_grpc: any,
        otlp_http: any,
        ui: any,
        limits,
        ..CollectorConfig::default()
    })
    .await
    .expect("start")
}

/// A meter provider of service `orders` exporting over OTLP/gRPC to `c` when flushed
/// (its own interval is an hour: the test decides when an export happens).
fn provider(c: &RunningCollector) -> SdkMeterProvider {
    let exporter = MetricExporter::builder()
        .with_tonic()
        .with_endpoint(format!("http://{}", c.grpc_addr().expect("grpc")))
        .build()
        .expect("exporter");
    let reader = PeriodicReader::builder(exporter)
        .with_interval(std::time::Duration::from_secs(3600))
        .build();
    SdkMeterProvider::builder()
        .with_resource(Resource::builder().with_service_name("orders").build())
        .with_reader(reader)
        .build()
}

async fn flush(p: &SdkMeterProvider) {
    let p = p.clone();
    tokio::task::spawn_blocking(move || p.force_flush())
        .await
        .expect("join")
        .expect("metrics exported");
}

fn one_series<'a>(v: &'a Value, op: &str) -> &'a Value {
    v["data"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["operation"] == op))
        .unwrap_or_else(|| panic!("a series for {op} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_comes_from_the_services_duration_histograms_when_they_send_them() {
    let c = start(StoreLimits::default()).await;
    let ui = c.ui_addr().expect("ui");
    let p = provider(&c);
    let meter = p.meter("test");
    let http = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_boundaries(BOUNDS_S.to_vec())
        .build();
    let rpc = meter
        .f64_histogram("rpc.server.duration")
        .with_unit("s")
        .with_boundaries(BOUNDS_S.to_vec())
        .build();
    let route = |status: i64| {
        let mut a = vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/orders/{id}"),
            KeyValue::new("http.response.status_code", status),
        ];
        if status >= 500 {
            a.push(KeyValue::new("error.type", status.to_string()));
        }
        a
    };
    let call = |code: i64| {
        [
            KeyValue::new("rpc.system", "grpc"),
            KeyValue::new("rpc.service", "order.Order"),
            KeyValue::new("rpc.method", "GetOrder"),
            KeyValue::new("rpc.grpc.status_code", code),
        ]
    };
    // First export: 10 × 4 ms, 10 × 40 ms, 2 × 300 ms failed; RPC: 3 OK, 1 NOT_FOUND
    // (a good answer), 1 UNAVAILABLE.
    for _ in 0..10 {
        http.record(0.004, &route(200));
        http.record(0.040, &route(200));
    }
    http.record(0.3, &route(500));
    http.record(0.3, &route(500));
    for code in [0, 0, 0, 5, 14] {
        rpc.record(0.002, &call(code));
    }
    flush(&p).await;
    // Second export, cumulative: the same streams plus 4 × 4 ms; only the 4 are new.
    for _ in 0..4 {
        http.record(0.004, &route(200));
    }
    flush(&p).await;
    assert!(
        c.store()
            .wait_for_metric("rpc.server.duration", std::time::Duration::from_secs(20))
            .await
    );

    // Spans of the same service: a health check (no metric names it) and one call of the
    // route, whose trace becomes an example of the metric series.
    let now = otlp::now();
    let spans = vec![
        span((
            0x11,
            1,
            None,
            "GET /health",
            SERVER,
            now - 5_000 * MS,
            1,
            false,
            &[],
        )),
        span((
            0x22,
            1,
            None,
            "GET /orders/{id}",
            SERVER,
            now - 5_000 * MS,
            40,
            false,
            &[],
        )),
    ];
    post_traces(c.http_addr().expect("http"), &otlp::export("orders", spans)).await;

    // One bucket that holds both exports, whatever the time of day.
    let (status, v) = get_json(ui, "/rzero/api/red?service=orders&bucket_ms=10000000000000").await;
    assert_eq!(status, 200, "{v}");
    let get = one_series(&v, "GET /orders/{id}");
    assert_eq!(get["source"], "metrics", "{get}");
    let b = &get["buckets"][0];
    assert_eq!(
        (b["count"].as_u64(), b["errors"].as_u64()),
        (Some(26), Some(2)),
        "22 + 4 calls, cumulative points counted once: {b}"
    );
    // Buckets (ms): 14 in (0, 5], 10 in (25, 50], 2 in (250, 500]; interpolated ranks.
    assert_eq!(b["p50_ms"], 4.643, "rank 13 of 14 in (0, 5]: {b}");
    assert_eq!(
        b["p95_ms"], 337.5,
        "rank 24.7: 0.7 of 2 into (250, 500]: {b}"
    );
    assert_eq!(b["p99_ms"], 467.5, "{b}");
    assert_eq!(
        b["example_trace_ids"],
        serde_json::json!(["22".repeat(16)]),
        "the span of that moment is the example: {b}"
    );

    let rpc = one_series(&v, "order.Order/GetOrder");
    assert_eq!(rpc["source"], "metrics");
    assert_eq!(
        (
            rpc["buckets"][0]["count"].as_u64(),
            rpc["buckets"][0]["errors"].as_u64()
        ),
        (Some(5), Some(1)),
        "NOT_FOUND is an answer, UNAVAILABLE a failure: {rpc}"
    );

    let health = one_series(&v, "GET /health");
    assert_eq!(health["source"], "spans", "no metric for it: {health}");
    assert_eq!(health["buckets"][0]["count"], 1);
    p.shutdown().expect("shutdown");
}

/// A histogram point of route `/r{i}`.
fn flood_request(from: usize, n: usize) -> ExportMetricsServiceRequest {
    let points = (from..from + n)
        .map(|i| HistogramDataPoint {
            attributes: vec![
                otlp::kv("http.request.method", "GET"),
                otlp::kv("http.route", &format!("/r{i}/{}", "x".repeat(200))),
            ],
            start_time_unix_nano: 1,
            time_unix_nano: otlp::now(),
            count: 1,
            bucket_counts: vec![1, 0],
            explicit_bounds: vec![0.1],
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(otlp::resource("flood", Vec::new())),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "http.server.request.duration".into(),
                    unit: "s".into(),
                    data: Some(metric::Data::Histogram(Histogram {
                        data_points: points,
                        aggregation_temporality: 2,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_series_stay_within_the_metric_budget_under_a_flood() {
    let budget = 256 << 10;
    let c = start(StoreLimits {
        max_metric_bytes: budget,
        ..StoreLimits::default()
    })
    .await;
    let mut client =
        MetricsServiceClient::connect(format!("http://{}", c.grpc_addr().expect("grpc")))
            .await
            .expect("connect");
    for round in 0..20 {
        client
            .export(flood_request(round * 500, 500))
            .await
            .expect("accepted");
    }
    let stats = c.store().stats();
    // At most one stream (key, names, one delta: under 4 KiB here) past the budget.
    assert!(
        stats.metric_bytes <= budget + 4096,
        "{} bytes held for a budget of {budget}",
        stats.metric_bytes
    );
    let (_, v) = get_json(c.ui_addr().expect("ui"), "/rzero/api/red?service=flood").await;
    let kept = v["data"].as_array().map_or(0, Vec::len);
    assert!(
        kept > 100 && kept < 10_000,
        "some routes kept, not all 10,000: {kept}"
    );
}
