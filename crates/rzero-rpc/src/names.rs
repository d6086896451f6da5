//! Telemetry names in one place.
//!
//! The RPC attribute keys are the ones of semantic conventions 1.2x (`rpc.system`,
//! `rpc.service`, `rpc.grpc.status_code`), which the conventions crate marks deprecated
//! in favour of `rpc.system.name` and `rpc.response.status_code`. We keep them on purpose:
//! they are what Jaeger, Tempo and go-zero's own traces show today, and what the order
//! system's dashboards query. Moving is a change in this one module.
#![allow(deprecated)]

use opentelemetry_semantic_conventions::{attribute, metric};

/// `rpc.system`.
pub const RPC_SYSTEM: &str = attribute::RPC_SYSTEM;
/// `rpc.service`: the fully qualified service, e.g. `order.Order`.
pub const RPC_SERVICE: &str = attribute::RPC_SERVICE;
/// `rpc.method`: the method, e.g. `CreateOrder`.
pub const RPC_METHOD: &str = attribute::RPC_METHOD;
/// `rpc.grpc.status_code`: the numeric gRPC status code of the call.
pub const RPC_GRPC_STATUS_CODE: &str = attribute::RPC_GRPC_STATUS_CODE;
/// `server.address`.
pub const SERVER_ADDRESS: &str = attribute::SERVER_ADDRESS;
/// `server.port`.
pub const SERVER_PORT: &str = attribute::SERVER_PORT;
/// `error.type`.
pub const ERROR_TYPE: &str = attribute::ERROR_TYPE;
/// The value of `rpc.system`.
pub const GRPC: &str = "grpc";

/// Histogram of server call durations, in seconds.
pub const RPC_SERVER_CALL_DURATION: &str = metric::RPC_SERVER_CALL_DURATION;
/// Histogram of client call durations, in seconds.
pub const RPC_CLIENT_CALL_DURATION: &str = metric::RPC_CLIENT_CALL_DURATION;
/// Counter of client calls the circuit breaker refused.
pub const RPC_CLIENT_BREAKER_REJECTIONS: &str = "rzero.rpc.client.breaker.rejections";
/// Counter of server calls the load shedder refused.
pub const RPC_SERVER_SHED: &str = "rzero.rpc.server.shed";

/// The instrumentation scope of this crate's meter when it was given none: the service's
/// one scope, `rzero_telemetry::SCOPE` (a service reports under one scope).
pub const SCOPE: &str = rzero_telemetry::SCOPE;

/// Bucket bounds (seconds) for call durations: RPCs are faster than page loads, so the
/// buckets start at 0.5 ms.
pub const DURATION_BOUNDS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
];
