//! Bodies larger than the limit are refused with 413 before the handler runs when the
//! request says its length, and while reading when it does not: this layer also sets
//! axum's body limit, which rzero's [`crate::parse::Parsed`] (and axum's own `Json`,
//! `Bytes`) enforce as they read a chunked body.

use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use futures_util::future::{Either, Ready, ready};
use http::{Request, Response, header};
use tower::{Layer, Service};

use crate::error::Error;

/// Adds [`MaxBytes`] to services.
#[derive(Clone, Copy, Debug)]
pub struct MaxBytesLayer {
    limit: u64,
}

impl MaxBytesLayer {
    /// Bodies up to `limit` bytes.
    pub fn new(limit: u64) -> Self {
        MaxBytesLayer { limit }
    }
}

impl<S> Layer<S> for MaxBytesLayer {
    type Service = MaxBytes<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        MaxBytes {
            inner,
            limit: self.limit,
            readers: DefaultBodyLimit::max(limit),
        }
    }
}

/// A service with a body size limit; see [`MaxBytesLayer`].
#[derive(Clone, Debug)]
pub struct MaxBytes<S> {
    inner: S,
    limit: u64,
    /// The same limit for the body's readers, set only on a request that has a body: a
    /// GET does not pay for the extension (its insert is a request's fourth, which grows
    /// the extension map: ~550 instructions).
    readers: DefaultBodyLimit,
}

impl<S, B> Service<Request<B>> for MaxBytes<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
    B: http_body::Body,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response<Body>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared {
            Some(len) if len > self.limit => {
                Either::Left(ready(Ok(Error::too_large(self.limit).into_response())))
            }
            _ => {
                if !req.body().is_end_stream() {
                    self.readers.apply(&mut req);
                }
                Either::Right(self.inner.call(req))
            }
        }
    }
}
