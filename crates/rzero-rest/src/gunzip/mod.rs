//! go-zero's `Gunzip`: a request body sent with `Content-Encoding: gzip` is decoded
//! before the handler reads it (`Middlewares: {Gunzip: true}`, the default).
//!
//! The body is decoded as it is read, in chunks of [`CHUNK`] bytes, never ahead of
//! the reader: `MaxBytes` (which the route's [`crate::limit::MaxBytesLayer`] sets and
//! [`crate::Parsed`] and axum's extractors enforce while reading) therefore counts the
//! *decoded* bytes, and a gzip bomb is cut off with 413 after `MaxBytes` of output
//! instead of being inflated whole. The declared `Content-Length` (the compressed size)
//! is still checked against `MaxBytes` before the handler runs, by `MaxBytes`, which
//! sits outside this layer. A body that is not valid gzip fails to read with
//! [`BadGzip`], which `Parsed` answers 400 with a JSON body.
//!
//! `Content-Encoding` and `Content-Length` are removed from a decoded request: they
//! describe the bytes on the wire, not the ones the handler sees. Other encodings pass
//! through untouched, as in go-zero.

mod body;
mod error;

use std::task::{Context, Poll};

use axum::body::Body;
use http::{HeaderMap, Request, header};
use tower::{Layer, Service};

pub use body::CHUNK;
pub use error::BadGzip;

/// Adds [`Gunzip`] to services.
#[derive(Clone, Copy, Debug, Default)]
pub struct GunzipLayer;

impl GunzipLayer {
    /// The layer.
    pub fn new() -> Self {
        GunzipLayer
    }
}

impl<S> Layer<S> for GunzipLayer {
    type Service = Gunzip<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Gunzip { inner }
    }
}

/// A service whose gzip request bodies are decoded; see the module docs.
#[derive(Clone, Debug)]
pub struct Gunzip<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for Gunzip<S>
where
    S: Service<Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if is_gzip(req.headers()) {
            let (mut parts, body) = req.into_parts();
            parts.headers.remove(header::CONTENT_ENCODING);
            parts.headers.remove(header::CONTENT_LENGTH);
            return self
                .inner
                .call(Request::from_parts(parts, body::gunzip(body)));
        }
        self.inner.call(req)
    }
}

/// `Content-Encoding: gzip` (or its old name `x-gzip`), alone: a list of encodings is
/// left to the handler.
fn is_gzip(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_ENCODING).is_some_and(|v| {
        let v = v.as_bytes().trim_ascii();
        v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip")
    })
}

#[cfg(test)]
mod tests;
