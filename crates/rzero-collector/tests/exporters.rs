//! The official OpenTelemetry exporters (opentelemetry-otlp 0.33, over gRPC and over
//! HTTP/protobuf, plain and gzip) reach the collector, and what they sent comes back
//! intact from the JSON API on the UI port: ids, parents, attributes, events, status and
//! resource. Logs and metrics over gRPC; forwarding to an upstream collector.

use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry::trace::{Span as _, Status, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Compression, WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as Kv, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use rzero_collector::{Collector, CollectorConfig, RunningCollector};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

async fn start(forward: Option<String>) -> RunningCollector {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    Collector::start(CollectorConfig {
        otlp_grpc: Some(any),
        otlp_http: Some(any),
        ui: Some(any),
        forward,
        ..CollectorConfig::default()
    })
    .await
    .expect("collector starts")
}

/// A root server span and a failing child with an event, through the SDK and `exporter`;
/// answers the trace id and the two span ids.
async fn send(exporter: impl SpanExporter + 'static, service: &str) -> (String, String, String) {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder_empty()
                .with_service_name(service.to_owned())
                .with_attribute(KeyValue::new("deployment.environment.name", "test"))
                .build(),
        )
        .build();
    // The simple processor blocks on each export: run it off the runtime's workers.
    tokio::task::spawn_blocking(move || {
        let tracer = provider.tracer("exporters-test");
        let mut root = tracer
            .span_builder("POST /api/v1/orders")
            .with_kind(opentelemetry::trace::SpanKind::Server)
            .start(&tracer);
        root.set_attribute(KeyValue::new("http.route", "/api/v1/orders"));
        root.set_attribute(KeyValue::new("http.response.status_code", 201));
        let ids = root.span_context().clone();
        let cx = Context::current_with_span(root);
        let mut child = tracer.start_with_context("INSERT orders", &cx);
        child.set_attribute(KeyValue::new("db.system.name", "sqlite"));
        child.add_event("retry", vec![KeyValue::new("attempt", 2)]);
        child.set_status(Status::error("disk full"));
        let child_id = child.span_context().span_id().to_string();
        child.end();
        cx.span().end();
        let _ = provider.force_flush();
        let _ = provider.shutdown();
        (
            ids.trace_id().to_string(),
            ids.span_id().to_string(),
            child_id,
        )
    })
    .await
    .expect("join")
}

async fn get_json(c: &RunningCollector, path: &str) -> (u16, Value) {
    let url = format!("http://{}{path}", c.ui_addr().expect("ui"));
    let resp = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("GET");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&body).expect("a JSON answer"),
    )
}

/// What the SDK sent is what the JSON API answers.
async fn check(c: &RunningCollector, service: &str, ids: (String, String, String)) {
    let (trace_id, root_id, child_id) = ids;
    assert!(
        c.store().wait_for_trace(&trace_id, 2, WAIT).await,
        "both spans arrive"
    );
    let (status, v) = get_json(c, &format!("/rzero/api/traces/{trace_id}")).await;
    assert_eq!(status, 200, "{v}");
    let spans = v["data"]["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 2, "{v}");
    let (root, child) = (&spans[0], &spans[1]);
    assert_eq!(root["trace_id"], trace_id.as_str());
    assert_eq!(root["span_id"], root_id.as_str());
    assert!(root["parent_span_id"].is_null(), "{root}");
    assert_eq!(root["name"], "POST /api/v1/orders");
    assert_eq!(root["kind"], "Server");
    assert_eq!(root["service"], service);
    assert_eq!(root["scope"], "exporters-test");
    assert_eq!(root["attributes"]["http.route"], "/api/v1/orders");
    assert_eq!(root["attributes"]["http.response.status_code"], 201);
    // The resource is listed once per trace, and each span points at its own.
    let resources = v["data"]["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 1, "{v}");
    assert!(
        root.get("resource").is_none(),
        "not copied into each span: {root}"
    );
    let res = &resources[root["resource_index"].as_u64().expect("index") as usize];
    assert_eq!(res["service.name"], service);
    assert_eq!(res["deployment.environment.name"], "test");
    assert!(
        root["end_unix_nanos"].as_u64() >= root["start_unix_nanos"].as_u64(),
        "{root}"
    );
    assert_eq!(child["span_id"], child_id.as_str());
    assert_eq!(child["parent_span_id"], root_id.as_str());
    assert_eq!(child["attributes"]["db.system.name"], "sqlite");
    assert_eq!(child["events"][0]["name"], "retry");
    assert_eq!(child["events"][0]["attributes"]["attempt"], 2);
    assert_eq!(
        (&child["status_code"], &child["status_message"]),
        (&Value::from("Error"), &Value::from("disk full"))
    );

    let (_, list) = get_json(
        c,
        &format!("/rzero/api/traces?service={service}&errors=true"),
    )
    .await;
    let first = &list["data"][0];
    assert_eq!(first["trace_id"], trace_id.as_str(), "{list}");
    assert_eq!(
        (
            &first["root_operation"],
            &first["span_count"],
            &first["error"]
        ),
        (
            &Value::from("POST /api/v1/orders"),
            &Value::from(2),
            &Value::from(true)
        )
    );
    let (_, ops) = get_json(c, &format!("/rzero/api/services/{service}/operations")).await;
    assert_eq!(
        ops["data"],
        serde_json::json!(["INSERT orders", "POST /api/v1/orders"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grpc_exporter_plain_and_gzip() {
    let c = start(None).await;
    let endpoint = format!("http://{}", c.grpc_addr().expect("grpc"));
    for (service, compression) in [("grpc-plain", None), ("grpc-gzip", Some(Compression::Gzip))] {
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .with_timeout(Duration::from_secs(10));
        if let Some(compression) = compression {
            builder = builder.with_compression(compression);
        }
        let ids = send(builder.build().expect("exporter"), service).await;
        check(&c, service, ids).await;
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_protobuf_exporter_plain_and_gzip() {
    let c = start(None).await;
    let endpoint = format!("http://{}/v1/traces", c.http_addr().expect("http"));
    for (service, compression) in [("http-plain", None), ("http-gzip", Some(Compression::Gzip))] {
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_http_client(reqwest::Client::new())
            .with_endpoint(endpoint.clone())
            .with_timeout(Duration::from_secs(10));
        if let Some(compression) = compression {
            builder = builder.with_compression(compression);
        }
        let ids = send(builder.build().expect("exporter"), service).await;
        check(&c, service, ids).await;
    }
    c.shutdown().await;
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![Kv {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(service.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn logs(trace: &[u8; 16]) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("order-rpc"),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: 1,
                    severity_text: "WARN".into(),
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("user 7 inactive".into())),
                    }),
                    trace_id: trace.to_vec(),
                    span_id: vec![3; 8],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics() -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("order-api"),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "http.server.request.duration.count".into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points: vec![NumberDataPoint {
                            time_unix_nano: 5,
                            value: Some(number_data_point::Value::AsInt(42)),
                            ..Default::default()
                        }],
                        ..Default::default()
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn logs_and_metrics_over_grpc_with_gzip() {
    let c = start(None).await;
    let url = format!("http://{}", c.grpc_addr().expect("grpc"));
    let gzip = tonic::codec::CompressionEncoding::Gzip;
    let mut client = LogsServiceClient::connect(url.clone())
        .await
        .expect("connect")
        .send_compressed(gzip);
    let trace = [0x5a; 16];
    let resp = client.export(logs(&trace)).await.expect("logs accepted");
    assert!(resp.into_inner().partial_success.is_none());
    let mut client = MetricsServiceClient::connect(url)
        .await
        .expect("connect")
        .send_compressed(gzip);
    client.export(metrics()).await.expect("metrics accepted");

    let store = c.store();
    let id = "5a".repeat(16);
    let records = store.logs_for_trace(&id);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(
        (r.body.as_str(), r.severity.as_str(), r.service.as_str()),
        ("user 7 inactive", "WARN", "order-rpc")
    );
    assert_eq!(r.span_id, "03".repeat(8));
    assert_eq!(store.metric_names(), ["http.server.request.duration.count"]);
    let m = &store.metrics()[0];
    assert_eq!(m.services, ["order-api"]);
    assert_eq!(
        m.last_point.as_ref().map(|p| &p.value),
        Some(&Value::from(42))
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_received_is_forwarded_upstream() {
    let upstream = start(None).await;
    let front = start(Some(format!(
        "http://{}",
        upstream.grpc_addr().expect("grpc")
    )))
    .await;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(reqwest::Client::new())
        .with_endpoint(format!(
            "http://{}/v1/traces",
            front.http_addr().expect("http")
        ))
        .build()
        .expect("exporter");
    let ids = send(exporter, "forwarded").await;
    let url = format!("http://{}", front.grpc_addr().expect("grpc"));
    let mut client = LogsServiceClient::connect(url).await.expect("connect");
    client.export(logs(&[0x77; 16])).await.expect("logs");

    check(&front, "forwarded", ids.clone()).await;
    check(&upstream, "forwarded", ids).await;
    let up = upstream.store();
    assert!(up.wait_for_logs(&"77".repeat(16), 1, WAIT).await);
    let stats = front.forward_stats().expect("forwarding is on");
    assert_eq!((stats.dropped, stats.failed), (0, 0), "{stats:?}");
    front.shutdown().await;
    upstream.shutdown().await;
}

#[tokio::test]
async fn a_stuck_upstream_neither_fails_nor_blocks_the_receiver() {
    // Accepts connections (the kernel does) but never answers: every export hangs.
    let stuck = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let c = start(Some(format!(
        "http://{}",
        stuck.local_addr().expect("addr")
    )))
    .await;
    let url = format!("http://{}", c.grpc_addr().expect("grpc"));
    let mut client = LogsServiceClient::connect(url).await.expect("connect");
    for _ in 0..300 {
        client.export(logs(&[0x66; 16])).await.expect("accepted");
    }
    assert_eq!(c.store().logs_for_trace(&"66".repeat(16)).len(), 300);
    let stats = c.forward_stats().expect("on");
    // One export in flight, 256 queued, the rest dropped and counted.
    assert!(stats.sent == 0 && stats.dropped >= 40, "{stats:?}");
    c.shutdown().await;
    drop(stuck);
}

#[tokio::test]
async fn a_forward_endpoint_without_a_scheme_is_refused_at_start() {
    let err = Collector::start(CollectorConfig {
        otlp_grpc: None,
        otlp_http: None,
        ui: None,
        forward: Some("upstream:4317".into()),
        ..CollectorConfig::default()
    })
    .await
    .expect_err("refused");
    assert!(err.to_string().contains("http://host:port"), "{err}");
}

#[tokio::test]
async fn an_oversized_grpc_request_is_refused_and_stores_nothing() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let c = Collector::start(CollectorConfig {
        otlp_grpc: Some(any),
        otlp_http: None,
        ui: None,
        max_body_bytes: 4096,
        ..CollectorConfig::default()
    })
    .await
    .expect("start");
    let big = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![1; 8],
                    name: "x".repeat(10_000),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let url = format!("http://{}", c.grpc_addr().expect("grpc"));
    let mut client = TraceServiceClient::connect(url).await.expect("connect");
    let status = client.export(big).await.expect_err("too large");
    // tonic's answer to a message over `max_decoding_message_size`.
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert_eq!(c.store().span_count(), 0);
    c.shutdown().await;
}
