//! The response future: keeps the span current while the handler runs and closes it
//! with the response's status.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{HeaderValue, Response};
use opentelemetry::KeyValue;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry_semantic_conventions::attribute as semconv;
use pin_project_lite::pin_project;
use rzero_telemetry::propagation::{HeaderInjector, TraceContextPropagator};

use super::TRACE_ID_HEADER;

pin_project! {
    /// The future of a request through [`super::Trace`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        cx: opentelemetry::Context,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, cx: opentelemetry::Context) -> Self {
        ResponseFuture { inner, cx }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _guard = this.cx.clone().attach();
            ready!(this.inner.poll(cx))
        };
        let span = this.cx.span();
        match result {
            Ok(mut response) => {
                let status = response.status();
                span.set_attribute(KeyValue::new(
                    semconv::HTTP_RESPONSE_STATUS_CODE,
                    i64::from(status.as_u16()),
                ));
                // Server spans fail on 5xx only: a 4xx is the client's mistake.
                if status.is_server_error() {
                    span.set_attribute(KeyValue::new(
                        semconv::ERROR_TYPE,
                        status.as_u16().to_string(),
                    ));
                    span.set_status(Status::error(
                        status.canonical_reason().unwrap_or("server error"),
                    ));
                }
                let sc = span.span_context();
                if sc.is_valid() {
                    if let Ok(v) = HeaderValue::from_str(&sc.trace_id().to_string()) {
                        response.headers_mut().insert(TRACE_ID_HEADER, v);
                    }
                    // W3C trace context only, whatever OTEL_PROPAGATORS says: the answer
                    // tells the caller which trace it was, and baggage meant for the
                    // services behind the gateway must not leak back out.
                    TraceContextPropagator::new()
                        .inject_context(this.cx, &mut HeaderInjector(response.headers_mut()));
                }
                // An SSE answer's body ends the span when the stream ends.
                match response
                    .extensions_mut()
                    .remove::<crate::sse::SpanHandoff>()
                {
                    Some(handoff) => handoff.give(this.cx.clone()),
                    None => span.end(),
                }
                Poll::Ready(Ok(response))
            }
            Err(e) => {
                span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, "_OTHER"));
                span.set_status(Status::error("the service failed before answering"));
                span.end();
                Poll::Ready(Err(e))
            }
        }
    }
}
