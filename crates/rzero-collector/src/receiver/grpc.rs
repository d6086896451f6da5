//! OTLP/gRPC: the three collector services of opentelemetry-proto, gzip accepted.

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
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use crate::store::Store;

/// The gRPC side of the receiver, one value serving the three signals.
#[derive(Clone, Debug)]
pub(crate) struct Grpc {
    store: Store,
}

impl Grpc {
    pub(crate) fn router(store: Store, max_body_bytes: usize) -> tonic::service::Routes {
        let g = Grpc { store };
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
        let rejected = self.store.ingest_traces(request.get_ref());
        Ok(Response::new(trace_response(rejected)))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.store.ingest_metrics(request.get_ref());
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
        self.store.ingest_logs(request.get_ref());
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

/// Full success, or a partial success saying how many spans were refused and why.
pub(crate) fn trace_response(rejected: i64) -> ExportTraceServiceResponse {
    ExportTraceServiceResponse {
        partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: rejected,
            error_message: "spans with an invalid trace or span id, or beyond the per-trace \
                            limit, were not stored"
                .to_owned(),
        }),
    }
}
