//! The service map and RED series through the real receiver, from traces whose counts,
//! durations and errors the test knows: a gateway calling an orders service (HTTP) and a
//! payment provider (uninstrumented), orders calling MySQL and Redis.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use rzero_collector::{Collector, CollectorConfig, RunningCollector};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MS: u64 = 1_000_000;
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn span(
    trace: u8,
    id: u8,
    parent: Option<u8>,
    name: &str,
    kind: i32,
    start: u64,
    ms: u64,
    error: bool,
    attrs: &[(&str, &str)],
) -> Span {
    Span {
        trace_id: vec![trace + 1; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: start + ms * MS,
        attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
        status: error.then(|| Status {
            code: 2,
            message: "failed".into(),
        }),
        ..Default::default()
    }
}

fn export(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", service)],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    ctype: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(body).await.expect("body");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answer")
        .expect("read");
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
    let status = String::from_utf8_lossy(&out[..split])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, out[split + 4..].to_vec())
}

async fn get(c: &RunningCollector, path: &str) -> (u16, Value) {
    let (status, body) = call(c.ui_addr().expect("ui"), "GET", path, "text/plain", b"").await;
    (status, serde_json::from_slice(&body).expect("json"))
}

/// Ten traces, `i` = 0..9: six in one minute, four in the next. Gateway root
/// (10·(i+1) ms, error for i = 3 and 7) -> gateway client -> orders server (5·(i+1) ms,
/// same errors) -> MySQL (2 ms) and, for even i, Redis (1 ms, error for i = 4); the
/// gateway also calls payments.example (3 ms), which sends no spans.
async fn start() -> (RunningCollector, u64) {
    let any = "127.0.0.1:0".parse().ok();
    let c = Collector::start(CollectorConfig {
        otlp_grpc: None,
        otlp_http: any,
        ui: any,
        ..CollectorConfig::default()
    })
    .await
    .expect("start");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64;
    let minute = 60_000 * MS;
    let base = (now / minute - 10) * minute;
    let (mut gateway, mut orders) = (Vec::new(), Vec::new());
    for i in 0..10u64 {
        let t = i as u8;
        let start = base + if i < 6 { i } else { 60 + i } * 1000 * MS;
        let failed = i == 3 || i == 7;
        gateway.push(span(
            t,
            1,
            None,
            "POST /orders",
            SERVER,
            start,
            10 * (i + 1),
            failed,
            &[],
        ));
        gateway.push(span(
            t,
            2,
            Some(1),
            "POST orders",
            CLIENT,
            start + MS,
            6 * (i + 1),
            false,
            &[("server.address", "orders")],
        ));
        gateway.push(span(
            t,
            3,
            Some(1),
            "POST payments",
            CLIENT,
            start + MS,
            3,
            false,
            &[("server.address", "payments.example")],
        ));
        orders.push(span(
            t,
            4,
            Some(2),
            "orders.Create",
            SERVER,
            start + 2 * MS,
            5 * (i + 1),
            failed,
            &[],
        ));
        orders.push(span(
            t,
            5,
            Some(4),
            "INSERT orders",
            CLIENT,
            start + 3 * MS,
            2,
            false,
            &[("db.system.name", "mysql"), ("server.address", "db1")],
        ));
        if i % 2 == 0 {
            orders.push(span(
                t,
                6,
                Some(4),
                "SET",
                CLIENT,
                start + 3 * MS,
                1,
                i == 4,
                &[("db.system", "redis"), ("server.address", "cache1")],
            ));
        }
    }
    let http = c.http_addr().expect("http");
    for req in [export("gateway", gateway), export("orders", orders)] {
        let (status, _) = call(
            http,
            "POST",
            "/v1/traces",
            "application/x-protobuf",
            &req.encode_to_vec(),
        )
        .await;
        assert_eq!(status, 200);
    }
    (c, base)
}

fn edge<'a>(map: &'a Value, from: &str, to: &str) -> &'a Value {
    map["data"]["edges"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["from"] == from && e["to"] == to))
        .unwrap_or_else(|| panic!("edge {from} -> {to} in {map}"))
}

#[tokio::test]
async fn the_service_map_counts_calls_errors_and_latency_per_edge() {
    let (c, _) = start().await;
    let (status, map) = get(&c, "/rzero/api/service-map").await;
    assert_eq!(status, 200, "{map}");
    assert_eq!(
        map["data"]["nodes"],
        json!([
            {"id": "gateway", "kind": "service"},
            {"id": "mysql (db1)", "kind": "database"},
            {"id": "orders", "kind": "service"},
            {"id": "payments.example", "kind": "external"},
            {"id": "redis (cache1)", "kind": "cache"},
        ])
    );
    let e = edge(&map, "gateway", "orders");
    assert_eq!(
        (e["calls"].as_u64(), e["errors"].as_u64()),
        (Some(10), Some(2))
    );
    assert_eq!(e["error_rate"], 0.2);
    assert_eq!(e["p50_ms"], 25.0, "orders' own 5..50 ms: nearest rank 5");
    assert_eq!(e["p99_ms"], 50.0);
    let db = edge(&map, "orders", "mysql (db1)");
    assert_eq!(
        (db["calls"].as_u64(), db["p50_ms"].as_f64()),
        (Some(10), Some(2.0))
    );
    let cache = edge(&map, "orders", "redis (cache1)");
    assert_eq!(
        (cache["calls"].as_u64(), cache["errors"].as_u64()),
        (Some(5), Some(1))
    );
    let pay = edge(&map, "gateway", "payments.example");
    assert_eq!(pay["calls"], 10);
    assert_eq!(
        map["data"]["edges"].as_array().map(Vec::len),
        Some(4),
        "{map}"
    );
}

#[tokio::test]
async fn red_series_bucket_rate_errors_and_percentiles_with_examples() {
    let (c, base) = start().await;
    let (status, v) = get(&c, "/rzero/api/red?service=gateway&bucket_ms=60000").await;
    assert_eq!(status, 200, "{v}");
    let series = v["data"].as_array().expect("series");
    assert_eq!(series.len(), 1, "client spans are not entry points: {v}");
    assert_eq!(series[0]["operation"], "POST /orders");
    let b = series[0]["buckets"].as_array().expect("buckets");
    assert_eq!(b.len(), 2);
    assert_eq!(b[0]["start_unix_ms"], base / MS);
    assert_eq!(
        (b[0]["count"].as_u64(), b[0]["errors"].as_u64()),
        (Some(6), Some(1))
    );
    assert_eq!(b[0]["rate_per_s"], 0.1);
    assert_eq!(
        (b[0]["p50_ms"].as_f64(), b[0]["p95_ms"].as_f64()),
        (Some(30.0), Some(60.0))
    );
    let id = |i: u8| format!("{:02x}", i + 1).repeat(16);
    assert_eq!(
        b[0]["example_trace_ids"],
        json!([id(5), id(3)]),
        "slowest, then the error"
    );
    assert_eq!(b[1]["start_unix_ms"], base / MS + 60_000);
    assert_eq!(
        (b[1]["count"].as_u64(), b[1]["errors"].as_u64()),
        (Some(4), Some(1))
    );
    assert_eq!(
        (b[1]["p50_ms"].as_f64(), b[1]["p99_ms"].as_f64()),
        (Some(80.0), Some(100.0))
    );

    let (_, v) = get(&c, "/rzero/api/red?operation=orders.Create").await;
    assert_eq!(v["data"][0]["service"], "orders");
    let counts: Vec<u64> = v["data"][0]["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(|b| b["count"].as_u64())
        .collect();
    assert_eq!(counts, [6, 4]);
    let (status, _) = get(&c, "/rzero/api/red?bucket=1").await;
    assert_eq!(status, 400, "unknown parameter");
}
