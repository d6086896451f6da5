//! The receiver speaks OTLP as a collector does: protobuf and JSON over HTTP, gzip,
//! partial success, the protocol's error statuses; the store keeps its limits; the JSON
//! API answers. All through real sockets on loopback.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use rzero_collector::{Collector, CollectorConfig, RunningCollector, StoreLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(limits: StoreLimits, max_body_bytes: usize) -> RunningCollector {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    Collector::start(CollectorConfig {
        otlp_grpc: Some(any),
        otlp_http: Some(any),
        ui: Some(any),
        limits,
        max_body_bytes,
        ..CollectorConfig::default()
    })
    .await
    .expect("start")
}

/// A minimal HTTP/1.1 exchange: (status, body).
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(body).await.expect("body");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .expect("answer within 10 s")
        .expect("read");
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head end");
    let status_line = String::from_utf8_lossy(&out[..split]).to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut body = out[split + 4..].to_vec();
    if status_line
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

fn span(trace: u8, id: u8, parent: Option<u8>, name: &str) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        kind: 2,
        start_time_unix_nano: 1_000 + u64::from(id),
        end_time_unix_nano: 2_000_000 + u64::from(id),
        attributes: vec![KeyValue {
            key: "http.route".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("/api/v1/orders".into())),
            }),
            ..Default::default()
        }],
        status: (name == "fails").then(|| Status {
            code: 2,
            message: "boom".into(),
        }),
        ..Default::default()
    }
}

fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(service.into())),
                    }),
                    ..Default::default()
                }],
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

/// `google.rpc.Status` as the receiver sends it.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

const PROTO: (&str, &str) = ("content-type", "application/x-protobuf");
const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn protobuf_gzip_and_json_are_accepted_and_queryable() {
    let c = start(StoreLimits::default(), 1 << 20).await;
    let http_addr = c.http_addr().expect("http");
    let body = request(
        "svc-a",
        vec![span(1, 1, None, "root"), span(1, 2, Some(1), "fails")],
    )
    .encode_to_vec();
    let (status, resp) = http(http_addr, "POST", "/v1/traces", &[PROTO], &body).await;
    assert_eq!(status, 200);
    let resp = ExportTraceServiceResponse::decode(resp.as_slice()).expect("protobuf answer");
    assert!(resp.partial_success.is_none());

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&request("svc-b", vec![span(2, 3, None, "gz")]).encode_to_vec())
        .expect("gzip");
    let gz = gz.finish().expect("gzip");
    let (status, _) = http(
        http_addr,
        "POST",
        "/v1/traces",
        &[PROTO, ("content-encoding", "gzip")],
        &gz,
    )
    .await;
    assert_eq!(status, 200);

    let json = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc-json"}}]},
        "scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
        "name":"from-json","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"5"}]}]}]}"#;
    let (status, resp) = http(http_addr, "POST", "/v1/traces", &[JSON], json.as_bytes()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    assert!(resp.starts_with(b"{"), "JSON answer to a JSON request");

    let store = c.store();
    assert_eq!(store.span_count(), 4);
    let t = store.trace(&"01".repeat(16)).expect("trace 1");
    assert_eq!(t.spans[0].name, "root");
    assert_eq!(
        t.spans[1].parent_span_id.as_deref(),
        Some("0101010101010101")
    );
    assert_eq!(t.spans[1].status_code, "Error");
    assert_eq!(t.spans[0].service, "svc-a");
    assert!(
        store.trace("0af7651916cd43dd8448eb211c80319c").is_some(),
        "JSON ids are hex"
    );

    let ui = c.ui_addr().expect("ui");
    let (status, body) = http(
        ui,
        "GET",
        &format!("/rzero/api/traces/{}", "01".repeat(16)),
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["data"]["spans"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["data"]["spans"][0]["resource_index"], 0);
    assert_eq!(v["data"]["resources"][0]["service.name"], "svc-a");
    let (status, body) = http(ui, "GET", "/rzero/api/traces?errors=true", &[], b"").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["data"][0]["root_operation"], "root");
    let (status, body) = http(ui, "GET", "/rzero/api/services", &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("json")["data"],
        serde_json::json!(["svc-a", "svc-b", "svc-json"])
    );
    c.shutdown().await;
}

/// What, request headers, body, expected status.
type BadCase = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<u8>,
    u16,
);

#[tokio::test]
async fn bad_payloads_get_protocol_errors_and_leave_the_store_alone() {
    let c = start(StoreLimits::default(), 64 * 1024).await;
    let addr = c.http_addr().expect("http");
    let cases: Vec<BadCase> = vec![
        (
            "garbage protobuf",
            vec![PROTO],
            vec![0xff, 0xff, 0xff, 0x0f, 0x01],
            400,
        ),
        (
            "garbage json",
            vec![JSON],
            b"{\"resourceSpans\": [".to_vec(),
            400,
        ),
        (
            "wrong json types",
            vec![JSON],
            br#"{"resourceSpans": 7}"#.to_vec(),
            400,
        ),
        ("no content type", vec![], b"x".to_vec(), 415),
        (
            "text/plain",
            vec![("content-type", "text/plain")],
            b"x".to_vec(),
            415,
        ),
        (
            "bad gzip",
            vec![PROTO, ("content-encoding", "gzip")],
            b"not gzip".to_vec(),
            400,
        ),
        (
            "brotli",
            vec![PROTO, ("content-encoding", "br")],
            b"x".to_vec(),
            415,
        ),
        ("too large", vec![PROTO], vec![0u8; 65 * 1024], 413),
        ("empty protobuf", vec![PROTO], Vec::new(), 400),
        ("empty json", vec![JSON], Vec::new(), 400),
    ];
    for (what, headers, body, want) in cases {
        let (status, resp) = http(addr, "POST", "/v1/traces", &headers, &body).await;
        assert_eq!(status, want, "{what}: {}", String::from_utf8_lossy(&resp));
    }
    // A gzip bomb: small on the wire, far over the limit once inflated.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![0u8; 10 << 20]).expect("gzip");
    let bomb = gz.finish().expect("gzip");
    let (status, _) = http(
        addr,
        "POST",
        "/v1/traces",
        &[PROTO, ("content-encoding", "gzip")],
        &bomb,
    )
    .await;
    assert_eq!(status, 413);
    let (status, body) = http(addr, "POST", "/v1/traces", &[PROTO], &[0x0a, 0x05, 0x01]).await;
    assert_eq!(status, 400);
    let rpc = RpcStatus::decode(body.as_slice()).expect("a google.rpc.Status body");
    assert_eq!(rpc.code, 3, "INVALID_ARGUMENT");
    assert!(rpc.message.contains("does not decode"), "{}", rpc.message);
    let (status, body) = http(addr, "POST", "/v1/logs", &[JSON], b"[1,2]").await;
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("a JSON Status");
    assert_eq!(v["code"], 3, "{v}");
    let (status, _) = http(addr, "GET", "/v1/traces", &[], b"").await;
    assert_eq!(status, 405);
    assert_eq!(c.store().span_count(), 0);

    let ui = c.ui_addr().expect("ui");
    assert_eq!(
        http(ui, "GET", "/rzero/api/traces/not-an-id", &[], b"")
            .await
            .0,
        400
    );
    assert_eq!(
        http(
            ui,
            "GET",
            &format!("/rzero/api/traces/{}", "ab".repeat(16)),
            &[],
            b""
        )
        .await
        .0,
        404
    );
    assert_eq!(
        http(ui, "GET", "/rzero/api/traces?limit=lots", &[], b"")
            .await
            .0,
        400
    );
    // A trace's logs: a bad id says what an id is; a trace without logs has none.
    let (status, body) = http(ui, "GET", "/rzero/api/traces/zz/logs", &[], b"").await;
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert!(
        v["msg"]
            .as_str()
            .is_some_and(|m| m.contains("32 hex digits")),
        "{v}"
    );
    let path = format!("/rzero/api/traces/{}/logs", "ab".repeat(16));
    let (status, body) = http(ui, "GET", &path, &[], b"").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["data"], serde_json::json!([]));
    c.shutdown().await;
}

#[tokio::test]
async fn invalid_ids_are_a_partial_success() {
    let c = start(StoreLimits::default(), 1 << 20).await;
    let mut bad = span(3, 1, None, "bad");
    bad.span_id = vec![0; 8];
    let body = request("svc", vec![span(3, 2, None, "good"), bad]).encode_to_vec();
    let (status, resp) = http(
        c.http_addr().expect("http"),
        "POST",
        "/v1/traces",
        &[PROTO],
        &body,
    )
    .await;
    assert_eq!(status, 200);
    let resp = ExportTraceServiceResponse::decode(resp.as_slice()).expect("decode");
    assert_eq!(resp.partial_success.map(|p| p.rejected_spans), Some(1));
    assert_eq!(c.store().span_count(), 1);
    c.shutdown().await;
}

#[tokio::test]
async fn a_flood_keeps_the_store_within_its_limits() {
    let limits = StoreLimits {
        max_spans: 500,
        max_traces: 20,
        max_spans_per_trace: 50,
        ..StoreLimits::default()
    };
    let c = start(limits, 8 << 20).await;
    let addr = c.http_addr().expect("http");
    for batch in 0..40u8 {
        // 40 traces of 60 spans: over every limit.
        let spans = (1..=60u8)
            .map(|i| {
                let mut s = span(batch + 1, i, None, "flood");
                s.attributes[0].value = Some(AnyValue {
                    value: Some(any_value::Value::StringValue("x".repeat(100_000))),
                });
                s
            })
            .collect();
        let (status, _) = http(
            addr,
            "POST",
            "/v1/traces",
            &[PROTO],
            &request("flood", spans).encode_to_vec(),
        )
        .await;
        assert_eq!(status, 200);
    }
    let stats = c.store().stats();
    assert!(stats.spans <= 500 && stats.traces <= 20, "{stats:?}");
    assert!(
        stats.rejected_spans >= 40 * 10,
        "per-trace limit counted: {stats:?}"
    );
    // Values are cut to 4 KiB, so 500 spans stay far under 500 * 100 KB.
    assert!(stats.span_bytes < 500 * 8 * 1024, "{stats:?}");
    let newest = c.store().trace(&format!("{:02x}", 40u8).repeat(16));
    assert!(
        newest.is_some(),
        "the newest trace is kept, the oldest evicted"
    );
    assert!(c.store().trace(&"01".repeat(16)).is_none());
    c.shutdown().await;
}
