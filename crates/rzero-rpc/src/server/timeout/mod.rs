//! A deadline per call: the server's `Timeout` or the caller's `grpc-timeout`, whichever
//! is shorter (go-zero's `UnaryTimeoutInterceptor`). A call past it is dropped (the
//! handler is cancelled) and answered DEADLINE_EXCEEDED.
//!
//! tonic's transport also watches `grpc-timeout` and answers CANCELLED when it passes;
//! this layer's deadline for a caller's timeout is set a millisecond earlier, so the
//! caller gets the code the gRPC spec names.
//!
//! The deadline is also put in scope for the handler ([`rzero_resilience::deadline`]):
//! its SQL statements and its calls to other services are bounded by the time the
//! caller has left, not by their own fixed timeouts.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::Either;
use http::{Request, Response};
use pin_project_lite::pin_project;
use rzero_resilience::deadline;
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use crate::status::timeout_in;

const MARGIN: Duration = Duration::from_millis(1);

/// At most this much of a call's deadline is kept back from the work in its handler
/// (a tenth of it when shorter): the time to make an answer of an error.
const HANDLER_MARGIN: Duration = Duration::from_millis(20);

/// Adds [`Timeout`] to services.
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    timeout: Option<Duration>,
}

impl TimeoutLayer {
    /// Calls may take `timeout` at most; zero leaves only the caller's deadline.
    pub fn new(timeout: Duration) -> Self {
        TimeoutLayer {
            timeout: (!timeout.is_zero()).then_some(timeout),
        }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            timeout: self.timeout,
        }
    }
}

/// A service whose calls have a deadline.
#[derive(Clone, Debug)]
pub struct Timeout<S> {
    inner: S,
    timeout: Option<Duration>,
}

impl<S, B, ResB> Service<Request<B>> for Timeout<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    ResB: Default,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<Either<deadline::Scoped<S::Future>, S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let caller = timeout_in(req.headers()).map(|t| t.saturating_sub(MARGIN));
        let deadline = match (self.timeout, caller) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let call = self.inner.call(req);
        // One clock read for the handler's scope and the call's own deadline.
        let now = deadline.map(|_| Instant::now());
        let call = match (deadline, now) {
            (Some(d), Some(now)) => {
                // The handler's work ends a little before the call's deadline, so that a
                // statement cut off by it still turns into the handler's own answer.
                let work = d.saturating_sub((d / 10).min(HANDLER_MARGIN));
                Either::Left(deadline::scope(now + work, call))
            }
            _ => Either::Right(call),
        };
        let at = deadline.zip(now).map(|(d, now)| now + d);
        ResponseFuture::until(call, at, "the server's deadline")
    }
}

pin_project! {
    /// The future of a call with a deadline (server and client alike).
    ///
    /// The timer is armed only when the call first returns pending: until then the
    /// deadline is an instant read from the clock, so a call that answers at once (most
    /// handlers) never makes, registers and cancels a timer.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        deadline: Option<Instant>,
        #[pin]
        sleep: Option<Sleep>,
        whose: &'static str,
    }
}

impl<F> ResponseFuture<F> {
    /// A call that may take `deadline` from now; `whose` names it in the error.
    pub(crate) fn new(inner: F, deadline: Option<Duration>, whose: &'static str) -> Self {
        Self::until(inner, deadline.map(|d| Instant::now() + d), whose)
    }

    /// A call that must be done by `deadline`.
    fn until(inner: F, deadline: Option<Instant>, whose: &'static str) -> Self {
        ResponseFuture {
            inner,
            deadline,
            sleep: None,
            whose,
        }
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    ResB: Default,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            return Poll::Ready(result);
        }
        if let Some(deadline) = this.deadline.take() {
            this.sleep.set(Some(tokio::time::sleep_until(deadline)));
        }
        let expired = match this.sleep.as_pin_mut() {
            Some(sleep) => sleep.poll(cx).is_ready(),
            None => false,
        };
        if !expired {
            return Poll::Pending;
        }
        Poll::Ready(Ok(tonic::Status::deadline_exceeded(format!(
            "deadline exceeded: the call took longer than {}; raise Timeout or make it faster",
            this.whose
        ))
        .into_http()))
    }
}
