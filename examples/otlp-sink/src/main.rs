//! `otlp-sink GRPC_ADDR COUNTS_ADDR`: the export target of `cargo xtask bench-side`.
//!
//! It implements the three OTLP/gRPC collector services and answers every export with a
//! full success, storing nothing: a real collector's work (decoding into a store, a
//! viewer) would share the benchmark's cores and blur what the services themselves cost.
//! It counts what it received, and a TCP connection to `COUNTS_ADDR` gets one line back:
//!
//! ```text
//! spans 1234 trace_bytes 56789 trace_exports 3 metric_bytes 4321 log_bytes 0 cpu_us 81234
//! ```
//!
//! `cpu_us` is the sink's own CPU time so far (user + system, every thread), so that the
//! harness can show how much of the shared cores the sink itself took.
//!
//! The counts line is written by hand over a plain socket (no HTTP) so that the harness,
//! which has no dependencies, can read it with `std::net::TcpStream`.

use std::convert::Infallible;
use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use prost::bytes::Buf;
use prost::encoding::{DecodeContext, WireType, check_wire_type, skip_field};
use prost::{DecodeError, Message};
use tonic::body::Body;
use tonic::codec::CompressionEncoding;
use tonic::codegen::{BoxFuture, Context, Poll, Service, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Code, Request, Response, Status};

/// What has been received since the sink started; the harness takes differences.
#[derive(Debug, Default)]
struct Counts {
    spans: AtomicU64,
    trace_bytes: AtomicU64,
    trace_exports: AtomicU64,
    metric_bytes: AtomicU64,
    log_bytes: AtomicU64,
}

impl Counts {
    fn line(&self) -> String {
        format!(
            "spans {} trace_bytes {} trace_exports {} metric_bytes {} log_bytes {} cpu_us {}\n",
            self.spans.load(Relaxed),
            self.trace_bytes.load(Relaxed),
            self.trace_exports.load(Relaxed),
            self.metric_bytes.load(Relaxed),
            self.log_bytes.load(Relaxed),
            own_cpu_us(),
        )
    }
}

/// This process's user + system CPU time in microseconds, from `/proc/self/stat` (fields
/// 14 and 15, in clock ticks of 10 ms on Linux); 0 where there is no procfs.
fn own_cpu_us() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    ticks * 10_000
}

/// An OTLP export request read only as far as counting goes: decode-only (it keeps no
/// field, so it encodes as an empty message).
///
/// Why not opentelemetry-proto's generated server: it decodes every span into owned
/// structs (a `String` per name, attribute key and value, a `Vec` per id and list), and
/// the sink then walked them again for `encoded_len`; at 50k spans a second that took a
/// share of the two cores the measured services run on, which in production belongs to a
/// collector elsewhere. The three OTLP requests have one shape, `resource_*` (field 1) >
/// `scope_*` (field 2) > items (field 2), so one message counts all three: each item is
/// skipped by its length, nothing is allocated. prost checks every length against the
/// buffer and the nesting depth, so a malformed request is a decode error, which tonic
/// answers with INVALID_ARGUMENT.
#[derive(Debug, Default, Clone, PartialEq)]
struct Count {
    /// Spans, metrics or log records.
    items: u64,
    /// The decoded (uncompressed) request size; set on the request, 0 on the levels below.
    bytes: u64,
    /// Where this message is: 0 the request, 1 a `resource_*`, 2 a `scope_*`.
    depth: u8,
}

impl Message for Count {
    fn encode_raw(&self, _buf: &mut impl prost::bytes::BufMut) {}

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        // The request's field 1 holds the resources, theirs and the scopes' field 2 the
        // level below; everything else is skipped.
        let wanted = if self.depth == 0 { 1 } else { 2 };
        if tag != wanted {
            return skip_field(wire_type, tag, buf, ctx);
        }
        if self.depth == 2 {
            // An item is a message: any other wire type there is not OTLP.
            check_wire_type(WireType::LengthDelimited, wire_type)?;
            self.items += 1;
            return skip_field(wire_type, tag, buf, ctx);
        }
        let mut below = Count {
            depth: self.depth + 1,
            ..Count::default()
        };
        prost::encoding::message::merge(wire_type, &mut below, buf, ctx)?;
        self.items += below.items;
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        0
    }

    fn clear(&mut self) {
        self.items = 0;
        self.bytes = 0;
    }

    /// `merge` plus the request's size, which tonic's decoder hands over whole.
    fn decode(mut buf: impl Buf) -> Result<Self, DecodeError> {
        let bytes = buf.remaining() as u64;
        let mut count = Self::default();
        count.merge(&mut buf)?;
        count.bytes = bytes;
        Ok(count)
    }
}

/// Which OTLP signal a service answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Signal {
    Traces,
    Metrics,
    Logs,
}

/// One OTLP/gRPC collector service; `S` picks the signal (0 traces, 1 metrics, 2 logs),
/// since tonic's router names a service by a type's constant.
#[derive(Debug, Clone)]
struct Export<const S: u8>(Arc<Counts>);

impl NamedService for Export<0> {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}
impl NamedService for Export<1> {
    const NAME: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
}
impl NamedService for Export<2> {
    const NAME: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
}

impl<const S: u8> Export<S> {
    const SIGNAL: Signal = match S {
        0 => Signal::Traces,
        1 => Signal::Metrics,
        _ => Signal::Logs,
    };
}

/// 64 MiB decoded: a batch of 512 large spans fits; larger is a bug in the sender.
const MAX_DECODED: usize = 64 << 20;

impl<const S: u8> Service<http::Request<Body>> for Export<S> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let handler = Handler(self.0.clone(), Self::SIGNAL);
        Box::pin(async move {
            if !req.uri().path().ends_with("/Export") {
                return Ok(Status::new(Code::Unimplemented, "only Export").into_http());
            }
            // Every OTLP response is one optional `partial_success`: an empty message is a
            // full success of each of the three, so `()` encodes it.
            let codec = tonic_prost::ProstCodec::<(), Count>::default();
            let mut grpc = Grpc::new(codec)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_DECODED);
            Ok(grpc.unary(handler, req).await)
        })
    }
}

/// Adds one decoded request to the counts.
#[derive(Debug, Clone)]
struct Handler(Arc<Counts>, Signal);

impl UnaryService<Count> for Handler {
    type Response = ();
    type Future = std::future::Ready<Result<Response<()>, Status>>;

    fn call(&mut self, request: Request<Count>) -> Self::Future {
        let count = request.into_inner();
        let counts = &self.0;
        match self.1 {
            Signal::Traces => {
                counts.spans.fetch_add(count.items, Relaxed);
                counts.trace_bytes.fetch_add(count.bytes, Relaxed);
                counts.trace_exports.fetch_add(1, Relaxed);
            }
            Signal::Metrics => {
                counts.metric_bytes.fetch_add(count.bytes, Relaxed);
            }
            Signal::Logs => {
                counts.log_bytes.fetch_add(count.bytes, Relaxed);
            }
        }
        std::future::ready(Ok(Response::new(())))
    }
}

/// Answers every connection to `listener` with the counts line, on its own thread.
fn serve_counts(listener: TcpListener, counts: Arc<Counts>) {
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.write_all(counts.line().as_bytes());
        }
    });
}

/// One thread: the sink must take as little of the shared cores as it can.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(grpc), Some(counts_addr)) = (args.next(), args.next()) else {
        return Err(
            "usage: otlp-sink GRPC_ADDR COUNTS_ADDR (e.g. 127.0.0.1:14317 127.0.0.1:14318)".into(),
        );
    };
    let grpc: std::net::SocketAddr = grpc
        .parse()
        .map_err(|e| format!("GRPC_ADDR `{grpc}`: {e}"))?;
    let counts = Arc::new(Counts::default());
    let listener = TcpListener::bind(&counts_addr)
        .map_err(|e| format!("cannot listen on COUNTS_ADDR {counts_addr}: {e}"))?;
    serve_counts(listener, counts.clone());
    tonic::transport::Server::builder()
        .add_service(Export::<0>(counts.clone()))
        .add_service(Export::<1>(counts.clone()))
        .add_service(Export::<2>(counts))
        .serve_with_shutdown(grpc, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn span(name: &str) -> Span {
        Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: name.into(),
            attributes: vec![KeyValue {
                key: "http.route".into(),
                value: Some(AnyValue {
                    value: Some(
                        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                            "/hello".into(),
                        ),
                    ),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// Two resources, three scopes, six spans: the shape a gateway and a library export.
    fn traces() -> ExportTraceServiceRequest {
        let scope = |n: usize| ScopeSpans {
            scope: Some(InstrumentationScope {
                name: format!("scope{n}"),
                ..Default::default()
            }),
            spans: (0..n).map(|i| span(&format!("GET /{i}"))).collect(),
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        };
        ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(Resource::default()),
                    scope_spans: vec![scope(1), scope(2)],
                    schema_url: String::new(),
                },
                ResourceSpans {
                    resource: None,
                    scope_spans: vec![scope(3), scope(0)],
                    schema_url: String::new(),
                },
            ],
        }
    }

    #[test]
    fn counts_the_spans_and_bytes_a_full_decode_sees() {
        let req = traces();
        let bytes = req.encode_to_vec();
        let count = Count::decode(bytes.as_slice()).expect("a valid request decodes");
        assert_eq!(count.items, 6);
        assert_eq!(count.bytes, bytes.len() as u64);

        let logs = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord::default(), LogRecord::default()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let count = Count::decode(logs.encode_to_vec().as_slice()).expect("logs decode");
        assert_eq!(count.items, 2, "an empty LogRecord is still an item");

        assert_eq!(Count::decode(&[][..]), Ok(Count::default()));
    }

    #[test]
    fn malformed_requests_are_errors_not_counts() {
        let bytes = traces().encode_to_vec();
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                Count::decode(&bytes[..cut]).is_err(),
                "a request cut at {cut} of {} bytes decoded",
                bytes.len()
            );
        }
        // resource_spans { scope_spans { spans: varint 7 } }: an item must be a message.
        let wrong_wire = [0x0a, 0x04, 0x12, 0x02, 0x10, 0x07];
        assert!(Count::decode(&wrong_wire[..]).is_err());
        // A length far past the end of the buffer.
        assert!(Count::decode(&[0x0a, 0xff, 0xff, 0xff, 0x0f][..]).is_err());
        // Deep nesting below an item is skipped by its length, never followed.
        let mut deep = Vec::new();
        for _ in 0..200 {
            let mut outer = vec![0x0a];
            prost::encoding::encode_varint(deep.len() as u64, &mut outer);
            outer.extend_from_slice(&deep);
            deep = outer;
        }
        let count = Count::decode(deep.as_slice()).expect("nesting below the resource is skipped");
        assert_eq!(count.items, 0);
    }

    /// The sink on loopback, a generated OTLP client exporting to it with gzip, and the
    /// counts line read as the harness reads it.
    #[tokio::test]
    async fn a_real_client_export_is_counted() {
        let grpc = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = grpc.local_addr().expect("addr");
        drop(grpc);
        let counts_listener = TcpListener::bind("127.0.0.1:0").expect("bind counts");
        let counts_addr = counts_listener.local_addr().expect("counts addr");
        let counts = Arc::new(Counts::default());
        serve_counts(counts_listener, counts.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(Export::<0>(counts.clone()))
                .add_service(Export::<2>(counts))
                .serve(addr),
        );

        let mut client = None;
        for _ in 0..100 {
            match TraceServiceClient::connect(format!("http://{addr}")).await {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
        let mut client = client
            .expect("the sink accepts connections")
            .send_compressed(CompressionEncoding::Gzip);
        let req = traces();
        let size = req.encoded_len() as u64;
        client.export(req.clone()).await.expect("export 1");
        client.export(req).await.expect("export 2");

        let mut line = String::new();
        let mut conn = std::net::TcpStream::connect(counts_addr).expect("counts");
        std::io::Read::read_to_string(&mut conn, &mut line).expect("read counts");
        let (counted, cpu) = line
            .rsplit_once(" cpu_us ")
            .expect("the line ends with cpu_us");
        assert_eq!(
            counted,
            format!(
                "spans 12 trace_bytes {} trace_exports 2 metric_bytes 0 log_bytes 0",
                2 * size
            )
        );
        assert!(
            cpu.trim_end().parse::<u64>().is_ok(),
            "cpu_us is a number: {line}"
        );

        let bad = client.export(ExportTraceServiceRequest::default()).await;
        assert!(bad.is_ok(), "an empty request is a valid, empty export");
    }
}
