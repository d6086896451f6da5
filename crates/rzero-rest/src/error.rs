//! One error type for answers, and the one table that maps every refusal to a status.
//!
//! Every error body rzero writes is JSON `{"code": <int>, "msg": "<what to do>"}`: the
//! handlers' own errors ([`Error`]), parsing errors, and the middleware's refusals (shed,
//! breaker open, timeout, too many requests, body too large, unauthorized). `code` is the
//! HTTP status unless the handler chose a business code with [`Error::with_code`].

use std::borrow::Cow;
use std::fmt;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use rzero_resilience::breaker::BreakerOpen;
use rzero_resilience::shedder::Overloaded;
use tower::BoxError;

/// An error answer: a status, a code and a message a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    status: StatusCode,
    code: i64,
    msg: Cow<'static, str>,
}

impl Error {
    /// An answer with `status`, code = the status number.
    pub fn new(status: StatusCode, msg: impl Into<Cow<'static, str>>) -> Self {
        Error {
            status,
            code: i64::from(status.as_u16()),
            msg: msg.into(),
        }
    }

    /// 400: the request is wrong; `msg` says which field and why.
    pub fn bad_request(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::new(StatusCode::BAD_REQUEST, msg)
    }

    /// 401: no valid credentials.
    pub fn unauthorized(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::new(StatusCode::UNAUTHORIZED, msg)
    }

    /// 404: the thing asked for does not exist.
    pub fn not_found(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::new(StatusCode::NOT_FOUND, msg)
    }

    /// 409: the request conflicts with what exists.
    pub fn conflict(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::new(StatusCode::CONFLICT, msg)
    }

    /// 413: the body is larger than the route accepts.
    pub fn too_large(limit: u64) -> Self {
        Error::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than this route accepts ({limit} bytes); send less"),
        )
    }

    /// 501: the route exists but has no logic yet (what generated logic stubs answer).
    pub fn not_implemented(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::new(StatusCode::NOT_IMPLEMENTED, msg)
    }

    /// 503: a dependency or the server itself cannot serve now; retrying later may work.
    pub fn unavailable(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::new(StatusCode::SERVICE_UNAVAILABLE, msg)
    }

    /// 500: a fault of the server. Say what failed, not internals.
    pub fn internal(msg: impl Into<Cow<'static, str>>) -> Self {
        Error::new(StatusCode::INTERNAL_SERVER_ERROR, msg)
    }

    /// Replaces the body's `code` with a business code (go-zero's `errorx` style).
    pub fn with_code(mut self, code: i64) -> Self {
        self.code = code;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body's code.
    pub fn code(&self) -> i64 {
        self.code
    }

    /// The message.
    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// The answer for a failed gRPC call with status `code` (the numeric gRPC code, so
    /// this crate needs no gRPC dependency) and its message, by grpc-gateway's table:
    /// INVALID_ARGUMENT 400, NOT_FOUND 404, ALREADY_EXISTS 409, UNAVAILABLE 503,
    /// DEADLINE_EXCEEDED 504, RESOURCE_EXHAUSTED 429, UNAUTHENTICATED 401, ...
    pub fn from_grpc_code(code: i32, msg: impl Into<Cow<'static, str>>) -> Self {
        let status = match code {
            0 => StatusCode::OK,
            1 => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            3 | 9 | 11 => StatusCode::BAD_REQUEST,
            4 => StatusCode::GATEWAY_TIMEOUT,
            5 => StatusCode::NOT_FOUND,
            6 | 10 => StatusCode::CONFLICT,
            7 => StatusCode::FORBIDDEN,
            8 => StatusCode::TOO_MANY_REQUESTS,
            12 => StatusCode::NOT_IMPLEMENTED,
            14 => StatusCode::SERVICE_UNAVAILABLE,
            16 => StatusCode::UNAUTHORIZED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Error::new(status, msg)
    }

    /// Maps a middleware error to its answer: this is the table. Shedding, an open
    /// breaker and anything unknown are told apart here and nowhere else.
    pub fn from_middleware(err: &BoxError) -> (Self, Refusal) {
        if err.is::<Overloaded>() {
            (Error::unavailable(err.to_string()), Refusal::Shed)
        } else if err.is::<BreakerOpen>() {
            (
                Error::unavailable(format!("{err} (this route failed too often)")),
                Refusal::Breaker,
            )
        } else {
            (Error::internal(err.to_string()), Refusal::Other)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.msg)
    }
}

impl std::error::Error for Error {}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "msg": self.msg });
        let mut resp = Response::new(Body::from(body.to_string()));
        *resp.status_mut() = self.status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        resp.extensions_mut().insert(ErrorMessage(self.msg));
        resp
    }
}

/// The message of an error answer, left in the response's extensions so the access log
/// and the span can say why a request failed without reading the body.
#[derive(Clone, Debug)]
pub struct ErrorMessage(pub Cow<'static, str>);

/// Why the server refused a request before (or instead of) running its handler; the
/// `reason` attribute of the `rzero.http.server.refused` counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Adaptive load shedding.
    Shed,
    /// The route's breaker is open.
    Breaker,
    /// The request took longer than its timeout.
    Timeout,
    /// `MaxConns` requests were already in flight.
    MaxConns,
    /// Over the route's `RateLimit` (429).
    RateLimit,
    /// The route's shared rate limit could not be checked, `OnStoreError: closed` (503).
    RateLimitStore,
    /// Something else a middleware failed with.
    Other,
}

impl Refusal {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Shed => "shed",
            Refusal::Breaker => "breaker",
            Refusal::Timeout => "timeout",
            Refusal::MaxConns => "max_conns",
            Refusal::RateLimit => "rate_limit",
            Refusal::RateLimitStore => "rate_limit_store",
            Refusal::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_maps_refusals_to_503() {
        let shed: BoxError = Box::new(Overloaded);
        let (e, why) = Error::from_middleware(&shed);
        assert_eq!(
            (e.status(), why),
            (StatusCode::SERVICE_UNAVAILABLE, Refusal::Shed)
        );
        let open: BoxError = Box::new(BreakerOpen);
        let (e, why) = Error::from_middleware(&open);
        assert_eq!(
            (e.status(), why),
            (StatusCode::SERVICE_UNAVAILABLE, Refusal::Breaker)
        );
        let other: BoxError = "disk on fire".into();
        let (e, why) = Error::from_middleware(&other);
        assert_eq!(
            (e.status(), why),
            (StatusCode::INTERNAL_SERVER_ERROR, Refusal::Other)
        );
        assert_eq!(e.code(), 500);
    }

    #[test]
    fn grpc_codes_map_as_grpc_gateway_does() {
        let status = |code| Error::from_grpc_code(code, "m").status().as_u16();
        assert_eq!(
            [3, 4, 5, 6, 8, 13, 14, 16, 99].map(status),
            [400, 504, 404, 409, 429, 500, 503, 401, 500]
        );
    }
}
