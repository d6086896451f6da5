//! The service map and RED series through the real receiver, from traces whose counts,
//! durations and errors the test knows: a gateway calling an orders service (HTTP) and a
//! payment provider (uninstrumented), orders calling MySQL and Redis; the map's time
//! window, and the trace list's search by an attribute of any type
//! (`http.response.status_code=500` is an integer).

use std::net::SocketAddr;

use rzero_collector::{Collector, CollectorConfig, RunningCollector};
use serde_json::{Value, json};

mod otlp;

use otlp::MS;

async fn get(c: &RunningCollector, path: &str) -> (u16, Value) {
    otlp::get_json(c.ui_addr().expect("ui"), path).await
}

/// The shop's ten traces (see `otlp::shop`), ten minutes ago, through OTLP/HTTP.
async fn start() -> (RunningCollector, u64) {
    let any: Option<SocketAddr> = "127.0.0.1:0".parse().ok();
    let c = Collector::start(CollectorConfig {
        otlp_grpc: None,
        otlp_http: any,
        ui: any,
        ..CollectorConfig::default()
    })
    .await
    .expect("start");
    let minute = 60_000 * MS;
    let base = (otlp::now() / minute - 10) * minute;
    for req in otlp::shop(base) {
        otlp::post_traces(c.http_addr().expect("http"), &req).await;
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
    // The window: the shop is ten to twelve minutes old.
    let (_, recent) = get(&c, "/rzero/api/service-map?lookback_ms=300000").await;
    assert_eq!(recent["data"]["nodes"], json!([]), "nothing in 5 min");
    assert_eq!(recent["data"]["edges"], json!([]));
    let (_, wide) = get(&c, "/rzero/api/service-map?lookback_ms=900000").await;
    assert_eq!(wide["data"], map["data"], "all of it in 15 min");
    let (status, _) = get(&c, "/rzero/api/service-map?lookback_ms=soon").await;
    assert_eq!(status, 400);
}

/// `peer.service` names a CLIENT span's callee: a call to an instrumented service whose
/// spans are not in the store joins that service's node (not its address's), one to an
/// uninstrumented service is a service node of that name, a database keeps its kind.
#[tokio::test]
async fn peer_service_names_the_callee() {
    let (c, base) = start().await;
    let at = base + 30_000 * MS;
    let client = |t: u8, id: u8, attrs: &'static [(&'static str, &'static str)]| {
        otlp::span((t, id, Some(1), "call", otlp::CLIENT, at, 4, false, attrs))
    };
    let root = |t: u8| otlp::span((t, 1, None, "POST /orders", otlp::SERVER, at, 9, false, &[]));
    let spans = vec![
        root(0x51),
        // orders' spans of this trace were sampled out: the call is still gateway -> orders.
        client(
            0x51,
            2,
            &[("peer.service", "orders"), ("server.address", "10.0.0.7")],
        ),
        root(0x52),
        client(
            0x52,
            2,
            &[
                ("peer.service", "ledger"),
                ("server.address", "ledger.internal"),
            ],
        ),
        client(
            0x52,
            3,
            &[
                ("peer.service", "orders-db"),
                ("db.system.name", "mysql"),
                ("server.address", "db9"),
            ],
        ),
    ];
    otlp::post_traces(
        c.http_addr().expect("http"),
        &otlp::export("gateway", spans),
    )
    .await;
    let (_, map) = get(&c, "/rzero/api/service-map").await;
    let nodes = map["data"]["nodes"].as_array().expect("nodes");
    let kind = |id: &str| {
        nodes
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| n["kind"].clone())
    };
    assert_eq!(kind("ledger"), Some(json!("service")), "{map}");
    assert_eq!(kind("orders-db"), Some(json!("database")), "{map}");
    for address in ["10.0.0.7", "ledger.internal", "mysql (db9)"] {
        assert_eq!(
            kind(address),
            None,
            "{address} is named by peer.service: {map}"
        );
    }
    assert_eq!(
        edge(&map, "gateway", "orders")["calls"],
        11,
        "the shop's ten and this one"
    );
    assert_eq!(edge(&map, "gateway", "ledger")["calls"], 1);
    assert_eq!(edge(&map, "gateway", "orders-db")["calls"], 1);
}

#[tokio::test]
async fn the_trace_list_finds_by_an_attribute_of_any_type() {
    let (c, base) = start().await;
    // Two more gateway calls, answered 500 and 200 (integers, as the conventions say).
    let status = |code: i64| {
        vec![otlp::kv_of(
            "http.response.status_code",
            opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(code),
        )]
    };
    let mut failed = otlp::span((0x50, 1, None, "GET /x", otlp::SERVER, base, 4, true, &[]));
    failed.attributes = status(500);
    let mut fine = otlp::span((0x20, 1, None, "GET /x", otlp::SERVER, base, 4, false, &[]));
    fine.attributes = status(200);
    let http = c.http_addr().expect("http");
    otlp::post_traces(http, &otlp::export("gateway", vec![failed, fine])).await;
    let ids = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|t| t["trace_id"].as_str().expect("id").to_owned())
            .collect()
    };
    let (_, v) = get(&c, "/rzero/api/traces?attr=http.response.status_code%3D500").await;
    assert_eq!(ids(&v), ["50".repeat(16)], "{v}");
    let (_, v) = get(
        &c,
        "/rzero/api/traces?attr=server.address%3Dpayments.example",
    )
    .await;
    assert_eq!(ids(&v).len(), 10, "every shop trace calls payments");
    let (status, v) = get(&c, "/rzero/api/traces?attr=nokey").await;
    assert_eq!(status, 400, "{v}");
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
