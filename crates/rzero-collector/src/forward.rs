//! Forwarding: everything received also goes to an upstream OTLP/gRPC endpoint (a real
//! collector, Jaeger, Tempo), so the embedded viewer can sit in front of a real backend.
//!
//! The receivers never wait for the upstream: they offer each request to a queue
//! bounded in requests and in bytes (each request's decoded size, as the receiver's
//! pre-scan estimated it: a count alone would let 256 requests of 64 MiB queue), and a
//! full queue drops the request and counts it, as the SDK's batch processor does. One task drains the queue in order over one lazily connected channel, each
//! export bounded by a timeout; a failed export is counted, not retried (the upstream
//! being down must not grow memory).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use tokio::sync::{mpsc, watch};
use tonic::transport::{Channel, Endpoint};

use crate::error::CollectorError;

/// Requests waiting for the upstream; beyond this (or the byte bound) they are dropped.
const QUEUE: usize = 256;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a shutdown waits for the queue to drain.
const DRAIN: Duration = Duration::from_secs(5);

/// One received export request, whichever the signal.
#[derive(Debug)]
pub(crate) enum Batch {
    Traces(ExportTraceServiceRequest),
    Metrics(ExportMetricsServiceRequest),
    Logs(ExportLogsServiceRequest),
}

/// Counts of what forwarding did since start.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct ForwardStats {
    /// Export requests the upstream accepted.
    pub sent: u64,
    /// Requests dropped because the queue was full (the upstream too slow or down).
    pub dropped: u64,
    /// Requests the upstream refused or did not answer in time.
    pub failed: u64,
    /// Decoded bytes of the dropped requests.
    pub dropped_bytes: u64,
    /// Decoded bytes waiting in the queue now.
    pub queued_bytes: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    dropped_bytes: AtomicU64,
    queued_bytes: AtomicU64,
}

/// The receivers' handle: offer a request, never wait.
#[derive(Clone, Debug)]
pub(crate) struct Forwarder {
    queue: mpsc::Sender<(Batch, u64)>,
    counters: Arc<Counters>,
    max_bytes: u64,
}

// === impl Forwarder ===

impl Forwarder {
    /// Checks the endpoint and starts the forwarding task (connecting lazily).
    pub(crate) fn start(
        endpoint: &str,
        max_bytes: usize,
        stop: watch::Receiver<bool>,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), CollectorError> {
        let bad = |reason: String| CollectorError::Forward {
            endpoint: endpoint.to_owned(),
            reason,
        };
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(bad("expected http://host:port (OTLP/gRPC)".to_owned()));
        }
        let channel = Endpoint::from_shared(endpoint.to_owned())
            .map_err(|e| bad(e.to_string()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(EXPORT_TIMEOUT)
            .connect_lazy();
        let (queue, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(run(channel, rx, stop, counters.clone()));
        let max_bytes = max_bytes as u64;
        Ok((
            Forwarder {
                queue,
                counters,
                max_bytes,
            },
            task,
        ))
    }

    /// Queues `batch` (`size` decoded bytes) for the upstream, or drops and counts it
    /// when the queue is full in requests or in bytes.
    pub(crate) fn offer(&self, batch: Batch, size: u64) {
        let c = &self.counters;
        let reserved = c
            .queued_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                (q + size <= self.max_bytes).then_some(q + size)
            })
            .is_ok();
        if !reserved {
            c.dropped.fetch_add(1, Ordering::Relaxed);
            c.dropped_bytes.fetch_add(size, Ordering::Relaxed);
            return;
        }
        if self.queue.try_send((batch, size)).is_err() {
            c.queued_bytes.fetch_sub(size, Ordering::AcqRel);
            c.dropped.fetch_add(1, Ordering::Relaxed);
            c.dropped_bytes.fetch_add(size, Ordering::Relaxed);
        }
    }

    pub(crate) fn stats(&self) -> ForwardStats {
        ForwardStats {
            sent: self.counters.sent.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            dropped_bytes: self.counters.dropped_bytes.load(Ordering::Relaxed),
            queued_bytes: self.counters.queued_bytes.load(Ordering::Relaxed),
        }
    }
}

async fn run(
    channel: Channel,
    mut rx: mpsc::Receiver<(Batch, u64)>,
    mut stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
) {
    let mut traces = TraceServiceClient::new(channel.clone());
    let mut metrics = MetricsServiceClient::new(channel.clone());
    let mut logs = LogsServiceClient::new(channel);
    let mut deadline = None;
    loop {
        let next = match deadline {
            // Stopping: what is queued gets until the deadline, then is dropped.
            Some(at) => match tokio::time::timeout_at(at, rx.recv()).await {
                Ok(next) => next,
                Err(_) => return,
            },
            None => tokio::select! {
                next = rx.recv() => next,
                _ = stop.wait_for(|s| *s) => {
                    rx.close();
                    deadline = Some(tokio::time::Instant::now() + DRAIN);
                    continue;
                }
            },
        };
        let Some((batch, size)) = next else { return };
        counters.queued_bytes.fetch_sub(size, Ordering::AcqRel);
        // The channel's own timeout covers the request; this one also covers connecting.
        let sent = match batch {
            Batch::Traces(r) => bounded(traces.export(r)).await,
            Batch::Metrics(r) => bounded(metrics.export(r)).await,
            Batch::Logs(r) => bounded(logs.export(r)).await,
        };
        let counter = if sent {
            &counters.sent
        } else {
            &counters.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

async fn bounded<T>(call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>) -> bool {
    matches!(
        tokio::time::timeout(CONNECT_TIMEOUT + EXPORT_TIMEOUT, call).await,
        Ok(Ok(_))
    )
}
