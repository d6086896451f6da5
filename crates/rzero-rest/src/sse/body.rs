//! The body of an SSE answer: the handler's stream with keep-alive comments, an end on
//! drain, and the server span closed when the body goes (see the module docs).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry_semantic_conventions::attribute as semconv;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use super::{END_ATTRIBUTE, EVENTS_ATTRIBUTE, End, SpanHandoff};

/// A comment line: ignored by every `EventSource`, enough to keep the connection in use.
const KEEP_ALIVE: &[u8] = b":\n\n";

/// What the client gets when the handler's stream panics: an `error` event in the
/// `{"code", "msg"}` shape of every rzero error, then the end of the stream.
const PANICKED: &[u8] = b"event: error\ndata: {\"code\":500,\"msg\":\"the event stream failed on \
the server; reconnect to start a new one\"}\n\n";

/// See the module docs.
pub(super) struct SseBody {
    inner: Body,
    handoff: SpanHandoff,
    keep_alive: Duration,
    /// Armed while the stream is quiet at an event boundary.
    quiet: Option<Pin<Box<Sleep>>>,
    drain: Pin<Box<dyn Future<Output = ()> + Send>>,
    events: u64,
    /// The last frame ended an event (a keep-alive comment may follow it).
    at_boundary: bool,
    /// Set when the stream has ended (or sends its last frame).
    end: Option<End>,
}

impl SseBody {
    pub(super) fn new(
        inner: Body,
        handoff: SpanHandoff,
        keep_alive: Duration,
        mut drain: watch::Receiver<bool>,
    ) -> Self {
        let drain = Box::pin(async move {
            // A dropped sender is a layer without a server: its streams never drain.
            if drain.wait_for(|draining| *draining).await.is_err() {
                std::future::pending::<()>().await;
            }
        });
        SseBody {
            inner,
            handoff,
            keep_alive,
            quiet: None,
            drain,
            events: 0,
            at_boundary: true,
            end: None,
        }
    }

    fn sent(&mut self, data: &Bytes) {
        if !data.is_empty() {
            if data.first() != Some(&b':') {
                self.events += 1;
            }
            self.at_boundary = data.ends_with(b"\n\n") || data.ends_with(b"\r\n\r\n");
        }
        if let Some(quiet) = &mut self.quiet {
            quiet.as_mut().reset(Instant::now() + self.keep_alive);
        }
    }

    /// A keep-alive comment if the stream has been quiet for the interval.
    fn poll_keep_alive(&mut self, cx: &mut Context<'_>) -> Poll<Bytes> {
        if self.keep_alive.is_zero() || !self.at_boundary {
            return Poll::Pending;
        }
        let interval = self.keep_alive;
        let quiet = self
            .quiet
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(interval)));
        if quiet.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        quiet.as_mut().reset(Instant::now() + interval);
        Poll::Ready(Bytes::from_static(KEEP_ALIVE))
    }
}

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.end.is_some() {
            return Poll::Ready(None);
        }
        if this.drain.as_mut().poll(cx).is_ready() {
            this.end = Some(End::Drained);
            return Poll::Ready(None);
        }
        let polled = {
            // The server span is current while the handler's stream runs.
            let _guard = this.handoff.get().map(|cx| cx.clone().attach());
            let inner = &mut this.inner;
            std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll_frame(cx)))
        };
        match polled {
            Ok(Poll::Ready(Some(Ok(frame)))) => {
                if let Some(data) = frame.data_ref() {
                    let data = data.clone();
                    this.sent(&data);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Ok(Poll::Ready(Some(Err(e)))) => {
                tracing::warn!(error = %e, "event stream failed; the connection is cut");
                this.record_error(&e.to_string());
                this.end = Some(End::Failed);
                Poll::Ready(Some(Err(e)))
            }
            Ok(Poll::Ready(None)) => {
                this.end = Some(End::Complete);
                Poll::Ready(None)
            }
            Ok(Poll::Pending) => match this.poll_keep_alive(cx) {
                Poll::Ready(comment) => Poll::Ready(Some(Ok(Frame::data(comment)))),
                Poll::Pending => Poll::Pending,
            },
            Err(panic) => {
                let what = panic_message(panic.as_ref());
                tracing::error!(panic = %what, "event stream panicked; it ends with an error event");
                this.record_error(&format!("the event stream panicked: {what}"));
                this.end = Some(End::Panicked);
                // A partial event before it would swallow the error event: end it first.
                let tail = if this.at_boundary {
                    Bytes::from_static(PANICKED)
                } else {
                    Bytes::from([b"\n\n", PANICKED].concat())
                };
                this.events += 1;
                Poll::Ready(Some(Ok(Frame::data(tail))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.end.is_some()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl SseBody {
    fn record_error(&self, msg: &str) {
        if let Some(cx) = self.handoff.get() {
            let span = cx.span();
            span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, "sse_stream"));
            span.set_status(Status::error(msg.to_owned()));
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        let end = self.end.unwrap_or(End::ClientGone);
        if let Some(cx) = self.handoff.get() {
            let span = cx.span();
            span.set_attribute(KeyValue::new(
                EVENTS_ATTRIBUTE,
                i64::try_from(self.events).unwrap_or(i64::MAX),
            ));
            span.set_attribute(KeyValue::new(END_ATTRIBUTE, end.as_str()));
            span.end();
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
