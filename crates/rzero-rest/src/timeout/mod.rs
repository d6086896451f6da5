//! A deadline per request: past it the handler is cancelled (its future dropped) and the
//! caller gets 503 with a JSON body, go-zero's `TimeoutHandler` convention.
//!
//! Unless the handler was waiting for the client's body when the deadline came (see
//! [`crate::limit::read`]): then the slowness was the client's, and the answer is 408,
//! which the route's breaker does not count. Forty clients dribbling their bodies must not
//! open the breaker against everyone else.
//!
//! Written here rather than taken from tower-http: its `TimeoutLayer` answers with an
//! empty body, and rzero's answers are JSON from one table and counted as refusals.
//!
//! The timer is made only when the handler first has to wait: a handler that answers on
//! its first poll (a cached read, a refusal) costs a clock read, not a boxed timer, its
//! registration and a runtime-handle clone. The deadline is still taken when the request
//! comes in, so a handler that waits gets exactly the time it had before.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::IntoResponse;
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use crate::error::{Error, Refusal};
use crate::limit::read::ReadProgress;
use crate::respond::Refusals;

/// Adds [`Timeout`] to services.
#[derive(Clone, Debug)]
pub struct TimeoutLayer {
    timeout: Duration,
    refusals: Refusals,
}

impl TimeoutLayer {
    /// Requests get `timeout`; later ones are cancelled, answered 503 and counted.
    pub fn new(timeout: Duration, refusals: Refusals) -> Self {
        TimeoutLayer { timeout, refusals }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service whose requests have a deadline; see [`TimeoutLayer`].
#[derive(Clone, Debug)]
pub struct Timeout<S> {
    inner: S,
    layer: TimeoutLayer,
}

impl<S, B> Service<Request<B>> for Timeout<S>
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
        let progress = req.extensions().get::<ReadProgress>().cloned();
        ResponseFuture {
            progress,
            deadline: Instant::now() + self.layer.timeout,
            inner: self.inner.call(req),
            sleep: None,
            layer: self.layer.clone(),
        }
    }
}

pin_project! {
    /// The future of a [`Timeout`] call.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // Made when `inner` first returns pending; boxed, because a `Sleep` is large
        // and every layer outside moves this future into its own.
        sleep: Option<Pin<Box<Sleep>>>,
        deadline: Instant,
        layer: TimeoutLayer,
        progress: Option<ReadProgress>,
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out);
        }
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(*this.deadline)));
        let expired = sleep.as_mut().poll(cx).is_ready();
        if expired {
            this.layer.refusals.count(Refusal::Timeout);
            if this
                .progress
                .as_ref()
                .is_some_and(ReadProgress::waiting_on_client)
            {
                let msg = format!(
                    "the request body did not arrive within {:?}; send it faster",
                    this.layer.timeout
                );
                return Poll::Ready(Ok(
                    Error::new(StatusCode::REQUEST_TIMEOUT, msg).into_response()
                ));
            }
            let msg = format!(
                "request timed out after {:?}; the handler was cancelled, retry later",
                this.layer.timeout
            );
            return Poll::Ready(Ok(Error::unavailable(msg).into_response()));
        }
        Poll::Pending
    }
}
