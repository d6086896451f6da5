//! Hostile and broken clients against the real receiver on loopback: decompression and
//! decode bombs (protobuf and JSON), malformed bodies, a missing or wrong bearer token,
//! a body sent too slowly, more streams on one connection than allowed, and an upstream that never
//! answers. Each is refused with a clear status and message, and the collector keeps
//! serving well-behaved clients.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use rzero_collector::{Collector, CollectorConfig, RunningCollector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};

fn any() -> Option<SocketAddr> {
    "127.0.0.1:0".parse().ok()
}

async fn start(config: CollectorConfig) -> RunningCollector {
    Collector::start(CollectorConfig {
        otlp_grpc: any(),
        otlp_http: any(),
        ui: None,
        ..config
    })
    .await
    .expect("start")
}

fn span(n: u64) -> Span {
    let mut trace_id = [0u8; 16];
    trace_id[8..].copy_from_slice(&(n / 4 + 1).to_be_bytes());
    Span {
        trace_id: trace_id.to_vec(),
        span_id: (n + 1).to_be_bytes().to_vec(),
        name: "GET /ok".into(),
        start_time_unix_nano: 1,
        end_time_unix_nano: 2,
        ..Default::default()
    }
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// `n` empty spans, hand-encoded (two bytes each), without building them in memory.
fn bomb(n: usize) -> Vec<u8> {
    let scope_len = 2 * n;
    let mut scope = Vec::with_capacity(scope_len + 16);
    scope.put_u8(0x12);
    prost::encoding::encode_varint(scope_len as u64, &mut scope);
    for _ in 0..n {
        scope.extend_from_slice(&[0x12, 0x00]);
    }
    let mut body = vec![0x0a];
    prost::encoding::encode_varint(scope.len() as u64, &mut body);
    body.extend(scope);
    body
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b).expect("gzip");
    gz.finish().expect("gzip")
}

/// A minimal HTTP/1.1 exchange: (status, head, body).
async fn http(addr: SocketAddr, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(body).await.expect("body");
    read_answer(stream).await
}

async fn read_answer(mut stream: TcpStream) -> (u16, String, String) {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut out))
        .await
        .expect("an answer")
        .expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head.to_ascii_lowercase(), body.to_owned())
}

const PROTO: (&str, &str) = ("content-type", "application/x-protobuf");
const JSON: (&str, &str) = ("content-type", "application/json");
const GZIP: (&str, &str) = ("content-encoding", "gzip");

/// Raw bytes out over gRPC, the export answer back: what a broken or hostile client
/// can send that a prost client would not.
#[derive(Clone, Copy)]
struct Raw;
struct RawEnc;
struct AnswerDec;

impl Codec for Raw {
    type Encode = Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = RawEnc;
    type Decoder = AnswerDec;
    fn encoder(&mut self) -> RawEnc {
        RawEnc
    }
    fn decoder(&mut self) -> AnswerDec {
        AnswerDec
    }
}

impl Encoder for RawEnc {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for AnswerDec {
    type Item = ExportTraceServiceResponse;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, tonic::Status> {
        let b = src.copy_to_bytes(src.remaining());
        ExportTraceServiceResponse::decode(b)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

async fn grpc_raw(addr: SocketAddr, body: Vec<u8>, gzip: bool) -> Result<(), tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);
    if gzip {
        grpc = grpc.send_compressed(CompressionEncoding::Gzip);
    }
    grpc.ready().await.expect("ready");
    let path = http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    );
    grpc.unary(tonic::Request::new(Bytes::from(body)), path, Raw)
        .await
        .map(|_| ())
}

async fn client(addr: SocketAddr) -> TraceServiceClient<tonic::transport::Channel> {
    TraceServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_before_it_is_decoded() {
    let c = start(CollectorConfig::default()).await;
    // Four million empty spans: 8 MB inflated (under the 16 MiB body limit), a few KiB
    // of gzip, ~1 GiB once decoded.
    let raw = bomb(4_000_000);
    let gz = gzip(&raw);
    assert!(gz.len() < 64 << 10, "{} bytes of gzip", gz.len());
    let (status, _, body) = http(c.http_addr().expect("http"), &[PROTO, GZIP], &gz).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("4000000 spans"), "says what it holds: {body}");
    assert!(body.contains("smaller batches"), "says what to do: {body}");

    let e = grpc_raw(c.grpc_addr().expect("grpc"), raw, true)
        .await
        .expect_err("refused");
    assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("4000000 spans"), "{e:?}");

    // Nothing of it was kept, and the next, ordinary request is served.
    assert_eq!(c.store().stats().received_spans, 0);
    let ok = client(c.grpc_addr().expect("grpc"))
        .await
        .export(request(vec![span(1)]))
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    assert_eq!(c.store().span_count(), 1);
}

#[tokio::test]
async fn a_json_bomb_is_refused_too() {
    let c = start(CollectorConfig {
        max_decoded_bytes: 8 << 20,
        ..CollectorConfig::default()
    })
    .await;
    let body = format!(
        "{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{}]}}]}}]}}",
        vec!["{}"; 200_000].join(",")
    );
    let (status, head, answer) = http(c.http_addr().expect("http"), &[JSON], body.as_bytes()).await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        head.contains("application/json"),
        "answered in JSON: {head}"
    );
    assert!(
        answer.contains("\"code\":8"),
        "RESOURCE_EXHAUSTED in the status: {answer}"
    );
}

#[tokio::test]
async fn a_real_client_over_the_decode_limit_is_told_why() {
    let c = start(CollectorConfig {
        max_decoded_bytes: 1 << 20,
        ..CollectorConfig::default()
    })
    .await;
    let mut grpc = client(c.grpc_addr().expect("grpc")).await;
    let big = request((0..20_000).map(span).collect());
    let e = grpc.export(big).await.expect_err("over the limit");
    assert_eq!(e.code(), tonic::Code::ResourceExhausted);
    assert!(e.message().contains("20000 spans"), "{e:?}");
    // Batches of an ordinary size pass.
    let small = request((0..500).map(span).collect());
    assert!(grpc.export(small).await.is_ok());
    assert_eq!(c.store().span_count(), 500);
}

#[tokio::test]
async fn malformed_bodies_get_invalid_argument_and_400() {
    let c = start(CollectorConfig::default()).await;
    for garbage in [vec![0x0a, 0x7f, 0x01], vec![0xff; 12], vec![0x0b, 0x00]] {
        let e = grpc_raw(c.grpc_addr().expect("grpc"), garbage.clone(), false)
            .await
            .expect_err("malformed");
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        assert!(e.message().contains("does not decode"), "{e:?}");
        let (status, _, _) = http(c.http_addr().expect("http"), &[PROTO], &garbage).await;
        assert_eq!(status, 400);
    }
    // A gzip body that is not gzip.
    let (status, _, body) = http(c.http_addr().expect("http"), &[PROTO, GZIP], b"not gzip").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(c.store().stats().received_spans, 0);
}

#[tokio::test]
async fn a_token_is_required_when_set() {
    let c = start(CollectorConfig {
        auth_token: Some("s3cret-token".into()),
        ..CollectorConfig::default()
    })
    .await;
    let body = request(vec![span(1)]).encode_to_vec();
    let addr = c.http_addr().expect("http");
    let (status, head, msg) = http(addr, &[PROTO], &body).await;
    assert_eq!(status, 401);
    assert!(head.contains("www-authenticate: bearer"), "{head}");
    assert!(msg.contains("--auth-token"), "{msg}");
    let wrong = http(
        addr,
        &[PROTO, ("authorization", "Bearer s3cret-tokem")],
        &body,
    )
    .await;
    assert_eq!(wrong.0, 401);
    let right = http(
        addr,
        &[PROTO, ("authorization", "Bearer s3cret-token")],
        &body,
    )
    .await;
    assert_eq!(right.0, 200, "{}", right.2);

    let mut grpc = client(c.grpc_addr().expect("grpc")).await;
    let e = grpc
        .export(request(vec![span(2)]))
        .await
        .expect_err("no token");
    assert_eq!(e.code(), tonic::Code::Unauthenticated, "{e:?}");
    let mut req = tonic::Request::new(request(vec![span(2)]));
    req.metadata_mut().insert(
        "authorization",
        "Bearer s3cret-token".parse().expect("metadata"),
    );
    assert!(grpc.export(req).await.is_ok());
    assert_eq!(c.store().span_count(), 2);
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_408() {
    let c = start(CollectorConfig {
        request_timeout: Duration::from_millis(300),
        ..CollectorConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(c.http_addr().expect("http"))
        .await
        .expect("connect");
    let head = "POST /v1/traces HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\
                content-type: application/x-protobuf\r\ncontent-length: 1000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&[0x0a]).await.expect("a byte");
    // ... and the other 999 never come.
    let (status, _, body) = read_answer(stream).await;
    assert_eq!(status, 408, "{body}");
}

#[tokio::test]
async fn streams_over_the_per_connection_limit_are_refused_as_retryable() {
    let c = start(CollectorConfig {
        max_streams_per_connection: 2,
        ..CollectorConfig::default()
    })
    .await;
    let grpc = client(c.grpc_addr().expect("grpc")).await;
    let calls = (0..64u64).map(|i| {
        let mut g = grpc.clone();
        async move { (i, g.export(request(vec![span(i * 8)])).await) }
    });
    let results = futures_util::future::join_all(calls).await;
    let served = results.iter().filter(|(_, r)| r.is_ok()).count();
    assert!(served >= 2, "{served} served");
    // The rest were refused with REFUSED_STREAM: UNAVAILABLE, which exporters retry;
    // retried one at a time, each is served.
    for (i, r) in &results {
        if let Err(e) = r {
            assert_eq!(e.code(), tonic::Code::Unavailable, "{e:?}");
            let mut g = grpc.clone();
            assert!(g.export(request(vec![span(i * 8)])).await.is_ok());
        }
    }
    assert_eq!(c.store().span_count(), 64);
}

#[tokio::test]
async fn the_forward_queue_is_bounded_in_bytes() {
    // An upstream that accepts connections and never answers.
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let up = upstream.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = upstream.accept().await {
            held.push(s);
        }
    });
    let c = start(CollectorConfig {
        forward: Some(format!("http://{up}")),
        forward_queue_bytes: 256 << 10,
        ..CollectorConfig::default()
    })
    .await;
    let mut grpc = client(c.grpc_addr().expect("grpc")).await;
    for i in 0..20u64 {
        // ~100 KiB decoded each: two fit in the queue, the rest are dropped.
        let batch = request((0..300).map(|n| span(i * 1000 + n)).collect());
        assert!(
            grpc.export(batch).await.is_ok(),
            "the store takes it anyway"
        );
    }
    let stats = c.forward_stats().expect("forwarding");
    assert!(stats.dropped >= 15, "{stats:?}");
    assert!(stats.dropped_bytes > 15 * (64 << 10), "{stats:?}");
    assert!(stats.queued_bytes <= 256 << 10, "{stats:?}");
    assert_eq!(c.store().span_count(), 6000);
    hold.abort();
}
