//! The whole cost of an exported span, SDK against rzero, side by side in one run: a span
//! started, given the REST server span's attributes, ended, batched, encoded to OTLP and
//! written over OTLP/gRPC to a counting sink on loopback.
//!
//! Criterion's clock sees only the calling thread, and most of an exported span's cost is
//! on other threads (the batch thread, the exporter's runtime), so this measures CPU time:
//! utime + stime of every thread of the process (`/proc/self/task/*/stat`) except the
//! sink's, over N spans and the flush that follows them, divided by N. The queue is large
//! enough that nothing is dropped (checked against the sink's count), so both pipelines
//! do all the work. Rounds alternate between the two, and the medians are reported.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use rzero_telemetry::config::BatchConf;
use rzero_telemetry::settings::{ExportTarget, ExportTls};
use rzero_telemetry::{BatchProcessor, Protocol};

const SPANS: usize = 100_000;
const ROUNDS: usize = 3;
const QUEUE: usize = SPANS * 2;
/// Threads whose CPU is not the exporting process's: the sink's.
const SINK_THREAD: &str = "bench-sink";

#[derive(Clone, Default)]
struct Sink(Arc<AtomicU64>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.0.fetch_add(spans as u64, Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Starts the sink on a thread (and runtime) of its own; its address and span count.
fn sink() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the sink");
    let addr = listener.local_addr().expect("sink address");
    listener.set_nonblocking(true).expect("nonblocking");
    let sink = Sink::default();
    let count = sink.0.clone();
    std::thread::Builder::new()
        .name(SINK_THREAD.into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .thread_name(SINK_THREAD)
                .enable_all()
                .build()
                .expect("sink runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let incoming = tonic::transport::server::TcpIncoming::from(listener);
                let _ = tonic::transport::Server::builder()
                    .add_service(TraceServiceServer::new(sink))
                    .serve_with_incoming(incoming)
                    .await;
            });
        })
        .expect("sink thread");
    (addr, count)
}

/// CPU seconds of every thread of this process but the sink's.
fn cpu_seconds() -> f64 {
    let mut ticks = 0u64;
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == SINK_THREAD {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is 3rd, utime 14th, stime 15th.
        let Some(rest) = stat.rsplit(')').next() else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks += field(11) + field(12);
    }
    ticks as f64 / 100.0
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "bench"),
            KeyValue::new("service.version", "0.1.0"),
        ])
        .build()
}

/// The SDK's `BatchSpanProcessor` with opentelemetry-otlp's gRPC exporter.
fn sdk(addr: SocketAddr, rt: &tokio::runtime::Runtime) -> SdkTracerProvider {
    let _entered = rt.enter();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(format!("http://{addr}"))
        .with_timeout(Duration::from_secs(30))
        .build()
        .expect("sdk exporter");
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(QUEUE)
        .with_max_export_batch_size(512)
        .with_scheduled_delay(Duration::from_secs(5))
        .build();
    SdkTracerProvider::builder()
        .with_resource(resource())
        .with_span_processor(BatchSpanProcessor::new(exporter, config))
        .build()
}

/// rzero's `BatchProcessor` over OTLP/gRPC.
fn rzero(addr: SocketAddr) -> SdkTracerProvider {
    let target = ExportTarget {
        endpoint: format!("http://{addr}"),
        protocol: Protocol::Grpc,
        headers: Vec::new(),
        timeout: Duration::from_secs(30),
        tls: ExportTls::default(),
    };
    let batch = BatchConf {
        max_queue_size: QUEUE,
        max_export_batch_size: 512,
        schedule_delay: 5_000,
        export_timeout: 30_000,
    };
    SdkTracerProvider::builder()
        .with_resource(resource())
        .with_span_processor(BatchProcessor::new(&target, &batch).expect("rzero processor"))
        .build()
}

/// The REST server span: rzero's span name and attributes for `GET /api/v1/orders/42`.
fn rest_span(tracer: &opentelemetry_sdk::trace::SdkTracer) {
    let mut span = tracer
        .span_builder("GET /api/v1/orders/:order_id")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/api/v1/orders/:order_id"),
            KeyValue::new("url.path", "/api/v1/orders/42"),
            KeyValue::new("url.scheme", "http"),
            KeyValue::new("server.port", 8888),
        ])
        .start(tracer);
    span.set_attribute(KeyValue::new("http.response.status_code", 200));
    span.end();
}

/// CPU µs per exported span of `provider`, N spans and the flush after them.
fn round(provider: &SdkTracerProvider, received: &AtomicU64) -> f64 {
    let tracer = provider.tracer("bench");
    let start = received.load(Relaxed);
    (0..1000).for_each(|_| rest_span(&tracer));
    let _ = provider.force_flush();
    let warm = received.load(Relaxed);
    let cpu0 = cpu_seconds();
    (0..SPANS).for_each(|_| rest_span(&tracer));
    let _ = provider.force_flush();
    let cpu1 = cpu_seconds();
    let got = received.load(Relaxed) - warm;
    assert!(
        warm - start == 1000 && got == SPANS as u64,
        "every span must reach the sink: {got} of {SPANS}"
    );
    (cpu1 - cpu0) * 1e6 / SPANS as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the comparison and prints it.
pub(crate) fn report() {
    let (addr, received) = sink();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-sdk-rt")
        .enable_all()
        .build()
        .expect("runtime");
    let (sdk_p, rzero_p) = (sdk(addr, &rt), rzero(addr));
    let (mut s, mut r) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        s.push(round(&sdk_p, &received));
        r.push(round(&rzero_p, &received));
    }
    let (s, r) = (median(s), median(r));
    println!(
        "\nCPU per exported span, all threads but the sink's (start, end, batch, encode, OTLP/gRPC write),"
    );
    println!("{SPANS} REST server spans per round, median of {ROUNDS} alternating rounds:");
    println!("  sdk BatchSpanProcessor + opentelemetry-otlp  {s:>6.2} µs");
    println!(
        "  rzero BatchProcessor                         {r:>6.2} µs   ({:.2}x the SDK's)",
        r / s
    );
    let _ = sdk_p.shutdown();
    let _ = rzero_p.shutdown();
}
