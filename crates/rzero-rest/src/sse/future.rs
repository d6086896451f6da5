//! The response future: turns a `text/event-stream` answer into a served stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Response};
use pin_project_lite::pin_project;

use super::body::SseBody;
use super::{SpanHandoff, SseLayer};

/// Asks nginx (and proxies that follow it) not to buffer the answer.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

pin_project! {
    /// The future of a request through [`super::SseService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        layer: SseLayer,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, layer: SseLayer) -> Self {
        ResponseFuture { inner, layer }
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        if !is_event_stream(&response) {
            return Poll::Ready(Ok(response));
        }
        let (mut parts, body) = response.into_parts();
        let headers = &mut parts.headers;
        headers
            .entry(CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-cache"));
        headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
        // Without a length, HTTP/1.1 answers chunked: each event is a chunk, sent at once.
        headers.remove(http::header::CONTENT_LENGTH);
        let handoff = SpanHandoff::default();
        parts.extensions.insert(handoff.clone());
        let body = SseBody::new(
            body,
            handoff,
            this.layer.keep_alive,
            this.layer.drain.clone(),
        );
        Poll::Ready(Ok(Response::from_parts(parts, Body::new(body))))
    }
}

fn is_event_stream<B>(response: &Response<B>) -> bool {
    response.status().is_success()
        && response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.get(..17)
                    .is_some_and(|t| t.eq_ignore_ascii_case("text/event-stream"))
            })
}
