//! Where the collector listens and how much it keeps.

use std::net::SocketAddr;
use std::time::Duration;

/// Ports and limits of a [`crate::Collector`]. `None` leaves a listener off.
#[derive(Clone, Debug)]
pub struct CollectorConfig {
    /// OTLP/gRPC (default `127.0.0.1:4317`: loopback, since OTLP has no auth unless
    /// [`auth_token`](Self::auth_token) is set; `0.0.0.0:4317` to take spans from other
    /// hosts or containers).
    pub otlp_grpc: Option<SocketAddr>,
    /// OTLP/HTTP, protobuf and JSON (default `127.0.0.1:4318`, as gRPC).
    pub otlp_http: Option<SocketAddr>,
    /// The JSON API and the trace viewer (default `127.0.0.1:16686`, Jaeger's UI port).
    pub ui: Option<SocketAddr>,
    /// What the store keeps.
    pub limits: StoreLimits,
    /// Largest accepted request body, after decompression (default 16 MiB).
    pub max_body_bytes: usize,
    /// Most one request may take once decoded, as the pre-scan estimates it (default
    /// 64 MiB): the bound that holds when small bytes decode to large structs (an empty
    /// span is 2 bytes sent, ~260 decoded). Over it: 413 / RESOURCE_EXHAUSTED.
    pub max_decoded_bytes: usize,
    /// Most all requests being decoded at once may take (default 256 MiB). Over it:
    /// 503 / UNAVAILABLE, which exporters retry.
    pub max_inflight_decoded_bytes: usize,
    /// When set, OTLP requests must carry `authorization: Bearer <token>` (401 /
    /// UNAUTHENTICATED otherwise). The API and viewer port is not covered.
    pub auth_token: Option<String>,
    /// An upstream OTLP/gRPC endpoint (`http://host:4317`) that also gets everything
    /// received, e.g. a real collector or Jaeger (default none).
    pub forward: Option<String>,
    /// Decoded bytes waiting for the upstream at most (default 64 MiB); beyond, requests
    /// are dropped and counted.
    pub forward_queue_bytes: usize,
    /// The longest a request may take, its body included (default 30 s): a slow client
    /// gets 408 / DEADLINE_EXCEEDED.
    pub request_timeout: Duration,
    /// Keep the stored traces in `DIR/traces.db` (SQLite) across restarts, within the
    /// same limits (default none: memory only).
    pub data_dir: Option<std::path::PathBuf>,
    /// With `data_dir`: the most span and resource JSON the database holds (default
    /// 1 GiB); beyond, its oldest traces are deleted there (memory keeps them until its
    /// own limits evict them; a restart does not bring them back).
    pub data_max_bytes: usize,
    /// Tail-aware sampling (default off): traces are held until complete and only those
    /// the policies keep are stored and forwarded.
    pub tail_sampling: Option<crate::tail::TailConfig>,
    /// gRPC streams (requests) open at once on one connection (default 64); HTTP/2 keeps
    /// further ones waiting for the client rather than the server.
    pub max_streams_per_connection: u32,
}

/// Bounds of the in-memory store: whatever is sent, memory stays within these.
#[derive(Clone, Copy, Debug)]
pub struct StoreLimits {
    /// Spans kept in all (default 100,000); the oldest traces go first.
    pub max_spans: usize,
    /// Traces kept (default 10,000).
    pub max_traces: usize,
    /// Spans kept per trace (default 10,000); later ones are rejected and counted.
    pub max_spans_per_trace: usize,
    /// Estimated bytes of stored spans and of their traces' resources (default 256 MiB):
    /// the bound that holds whatever the spans carry; the oldest traces go first.
    pub max_span_bytes: usize,
    /// Log records kept (default 20,000).
    pub max_logs: usize,
    /// Estimated bytes of stored log records (default 64 MiB).
    pub max_log_bytes: usize,
    /// Distinct metric names kept (default 2,000).
    pub max_metrics: usize,
    /// Estimated bytes of what is kept of metrics (default 16 MiB): names, senders,
    /// latest points, and the request-duration series of the RED charts.
    pub max_metric_bytes: usize,
    /// Attributes kept per span, event, resource or log record (default 128).
    pub max_attributes: usize,
    /// Events kept per span (default 128).
    pub max_events: usize,
    /// Longest string kept, in bytes; longer ones are cut (default 4 KiB).
    pub max_value_bytes: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_spans: 100_000,
            max_traces: 10_000,
            max_spans_per_trace: 10_000,
            max_span_bytes: 256 << 20,
            max_logs: 20_000,
            max_log_bytes: 64 << 20,
            max_metrics: 2_000,
            max_metric_bytes: 16 << 20,
            max_attributes: 128,
            max_events: 128,
            max_value_bytes: 4096,
        }
    }
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            otlp_grpc: Some(SocketAddr::from(([127, 0, 0, 1], 4317))),
            otlp_http: Some(SocketAddr::from(([127, 0, 0, 1], 4318))),
            ui: Some(SocketAddr::from(([127, 0, 0, 1], 16686))),
            limits: StoreLimits::default(),
            max_body_bytes: 16 << 20,
            max_decoded_bytes: 64 << 20,
            max_inflight_decoded_bytes: 256 << 20,
            auth_token: None,
            forward: None,
            forward_queue_bytes: 64 << 20,
            request_timeout: Duration::from_secs(30),
            max_streams_per_connection: 64,
            tail_sampling: None,
            data_dir: None,
            data_max_bytes: 1 << 30,
        }
    }
}
