//! The one error of the breaker.

/// The breaker refused the call: recent calls to this target mostly failed. Maps to
/// HTTP 503 and gRPC UNAVAILABLE.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker is open: recent calls mostly failed; retry later")]
pub struct BreakerOpen;
