//! Which outcomes count against a target: the caller decides, rzero gives the usual rules.

/// Decides whether a call's result counts as a failure of the target.
pub trait Classify<Res, E>: Clone + Send + Sync + 'static {
    /// True when `result` says the target is in trouble.
    fn is_failure(&self, result: Result<&Res, &E>) -> bool;
}

/// Every error is a failure, every response a success: for services whose errors are
/// all transport errors.
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorsAreFailures;

impl<Res, E> Classify<Res, E> for ErrorsAreFailures {
    fn is_failure(&self, result: Result<&Res, &E>) -> bool {
        result.is_err()
    }
}

/// HTTP as go-zero's rest breaker sees it: errors and 5xx answers are failures.
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpServerErrors;

impl<B, E> Classify<http::Response<B>, E> for HttpServerErrors {
    fn is_failure(&self, result: Result<&http::Response<B>, &E>) -> bool {
        match result {
            Ok(resp) => resp.status().is_server_error(),
            Err(_) => true,
        }
    }
}

/// HTTP as go-zero's rest shedder sees it (`SheddingHandler`): only errors and 503 answers
/// are failures, i.e. requests that were not really served and must not count as
/// throughput. A 500 was served, slowly or not, and counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpUnavailable;

impl<B, E> Classify<http::Response<B>, E> for HttpUnavailable {
    fn is_failure(&self, result: Result<&http::Response<B>, &E>) -> bool {
        match result {
            Ok(resp) => resp.status() == http::StatusCode::SERVICE_UNAVAILABLE,
            Err(_) => true,
        }
    }
}

/// go-zero's `codes.Acceptable`, negated: the gRPC status codes that count against the
/// target (DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, DATA_LOSS, UNIMPLEMENTED,
/// RESOURCE_EXHAUSTED), exactly the list of go-zero's `zrpc/internal/codes/accept.go`.
/// Client mistakes (INVALID_ARGUMENT, NOT_FOUND, ...) do not, and neither does UNKNOWN
/// (go-zero's list leaves it out: it is what a non-gRPC error maps to).
pub fn grpc_code_is_failure(code: i32) -> bool {
    // Numeric codes from the gRPC specification, so this crate needs no gRPC dependency.
    matches!(code, 4 | 13 | 14 | 15 | 12 | 8)
}
