//! OTLP/gRPC: the three collector services of opentelemetry-proto, gzip accepted.

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
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
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::Sink;

/// The gRPC side of the receiver, one value serving the three signals.
#[derive(Clone, Debug)]
pub(crate) struct Grpc {
    sink: Sink,
}

impl Grpc {
    pub(crate) fn router(sink: Sink, max_body_bytes: usize) -> tonic::service::Routes {
        let g = Grpc { sink };
        tonic::service::Routes::new(
            TraceServiceServer::new(g.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max_body_bytes),
        )
        .add_service(
            MetricsServiceServer::new(g.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max_body_bytes),
        )
        .add_service(
            LogsServiceServer::new(g)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max_body_bytes),
        )
    }
}

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let rejected = self.sink.traces(request.into_inner());
        Ok(Response::new(trace_response(rejected)))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.sink.metrics(request.into_inner());
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Grpc {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let rejected = self.sink.logs(request.into_inner());
        Ok(Response::new(logs_response(rejected)))
    }
}

/// Full success, or a partial success saying how many spans were refused and why.
pub(crate) fn trace_response(rejected: i64) -> ExportTraceServiceResponse {
    ExportTraceServiceResponse {
        partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: rejected,
            error_message: "spans with an invalid trace or span id, beyond the per-trace \
                            limit or over the byte budget were not stored"
                .to_owned(),
        }),
    }
}

/// Full success, or a partial success saying how many log records were refused.
pub(crate) fn logs_response(rejected: i64) -> ExportLogsServiceResponse {
    ExportLogsServiceResponse {
        partial_success: (rejected > 0).then(|| ExportLogsPartialSuccess {
            rejected_log_records: rejected,
            error_message: "log records over the store's byte budget were not stored".to_owned(),
        }),
    }
}
