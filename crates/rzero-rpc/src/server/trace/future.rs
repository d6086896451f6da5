//! The response future: keeps the span current while the handler runs, and hands it to
//! the body, which ends it with the call's status.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt};
use pin_project_lite::pin_project;

use crate::body::{ObservedBody, observe};
use crate::names;
use crate::span::SpanEnd;

pin_project! {
    /// The future of a call through [`super::Trace`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        cx: Option<opentelemetry::Context>,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, cx: opentelemetry::Context) -> Self {
        ResponseFuture {
            inner,
            cx: Some(cx),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ObservedBody<B, SpanEnd>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _guard = this.cx.as_ref().map(|c| c.clone().attach());
            ready!(this.inner.poll(cx))
        };
        let Some(span_cx) = this.cx.take() else {
            // Polled after completion: a contract breach of the caller, not ours to hide.
            return Poll::Pending;
        };
        match result {
            Ok(response) => Poll::Ready(Ok(observe(
                response,
                SpanEnd {
                    cx: span_cx,
                    server: true,
                },
            ))),
            Err(e) => {
                let span = span_cx.span();
                span.set_attribute(KeyValue::new(names::ERROR_TYPE, "_OTHER"));
                span.set_status(Status::error("the service failed before answering"));
                span.end();
                Poll::Ready(Err(e))
            }
        }
    }
}
