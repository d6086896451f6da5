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
                    let hex = hex32(sc.trace_id().to_bytes());
                    if let Ok(v) = HeaderValue::from_bytes(&hex) {
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

/// A trace id in lowercase hex, as `TraceId`'s `Display` writes it, without the
/// formatting machinery (this runs on every answer).
fn hex32(bytes: [u8; 16]) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0x0f)];
    }
    out
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceId;

    #[test]
    fn trace_ids_in_hex_as_display_writes_them() {
        for id in [
            0x4bf92f3577b34da6a3ce929d0e0e4736u128,
            1,
            u128::MAX,
            0x00f0_0000_0000_0000_0000_0000_0000_0a0bu128,
        ] {
            let id = TraceId::from(id);
            let hex = super::hex32(id.to_bytes());
            assert_eq!(
                std::str::from_utf8(&hex).ok(),
                Some(id.to_string().as_str())
            );
        }
    }
}
