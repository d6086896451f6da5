//! The one error of the shedder.

/// The request was shed: the service is over its CPU threshold and already has as many
/// requests in flight as it can finish. rzero's error table maps it to HTTP 503 and gRPC
/// UNAVAILABLE, like an open breaker (go-zero's zrpc answers RESOURCE_EXHAUSTED).
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
#[error("service overloaded: request shed to protect the requests in flight; retry later")]
pub struct Overloaded;
