//! `otlp-sink GRPC_ADDR COUNTS_ADDR`: the export target of `cargo xtask bench-side`.
//!
//! It implements the three OTLP/gRPC collector services and answers every export with a
//! full success, storing nothing: a real collector's work (decoding into a store, a
//! viewer) would share the benchmark's cores and blur what the services themselves cost.
//! It counts what it received, and a TCP connection to `COUNTS_ADDR` gets one line back:
//!
//! ```text
//! spans 1234 trace_bytes 56789 trace_exports 3 metric_bytes 4321 log_bytes 0
//! ```
//!
//! The counts line is written by hand over a plain socket (no HTTP) so that the harness,
//! which has no dependencies, can read it with `std::net::TcpStream`.

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

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
            "spans {} trace_bytes {} trace_exports {} metric_bytes {} log_bytes {}\n",
            self.spans.load(Relaxed),
            self.trace_bytes.load(Relaxed),
            self.trace_exports.load(Relaxed),
            self.metric_bytes.load(Relaxed),
            self.log_bytes.load(Relaxed),
        )
    }
}

#[derive(Clone, Debug)]
struct Sink(Arc<Counts>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let req = request.into_inner();
        let spans: usize = req
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.0.spans.fetch_add(spans as u64, Relaxed);
        self.0
            .trace_bytes
            .fetch_add(req.encoded_len() as u64, Relaxed);
        self.0.trace_exports.fetch_add(1, Relaxed);
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let len = request.get_ref().encoded_len() as u64;
        self.0.metric_bytes.fetch_add(len, Relaxed);
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Sink {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let len = request.get_ref().encoded_len() as u64;
        self.0.log_bytes.fetch_add(len, Relaxed);
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
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
    let sink = Sink(counts);
    // 64 MiB: a batch of 512 large spans fits; larger is a bug in the sender.
    let max = 64 << 20;
    tonic::transport::Server::builder()
        .add_service(
            TraceServiceServer::new(sink.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max),
        )
        .add_service(
            MetricsServiceServer::new(sink.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max),
        )
        .add_service(
            LogsServiceServer::new(sink)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max),
        )
        .serve_with_shutdown(grpc, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
