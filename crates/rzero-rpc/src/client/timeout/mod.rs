//! A deadline per call from the client's `Timeout` (or the caller's own, set with
//! `tonic::Request::set_timeout`, when shorter), sent to the server as `grpc-timeout` so
//! it stops working on calls nobody waits for any more. A call past it answers
//! DEADLINE_EXCEEDED here, whatever the server does. Inside a server's handler the
//! deadline of the call being served ([`rzero_resilience::deadline`]) bounds it too, so
//! a service never waits for another longer than its own caller waits for it.

use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Request, Response};
use tower::{Layer, Service};

use crate::status::{GRPC_TIMEOUT_NAME, timeout_in, timeout_value};

pub use crate::server::timeout::ResponseFuture;

/// Adds [`Timeout`] to a client.
#[derive(Clone, Debug)]
pub struct TimeoutLayer {
    timeout: Option<(Duration, HeaderValue)>,
}

impl TimeoutLayer {
    /// Calls may take `timeout` at most; zero sets no deadline of the client's own.
    pub fn new(timeout: Duration) -> Self {
        TimeoutLayer {
            // The client's own deadline is most calls' `grpc-timeout`: written once, a
            // call then sends a shared copy instead of formatting a new value.
            timeout: (!timeout.is_zero()).then(|| (timeout, timeout_value(timeout))),
        }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            timeout: self.timeout.clone(),
        }
    }
}

/// A client whose calls have a deadline.
#[derive(Clone, Debug)]
pub struct Timeout<S> {
    inner: S,
    timeout: Option<(Duration, HeaderValue)>,
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
        let own = self.timeout.as_ref().map(|(d, _)| *d);
        let deadline = [
            own,
            timeout_in(req.headers()),
            rzero_resilience::deadline::remaining(),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(d) = deadline {
            let value = match &self.timeout {
                Some((own, value)) if *own == d => value.clone(),
                _ => timeout_value(d),
            };
            req.headers_mut().insert(GRPC_TIMEOUT_NAME.clone(), value);
        }
        ResponseFuture::new(self.inner.call(req), deadline, "the client's Timeout")
    }
}
