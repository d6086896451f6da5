//! The OTLP receiver: gRPC on 4317 and HTTP (protobuf and JSON) on 4318. Both pass each
//! request through the [`guard::Guard`] (bearer token, pre-scan, decode budgets) before
//! decoding it, then hand it to a [`Sink`]: the store, then the upstream if forwarding
//! is on.

pub(crate) mod grpc;
pub(crate) mod guard;
pub(crate) mod http;
pub(crate) mod scan;

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

/// What both receivers share.
#[derive(Clone, Debug)]
pub(crate) struct Receiver {
    pub(crate) sink: Sink,
    pub(crate) guard: guard::Guard,
    /// Largest body, after decompression.
    pub(crate) max_body_bytes: usize,
    /// When on, traces are held and judged here before they reach the sink.
    pub(crate) tail: Option<crate::tail::TailSampler>,
}

impl Receiver {
    /// Into the tail sampler when it is on (which answers no rejections: what it drops
    /// it drops by policy), else straight to the sink.
    pub(crate) fn traces(&self, request: ExportTraceServiceRequest, size: u64) -> i64 {
        match &self.tail {
            Some(tail) => {
                tail.offer(request);
                0
            }
            None => self.sink.traces(request, size),
        }
    }
}

// === impl Sink ===

impl Sink {
    /// Stores and forwards; answers how many spans the store rejected. `size` is the
    /// request's decoded size, what it holds while queued for the upstream.
    pub(crate) fn traces(&self, request: ExportTraceServiceRequest, size: u64) -> i64 {
        let rejected = self.store.ingest_traces(&request);
        if let Some(f) = &self.forward {
            f.offer(Batch::Traces(request), size);
        }
        rejected
    }

    /// Stores and forwards.
    pub(crate) fn metrics(&self, request: ExportMetricsServiceRequest, size: u64) {
        self.store.ingest_metrics(&request);
        if let Some(f) = &self.forward {
            f.offer(Batch::Metrics(request), size);
        }
    }

    /// Stores and forwards; answers how many log records the store rejected.
    pub(crate) fn logs(&self, request: ExportLogsServiceRequest, size: u64) -> i64 {
        let rejected = self.store.ingest_logs(&request);
        if let Some(f) = &self.forward {
            f.offer(Batch::Logs(request), size);
        }
        rejected
    }
}
