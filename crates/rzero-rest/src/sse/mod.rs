//! Server-sent events: go-zero's `@server(sse: true)` (`rest.WithSSE`, go-zero 1.9).
//!
//! An SSE route ([`Group::sse`], [`Route::sse`]) answers `text/event-stream` for as long
//! as its stream runs, so the server treats it unlike a request/response route:
//!
//! - no per-route timeout: a stream may run for hours, and its handler may take its time
//!   before the first byte (go-zero clears the write deadline for the same reason);
//! - no buffering: every event is its own body frame, written and flushed when it comes,
//!   and the answer says `Cache-Control: no-cache` and `X-Accel-Buffering: no` (so that
//!   nginx in front does not hold events back); a compression layer must leave
//!   `text/event-stream` alone (tower-http's default predicate does);
//! - keep-alive comments (`:` lines) when the stream has been quiet for the route's
//!   keep-alive interval, so that proxies keep the connection and a vanished client is
//!   noticed by the next write;
//! - the server span stays open until the stream ends, not until its head is sent, with
//!   the number of events ([`EVENTS_ATTRIBUTE`]) and how it ended ([`END_ATTRIBUTE`]);
//!   the span is current while the stream is polled, so the spans the stream makes are
//!   its children;
//! - a client that goes away ends the stream: the body, and with it the handler's
//!   stream, is dropped;
//! - a draining server ends every open stream cleanly (the last chunk is sent and the
//!   connection closes), so a drain never waits `Shutdown.WaitTime` for streams that
//!   would never end by themselves.
//!
//! A handler returns any `text/event-stream` answer (axum's [`Sse`](axum::response::Sse)
//! works) or, as the generated code does, [`events`]: the route's logic gets a
//! [`Sender`], as goctl's SSE logic gets a `chan<-`, and every value it sends is one
//! `data:` event of JSON.
//!
//! [`Group::sse`]: crate::Group::sse
//! [`Route::sse`]: crate::Route::sse

mod body;
mod events;
mod future;

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use http::{Request, Response};
use tokio::sync::watch;
use tower::{Layer, Service};

pub use events::{Closed, Events, Sender, events};
pub use future::ResponseFuture;

/// How long a stream may be quiet before the server sends a keep-alive comment (axum's
/// `KeepAlive` default).
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Span attribute: how many events the stream sent (keep-alive comments not counted).
pub const EVENTS_ATTRIBUTE: &str = "rzero.sse.events";

/// Span attribute: how the stream ended: [`End::Complete`], [`End::Drained`],
/// [`End::ClientGone`], [`End::Failed`] or [`End::Panicked`], as [`End::as_str`] writes.
pub const END_ATTRIBUTE: &str = "rzero.sse.end";

/// How a stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum End {
    /// The handler's stream ended.
    Complete,
    /// The server drained and ended it.
    Drained,
    /// The body was dropped before its end: the client went away.
    ClientGone,
    /// The handler's stream failed; the connection was cut.
    Failed,
    /// The handler's stream panicked; it was ended with an `error` event.
    Panicked,
}

impl End {
    /// The [`END_ATTRIBUTE`] value.
    pub fn as_str(self) -> &'static str {
        match self {
            End::Complete => "complete",
            End::Drained => "drained",
            End::ClientGone => "client_gone",
            End::Failed => "failed",
            End::Panicked => "panicked",
        }
    }
}

/// Ends the open streams of every [`SseLayer`] it came from; the server calls
/// [`drain`](Self::drain) when it starts draining.
#[derive(Clone, Debug)]
pub struct SseDrain(Arc<watch::Sender<bool>>);

impl SseDrain {
    /// Open streams end after the frame they are writing; new ones end at once.
    pub fn drain(&self) {
        self.0.send_replace(true);
    }
}

/// Where the trace layer hands an SSE answer its server span, instead of ending it when
/// the head is sent: the stream's body ends it. An extension of the response between the
/// two layers, removed by the trace layer.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanHandoff(Arc<OnceLock<opentelemetry::Context>>);

impl SpanHandoff {
    /// Gives the stream the span; it ends it.
    pub(crate) fn give(&self, cx: opentelemetry::Context) {
        let _ = self.0.set(cx);
    }

    fn get(&self) -> Option<&opentelemetry::Context> {
        self.0.get()
    }
}

/// Serves a route's `text/event-stream` answers as streams (see the module docs);
/// other answers (a 4xx from parsing, a panic's 500) pass as they are.
#[derive(Clone, Debug)]
pub struct SseLayer {
    keep_alive: Duration,
    drain: watch::Receiver<bool>,
    handle: SseDrain,
}

impl Default for SseLayer {
    fn default() -> Self {
        SseLayer::new()
    }
}

impl SseLayer {
    /// Keep-alive every [`DEFAULT_KEEP_ALIVE`] of quiet; streams end on
    /// [`SseDrain::drain`] of [`drain_handle`](Self::drain_handle).
    pub fn new() -> Self {
        let (tx, drain) = watch::channel(false);
        SseLayer {
            keep_alive: DEFAULT_KEEP_ALIVE,
            drain,
            handle: SseDrain(Arc::new(tx)),
        }
    }

    /// The keep-alive interval (`ZERO`: none).
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.keep_alive = interval;
        self
    }

    /// Ends the streams of this layer and of its clones.
    pub fn drain_handle(&self) -> SseDrain {
        self.handle.clone()
    }
}

impl<S> Layer<S> for SseLayer {
    type Service = SseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SseService {
            inner,
            layer: self.clone(),
        }
    }
}

/// A route served as server-sent events; see [`SseLayer`].
#[derive(Clone, Debug)]
pub struct SseService<S> {
    inner: S,
    layer: SseLayer,
}

impl<S, B> Service<Request<B>> for SseService<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ResponseFuture::new(self.inner.call(req), self.layer.clone())
    }
}

#[cfg(test)]
mod tests;
