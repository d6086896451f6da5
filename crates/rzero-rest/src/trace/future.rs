//! The response future: keeps the span current while the handler runs and closes it
//! with the response's status.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry_semantic_conventions::attribute as semconv;
use pin_project_lite::pin_project;
use rzero_telemetry::propagation::{TRACEPARENT, TRACESTATE, trace_context_fields};

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
                stamp(this.cx, response.headers_mut());
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

/// Tells the caller which trace its request was: `x-trace-id` and the W3C trace context
/// only, whatever `OTEL_PROPAGATORS` says (baggage meant for the services behind the
/// gateway must not leak back out). The 55 bytes of `traceparent` are copied once, and
/// `x-trace-id` is their trace-id part, sharing the copy.
fn stamp(cx: &opentelemetry::Context, headers: &mut HeaderMap) {
    let Some((traceparent, state)) = trace_context_fields(cx) else {
        return;
    };
    // One allocation for both headers: an owned `Bytes` shares its buffer with its
    // slices; one copied from a slice would be made shared (a second allocation) by the
    // first slice.
    let value = Bytes::from_owner(traceparent);
    if let Ok(id) = HeaderValue::from_maybe_shared(value.slice(3..35)) {
        headers.insert(TRACE_ID_HEADER, id);
    }
    if let Ok(value) = HeaderValue::from_maybe_shared(value) {
        headers.insert(TRACEPARENT, value);
    }
    if !state.is_empty()
        && let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(state))
    {
        headers.insert(TRACESTATE, value);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };

    #[test]
    fn the_answer_names_its_trace_as_display_and_the_propagator_write_it() {
        for (id, sampled) in [
            (0x4bf92f3577b34da6a3ce929d0e0e4736u128, true),
            (1, false),
            (u128::MAX, true),
            (0x00f0_0000_0000_0000_0000_0000_0000_0a0bu128, false),
        ] {
            let trace_id = TraceId::from(id);
            let flags = if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            };
            let state = TraceState::from_key_value([("rzero", "1")]).expect("state");
            let sc = SpanContext::new(trace_id, SpanId::from(7), flags, false, state);
            let cx = opentelemetry::Context::new().with_remote_span_context(sc);
            let mut headers = http::HeaderMap::new();
            super::stamp(&cx, &mut headers);
            assert_eq!(
                headers["x-trace-id"].to_str().ok(),
                Some(trace_id.to_string().as_str())
            );
            let mut injected = std::collections::HashMap::new();
            opentelemetry::propagation::TextMapPropagator::inject_context(
                &rzero_telemetry::propagation::TraceContextPropagator::new(),
                &cx,
                &mut injected,
            );
            assert_eq!(injected.len(), 2);
            for (k, v) in injected {
                assert_eq!(headers[k.as_str()].to_str().ok(), Some(v.as_str()), "{k}");
            }
        }
        // No valid span: nothing is stamped.
        let mut headers = http::HeaderMap::new();
        super::stamp(&opentelemetry::Context::new(), &mut headers);
        assert!(headers.is_empty());
    }
}
