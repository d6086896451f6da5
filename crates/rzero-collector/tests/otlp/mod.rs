//! OTLP test data for the collector's tests: attributes, spans and export requests built
//! from a few numbers, the "shop" traces whose counts and durations the analytics and
//! views tests both know, and a raw HTTP/1.1 client for the receiver and the API.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A millisecond in nanoseconds.
pub(crate) const MS: u64 = 1_000_000;
/// OTLP span kinds.
pub(crate) const INTERNAL: i32 = 1;
pub(crate) const SERVER: i32 = 2;
pub(crate) const CLIENT: i32 = 3;

/// A string value.
pub(crate) fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.into())
}

/// A string attribute.
pub(crate) fn kv(key: &str, v: &str) -> KeyValue {
    kv_of(key, s(v))
}

/// An attribute of any value.
pub(crate) fn kv_of(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

/// A resource named `service`, with `extra` attributes.
pub(crate) fn resource(service: &str, extra: Vec<KeyValue>) -> Resource {
    let mut attributes = vec![kv("service.name", service)];
    attributes.extend(extra);
    Resource {
        attributes,
        ..Default::default()
    }
}

/// One export request: `spans` from `resource`.
pub(crate) fn export_from(resource: Resource, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One export request: `spans` from `service`.
pub(crate) fn export(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    export_from(resource(service, Vec::new()), spans)
}

/// Now, Unix nanoseconds.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64
}

/// Lower-case hex.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `(trace, id, parent, name, kind, start, ms, error, attributes)`: trace id `[trace; 16]`,
/// span id `[id; 8]`, starting at `start` (Unix ns), lasting `ms`.
pub(crate) type Sp<'a> = (
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

/// The span `s` describes; an error has status Error, message "failed".
pub(crate) fn span(s: Sp<'_>) -> Span {
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

/// The shop: ten traces, ids `[i + 1; 16]` for i = 0..9, six in the minute that starts at
/// `base`, four in the next. Gateway root "POST /orders" (10·(i+1) ms, error for i = 3
/// and 7) -> gateway client -> orders server "orders.Create" (5·(i+1) ms, same errors) ->
/// MySQL (2 ms) and, for even i, Redis (1 ms, error for i = 4); the gateway also calls
/// payments.example (3 ms), which sends no spans. Export requests of gateway and orders.
pub(crate) fn shop(base: u64) -> [ExportTraceServiceRequest; 2] {
    let (mut gateway, mut orders) = (Vec::new(), Vec::new());
    for i in 0..10u64 {
        let t = i as u8 + 1;
        let start = base + if i < 6 { i } else { 60 + i } * 1000 * MS;
        let failed = i == 3 || i == 7;
        let ms = 10 * (i + 1);
        gateway.push(span((
            t,
            1,
            None,
            "POST /orders",
            SERVER,
            start,
            ms,
            failed,
            &[],
        )));
        let orders_call = [("server.address", "orders")];
        gateway.push(span((
            t,
            2,
            Some(1),
            "POST orders",
            CLIENT,
            start + MS,
            6 * (i + 1),
            false,
            &orders_call,
        )));
        let payments = [("server.address", "payments.example")];
        gateway.push(span((
            t,
            3,
            Some(1),
            "POST payments",
            CLIENT,
            start + MS,
            3,
            false,
            &payments,
        )));
        let create = (
            t,
            4,
            Some(2),
            "orders.Create",
            SERVER,
            start + 2 * MS,
            5 * (i + 1),
            failed,
            &[][..],
        );
        orders.push(span(create));
        let mysql = [("db.system.name", "mysql"), ("server.address", "db1")];
        orders.push(span((
            t,
            5,
            Some(4),
            "INSERT orders",
            CLIENT,
            start + 3 * MS,
            2,
            false,
            &mysql,
        )));
        if i % 2 == 0 {
            let redis = [("db.system", "redis"), ("server.address", "cache1")];
            orders.push(span((
                t,
                6,
                Some(4),
                "SET",
                CLIENT,
                start + 3 * MS,
                1,
                i == 4,
                &redis,
            )));
        }
    }
    [export("gateway", gateway), export("orders", orders)]
}

/// `GET path`: the whole answer, head and body, as text.
pub(crate) async fn get_raw(addr: SocketAddr, path: &str) -> String {
    String::from_utf8(exchange(addr, "GET", path, "text/plain", b"").await).expect("utf-8")
}

/// One HTTP/1.1 exchange on a fresh connection: status and body.
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    ctype: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let out = exchange(addr, method, path, ctype, body).await;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head end");
    let status = String::from_utf8_lossy(&out[..split])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, out[split + 4..].to_vec())
}

async fn exchange(addr: SocketAddr, method: &str, path: &str, ctype: &str, body: &[u8]) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(body).await.expect("body");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("an answer within 20 s")
        .expect("read");
    out
}

/// `GET path` answered with JSON: status and value.
pub(crate) async fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (status, body) = http(addr, "GET", path, "text/plain", b"").await;
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{path}: {e}: {}", String::from_utf8_lossy(&body)));
    (status, v)
}

/// Posts `req` as OTLP/HTTP protobuf to the receiver at `addr`; expects 200.
pub(crate) async fn post_traces(addr: SocketAddr, req: &ExportTraceServiceRequest) {
    let (status, body) = http(
        addr,
        "POST",
        "/v1/traces",
        "application/x-protobuf",
        &req.encode_to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}
