//! The viewer's views in a real browser (Debian's headless Chromium): the service map,
//! RED charts with click-through to traces, the critical path in the waterfall, trace
//! comparison, search by attribute, and the OTLP download; screenshots under
//! `target/artifacts/`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use rzero_collector::{Collector, CollectorConfig};

mod chrome;

use chrome::{CHROMIUM, artifacts, attr_values, chromium};
const MS: u64 = 1_000_000;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// `(trace, id, parent, name, kind, start, ms, error, attributes)`.
type Sp<'a> = (
    u8,
    u8,
    Option<u8>,
    &'a str,
    i32,
    u64,
    u64,
    bool,
    &'a [(&'a str, &'a str)],
);

fn span(s: Sp<'_>) -> Span {
    let (trace, id, parent, name, kind, start, ms, error, attrs) = s;
    Span {
        trace_id: vec![trace; 16],
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

const CRIT: u8 = 0xcc;

/// Ten traces (ids 1..=10) as in the analytics test: gateway -> orders -> MySQL and,
/// for odd ids, Redis; the gateway also calls payments.example. And trace 0xcc, whose
/// critical path the test knows: root 0-100 ms; A 0-30; B 20-90 (ends last); C 35-50
/// (inside B's time, off the path); B1 60-85 under B.
fn data(now: u64) -> Vec<ExportTraceServiceRequest> {
    let minute = 60_000 * MS;
    let base = (now / minute - 3) * minute;
    let (mut gateway, mut orders) = (Vec::new(), Vec::new());
    for i in 0..10u64 {
        let t = i as u8 + 1;
        let start = base + if i < 6 { i } else { 60 + i } * 1000 * MS;
        let failed = i == 3 || i == 7;
        gateway.push(span((
            t,
            1,
            None,
            "POST /orders",
            2,
            start,
            10 * (i + 1),
            failed,
            &[],
        )));
        gateway.push(span((
            t,
            2,
            Some(1),
            "POST orders",
            3,
            start + MS,
            6 * (i + 1),
            false,
            &[("server.address", "orders")],
        )));
        gateway.push(span((
            t,
            3,
            Some(1),
            "POST payments",
            3,
            start + MS,
            3,
            false,
            &[("server.address", "payments.example")],
        )));
        orders.push(span((
            t,
            4,
            Some(2),
            "orders.Create",
            2,
            start + 2 * MS,
            5 * (i + 1),
            failed,
            &[],
        )));
        orders.push(span((
            t,
            5,
            Some(4),
            "INSERT orders",
            3,
            start + 3 * MS,
            2,
            false,
            &[("db.system.name", "mysql"), ("server.address", "db1")],
        )));
        if i % 2 == 0 {
            orders.push(span((
                t,
                6,
                Some(4),
                "SET",
                3,
                start + 3 * MS,
                1,
                i == 4,
                &[("db.system", "redis"), ("server.address", "cache1")],
            )));
        }
    }
    let c = base + 30_000 * MS;
    let crit = vec![
        span((CRIT, 1, None, "GET /slow", 2, c, 100, false, &[])),
        span((CRIT, 2, Some(1), "A", 1, c, 30, false, &[])),
        span((CRIT, 3, Some(1), "B", 1, c + 20 * MS, 70, false, &[])),
        span((CRIT, 4, Some(1), "C", 1, c + 35 * MS, 15, false, &[])),
        span((CRIT, 5, Some(3), "B1", 1, c + 60 * MS, 25, false, &[])),
    ];
    vec![
        export("gateway", gateway),
        export("orders", orders),
        export("slow-svc", crit),
    ]
}

/// `(class, data-span-id)` of each waterfall row.
fn rows(dom: &str) -> Vec<(String, String)> {
    dom.split("<div class=\"span-row")
        .skip(1)
        .filter_map(|chunk| {
            let class = chunk.split('"').next()?.to_owned();
            let id = attr_values(chunk, "data-span-id").into_iter().next()?;
            Some((class, id))
        })
        .collect()
}

async fn get_text(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_draw_what_the_spans_say() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("SKIPPED: {CHROMIUM} is missing; `cargo xtask test` installs Debian's chromium");
        return;
    }
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let collector = Collector::start(CollectorConfig {
        otlp_grpc: None,
        otlp_http: None,
        ui: Some(any),
        ..CollectorConfig::default()
    })
    .await
    .expect("start");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64;
    for r in data(now) {
        collector.store().ingest_traces(&r);
    }
    let ui = collector.ui_addr().expect("ui");
    let base = format!("http://{ui}");
    let id = |t: u8| format!("{t:02x}").repeat(16);
    let urls = [
        format!("{base}/#/map"),
        format!("{base}/#/red?service=gateway"),
        format!("{base}/#/trace/{}", id(CRIT)),
        format!("{base}/#/compare/{}/{}", id(1), id(10)),
        format!("{base}/#/?attr=db.system%3Dredis"),
    ];
    let dir = artifacts();
    let shots = [
        "viewer-map.png",
        "viewer-red.png",
        "viewer-critical-path.png",
        "viewer-compare.png",
        "viewer-search.png",
    ];
    let doms = tokio::task::spawn_blocking(move || {
        let doms: Vec<String> = urls.iter().map(|u| chromium(u, None)).collect();
        for (u, name) in urls.iter().zip(shots) {
            chromium(u, Some(&dir.join(name)));
        }
        doms
    })
    .await
    .expect("join");
    let (map, red, trace, compare, search) = (&doms[0], &doms[1], &doms[2], &doms[3], &doms[4]);

    let nodes: Vec<String> = attr_values(map, "data-node-id");
    assert_eq!(
        nodes,
        [
            "gateway",
            "mysql (db1)",
            "orders",
            "payments.example",
            "redis (cache1)",
            "slow-svc"
        ],
        "{map}"
    );
    let edges = attr_values(map, "data-edge");
    assert!(
        edges.contains(&"gateway-&gt;orders".to_owned())
            || edges.contains(&"gateway->orders".to_owned()),
        "{edges:?}"
    );
    assert!(map.contains("10 calls · 20% err"), "edge label");

    assert_eq!(
        attr_values(red, "data-operation"),
        ["POST /orders"],
        "entry spans of gateway"
    );
    let counts = attr_values(red, "data-count");
    assert!(
        counts.contains(&"6".to_owned()) && counts.contains(&"4".to_owned()),
        "{counts:?}"
    );

    let hex = |b: u8| format!("{b:02x}").repeat(8);
    let critical: Vec<String> = rows(trace)
        .into_iter()
        .filter(|(class, _)| class.contains("critical"))
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        critical,
        [hex(1), hex(2), hex(3), hex(5)],
        "root, A, B, B1; not C"
    );
    assert!(trace.contains("id=\"download-otlp\""), "download link");

    assert!(
        compare.contains("data-key=\"orders: SET\" data-count-a=\"1\" data-count-b=\"0\""),
        "{compare}"
    );
    assert!(compare.contains("cmp-row diff"), "differences marked");

    let listed = attr_values(search, "data-trace-id");
    assert_eq!(
        listed.len(),
        5,
        "the five traces with a Redis call: {listed:?}"
    );

    let otlp = get_text(ui, &format!("/rzero/api/traces/{}/otlp", id(CRIT))).await;
    assert!(otlp.contains("attachment; filename=\"trace-"), "{otlp}");
    assert!(otlp.contains("\"resourceSpans\""), "OTLP JSON: {otlp}");
    for name in shots {
        assert!(artifacts().join(name).exists(), "{name} saved");
    }
}
