//! The decode bomb of issue 15: 7 KiB of gzip that inflates to 8 MB (under the 16 MiB
//! body limit) and decodes to four million empty spans.
//!
//! `cargo bench -p rzero-collector --bench bomb` sends it to a running collector over
//! OTLP/HTTP and OTLP/gRPC (both gzip), and prints the process's resident memory before
//! and after, and its peak; then, for comparison, decodes the same bytes with prost
//! directly (what the receiver did before the pre-scan) and prints the peak again.

use std::io::Write;
use std::net::SocketAddr;

use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use rzero_collector::{Collector, CollectorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// `field` of /proc/self/status in bytes (VmRSS now, VmHWM peak).
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

fn mib(b: u64) -> f64 {
    b as f64 / f64::from(1 << 20)
}

/// `n` empty spans, hand-encoded, two bytes each.
fn bomb(n: usize) -> Vec<u8> {
    let mut scope = vec![0x12];
    prost::encoding::encode_varint(2 * n as u64, &mut scope);
    for _ in 0..n {
        scope.extend_from_slice(&[0x12, 0x00]);
    }
    let mut body = vec![0x0a];
    prost::encoding::encode_varint(scope.len() as u64, &mut body);
    body.extend(scope);
    body
}

async fn post(addr: SocketAddr, gz: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: b\r\nconnection: close\r\ncontent-type: \
         application/x-protobuf\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
        gz.len()
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(gz).await.expect("body");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("answer");
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Raw bytes out over gRPC (gzip'd by tonic), the status back: a prost client could
/// not send the bomb without building its gigabyte first.
#[derive(Clone, Copy)]
struct Raw;
struct RawEnc;
struct Ignore;

impl Codec for Raw {
    type Encode = Bytes;
    type Decode = ();
    type Encoder = RawEnc;
    type Decoder = Ignore;
    fn encoder(&mut self) -> RawEnc {
        RawEnc
    }
    fn decoder(&mut self) -> Ignore {
        Ignore
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

impl Decoder for Ignore {
    type Item = ();
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        src.advance(src.remaining());
        Ok(Some(()))
    }
}

async fn grpc_raw(addr: SocketAddr, body: Vec<u8>) -> tonic::Code {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel).send_compressed(CompressionEncoding::Gzip);
    grpc.ready().await.expect("ready");
    let path = http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    );
    match grpc
        .unary(tonic::Request::new(Bytes::from(body)), path, Raw)
        .await
    {
        Ok(_) => tonic::Code::Ok,
        Err(e) => e.code(),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let raw = bomb(4_000_000);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&raw).expect("gzip");
    let gz = enc.finish().expect("gzip");
    println!(
        "bomb: {} spans, {:.1} KiB of gzip, {:.1} MiB inflated",
        4_000_000,
        gz.len() as f64 / 1024.0,
        mib(raw.len() as u64)
    );
    rt.block_on(async {
        let any = "127.0.0.1:0".parse().ok();
        let c = Collector::start(CollectorConfig {
            otlp_grpc: any,
            otlp_http: any,
            ui: None,
            ..CollectorConfig::default()
        })
        .await
        .expect("start");
        let before = status_bytes("VmRSS:");
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(post(c.http_addr().expect("http"), &gz).await);
        }
        let grpc = grpc_raw(c.grpc_addr().expect("grpc"), raw.clone()).await;
        answers.push(format!("gRPC {grpc:?}"));
        let after = status_bytes("VmRSS:");
        let peak = status_bytes("VmHWM:");
        println!("guarded receiver: answers {:?}", answers);
        println!(
            "guarded receiver: RSS {:.1} MiB before, {:.1} MiB after 4 bombs, peak {:.1} MiB",
            mib(before),
            mib(after),
            mib(peak)
        );
        c.shutdown().await;
    });
    // What the receiver did before: prost decodes whatever passed the body limit.
    let decoded = ExportTraceServiceRequest::decode(raw.as_slice()).expect("decodes");
    let spans: usize = decoded
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    println!(
        "unguarded prost decode (the old receiver): {} spans, RSS {:.1} MiB, peak {:.1} MiB",
        spans,
        mib(status_bytes("VmRSS:")),
        mib(status_bytes("VmHWM:"))
    );
}
