//! `rpc.client.call.duration` (seconds) by `rpc.service`, `rpc.method` and
//! `rpc.grpc.status_code`, recorded when each call's status is known. The same layer as
//! the server's, recording into the client's histogram.

use opentelemetry::metrics::Meter;

use crate::duration::histogram;
use crate::names;

pub use crate::server::metrics::{Metrics, MetricsLayer, ResponseFuture};

/// The client's metrics layer, with its instruments on `meter`.
pub fn layer(meter: &Meter) -> MetricsLayer {
    MetricsLayer::recording_to(histogram(
        meter,
        names::RPC_CLIENT_CALL_DURATION,
        "Duration of gRPC client calls.",
    ))
}
