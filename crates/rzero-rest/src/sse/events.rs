//! [`events`]: an SSE answer driven by a route's logic, goctl's SSE handler in Rust.
//!
//! goctl's handler runs the logic in a goroutine that writes to a `chan` of 16, and
//! writes each value as `data: <json>`. Here the logic's future is polled by the stream
//! itself rather than spawned: when the client goes away the server drops the stream,
//! and the logic is cancelled with it at its next `.await`, instead of running on until
//! it next tries to send.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::response::sse::Event;
use axum::response::{IntoResponse, Response, Sse};
use futures_util::Stream;
use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry_semantic_conventions::attribute as semconv;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::Error;

/// Values the logic may send before the client has read them (goctl's channel size).
const BUFFER: usize = 16;

/// Where an SSE route's logic sends its events; each value becomes one `data:` event of
/// JSON. Cloning it gives another sender to the same stream.
#[derive(Debug)]
pub struct Sender<T> {
    tx: mpsc::Sender<T>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
        }
    }
}

/// The client is gone (or the stream ended): there is nobody to send events to.
#[derive(Debug, thiserror::Error)]
#[error("the event stream has ended (the client went away); stop producing events")]
pub struct Closed;

impl From<Closed> for Error {
    fn from(e: Closed) -> Self {
        // 499: nginx's and go-zero's "client closed request".
        let status =
            http::StatusCode::from_u16(499).unwrap_or(http::StatusCode::SERVICE_UNAVAILABLE);
        Error::new(status, e.to_string())
    }
}

impl<T> Sender<T> {
    /// Sends `event`, waiting while the client is 16 events behind (goctl's buffer).
    pub async fn send(&self, event: T) -> Result<(), Closed> {
        self.tx.send(event).await.map_err(|_| Closed)
    }

    /// Resolves when the stream has ended, for logic that waits on something else.
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// Whether the stream has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The stream behind [`Events`], boxed so that the answer has one concrete type.
type BoxEventStream = Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>>;

/// The logic of an SSE route, running while its stream is read.
type BoxLogic = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// An SSE answer; see [`events`].
pub struct Events {
    sse: Sse<BoxEventStream>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

impl IntoResponse for Events {
    fn into_response(self) -> Response {
        self.sse.into_response()
    }
}

/// The answer of an SSE handler: `logic` gets a [`Sender`] and runs while the stream is
/// read; each value it sends is a `data: <json>` event. The stream ends when the logic
/// returns and its events are sent; an `Err` is sent first as an `error` event
/// (`event: error`, `data: {"code", "msg"}`) and recorded on the server span.
///
/// ```
/// use rzero_rest::sse::{Events, events};
///
/// async fn ticks() -> Events {
///     events(|client| async move {
///         for n in 0..3u32 {
///             client.send(n).await?;
///         }
///         Ok(())
///     })
/// }
/// ```
pub fn events<T, F, Fut>(logic: F) -> Events
where
    T: Serialize + Send + 'static,
    F: FnOnce(Sender<T>) -> Fut,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(BUFFER);
    let stream = EventStream {
        logic: Some(Box::pin(logic(Sender { tx }))),
        rx,
        failed: None,
    };
    Events {
        sse: Sse::new(Box::pin(stream)),
    }
}

struct EventStream<T> {
    logic: Option<BoxLogic>,
    rx: mpsc::Receiver<T>,
    failed: Option<Error>,
}

impl<T: Serialize> Stream for EventStream<T> {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(value)) => match Event::default().json_data(&value) {
                    Ok(event) => return Poll::Ready(Some(Ok(event))),
                    // goctl logs and goes on to the next value: one bad value does not
                    // end the stream.
                    Err(e) => {
                        tracing::error!(error = %e, "an event is not JSON; it was not sent");
                        continue;
                    }
                },
                Poll::Ready(None) => {
                    if let Some(e) = this.failed.take() {
                        return Poll::Ready(Some(Ok(error_event(&e))));
                    }
                    if this.logic.is_none() {
                        return Poll::Ready(None);
                    }
                }
                Poll::Pending => {}
            }
            let Some(logic) = this.logic.as_mut() else {
                // The logic returned, a clone of its sender still sends.
                return Poll::Pending;
            };
            match logic.as_mut().poll(cx) {
                Poll::Ready(result) => {
                    // Dropping the future drops its sender: the channel ends once the
                    // values sent before are read.
                    this.logic = None;
                    if let Err(e) = result {
                        failed(&e);
                        this.rx.close();
                        this.failed = Some(e);
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

fn failed(e: &Error) {
    tracing::warn!(error = %e, "event stream logic failed; it ends with an error event");
    // As for any answer: the server span fails on a 5xx only.
    if e.status().is_server_error() {
        let cx = opentelemetry::Context::current();
        let span = cx.span();
        span.set_attribute(KeyValue::new(
            semconv::ERROR_TYPE,
            e.status().as_u16().to_string(),
        ));
        span.set_status(Status::error(e.msg().to_owned()));
    }
}

fn error_event(e: &Error) -> Event {
    let body = serde_json::json!({ "code": e.code(), "msg": e.msg() });
    Event::default().event("error").data(body.to_string())
}
