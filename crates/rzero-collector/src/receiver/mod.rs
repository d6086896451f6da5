//! The OTLP receiver: gRPC on 4317 and HTTP (protobuf and JSON) on 4318. Both hand each
//! decoded request to a [`Sink`]: the store, then the upstream if forwarding is on.

pub(crate) mod grpc;
pub(crate) mod http;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::forward::{Batch, Forwarder};
use crate::store::Store;

/// Where received requests go.
#[derive(Clone, Debug)]
pub(crate) struct Sink {
    pub(crate) store: Store,
    pub(crate) forward: Option<Forwarder>,
}

// === impl Sink ===

impl Sink {
    /// Stores and forwards; answers how many spans the store rejected.
    pub(crate) fn traces(&self, request: ExportTraceServiceRequest) -> i64 {
        let rejected = self.store.ingest_traces(&request);
        if let Some(f) = &self.forward {
            f.offer(Batch::Traces(request));
        }
        rejected
    }

    /// Stores and forwards.
    pub(crate) fn metrics(&self, request: ExportMetricsServiceRequest) {
        self.store.ingest_metrics(&request);
        if let Some(f) = &self.forward {
            f.offer(Batch::Metrics(request));
        }
    }

    /// Stores and forwards; answers how many log records the store rejected.
    pub(crate) fn logs(&self, request: ExportLogsServiceRequest) -> i64 {
        let rejected = self.store.ingest_logs(&request);
        if let Some(f) = &self.forward {
            f.offer(Batch::Logs(request));
        }
        rejected
    }
}
