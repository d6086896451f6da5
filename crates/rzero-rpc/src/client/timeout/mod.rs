//! A deadline per call from the client's `Timeout` (or the caller's own, set with
//! `tonic::Request::set_timeout`, when shorter), sent to the server as `grpc-timeout` so
//! it stops working on calls nobody waits for any more. A call past it answers
//! DEADLINE_EXCEEDED here, whatever the server does. Inside a server's handler the
//! deadline of the call being served ([`rzero_resilience::deadline`]) bounds it too, so
//! a service never waits for another longer than its own caller waits for it.

use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tower::{Layer, Service};

use crate::status::{GRPC_TIMEOUT, timeout_in, timeout_value};

pub use crate::server::timeout::ResponseFuture;

/// Adds [`Timeout`] to a client.
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    timeout: Option<Duration>,
}

impl TimeoutLayer {
    /// Calls may take `timeout` at most; zero sets no deadline of the client's own.
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

/// A client whose calls have a deadline.
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
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let deadline = [
            self.timeout,
            timeout_in(req.headers()),
            rzero_resilience::deadline::remaining(),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(d) = deadline {
            req.headers_mut().insert(GRPC_TIMEOUT, timeout_value(d));
        }
        ResponseFuture::new(self.inner.call(req), deadline, "the client's Timeout")
    }
}
