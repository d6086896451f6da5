//! At most N requests in flight; the next one is answered 503 at once rather than queued,
//! as go-zero's `MaxConnsHandler` does: a queue would only hide the overload from the
//! caller's timeout.
//!
//! Nobody ever waits for a permit, so the count is one atomic rather than a semaphore
//! (tokio's takes its waiters' lock on every release).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::IntoResponse;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::error::{Error, Refusal};
use crate::respond::Refusals;

/// Adds [`MaxConns`] to services; clones share the limit.
#[derive(Clone, Debug)]
pub struct MaxConnsLayer {
    in_flight: Arc<AtomicUsize>,
    max: usize,
    refusals: Refusals,
}

impl MaxConnsLayer {
    /// At most `max` requests in flight across every service this layer wraps.
    pub fn new(max: usize, refusals: Refusals) -> Self {
        MaxConnsLayer {
            in_flight: Arc::new(AtomicUsize::new(0)),
            max,
            refusals,
        }
    }
}

impl<S> Layer<S> for MaxConnsLayer {
    type Service = MaxConns<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MaxConns {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service with a cap on requests in flight; see [`MaxConnsLayer`].
#[derive(Clone, Debug)]
pub struct MaxConns<S> {
    inner: S,
    layer: MaxConnsLayer,
}

impl<S, B> Service<Request<B>> for MaxConns<S>
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
        match Permit::try_take(&self.layer.in_flight, self.layer.max) {
            Some(permit) => ResponseFuture {
                inner: Some(self.inner.call(req)),
                permit: Some(permit),
                max: self.layer.max,
            },
            None => {
                self.layer.refusals.count(Refusal::MaxConns);
                ResponseFuture {
                    inner: None,
                    permit: None,
                    max: self.layer.max,
                }
            }
        }
    }
}

/// One request in flight; dropping it makes room for the next.
#[derive(Debug)]
struct Permit(Arc<AtomicUsize>);

impl Permit {
    /// A permit unless `max` are out. A compare-and-swap rather than an add undone on
    /// failure: the undo would leave a moment where the count is over and a request that
    /// fits is refused.
    fn try_take(in_flight: &Arc<AtomicUsize>, max: usize) -> Option<Permit> {
        let mut n = in_flight.load(Ordering::Relaxed);
        loop {
            if n >= max {
                return None;
            }
            match in_flight.compare_exchange_weak(n, n + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(Permit(in_flight.clone())),
                Err(now) => n = now,
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

pin_project! {
    /// The future of a [`MaxConns`] call: holds its permit until the answer is ready.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Option<F>,
        permit: Option<Permit>,
        max: usize,
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) => {
                let out = std::task::ready!(inner.poll(cx));
                this.permit.take();
                Poll::Ready(out)
            }
            None => Poll::Ready(Ok(Error::unavailable(format!(
                "server is at its limit of {} requests in flight (MaxConns); retry later",
                this.max
            ))
            .into_response())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_stop_at_the_limit_and_come_back_when_dropped() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let a = Permit::try_take(&in_flight, 2).expect("first fits");
        let b = Permit::try_take(&in_flight, 2).expect("second fits");
        assert!(Permit::try_take(&in_flight, 2).is_none(), "third is over");
        drop(a);
        let c = Permit::try_take(&in_flight, 2).expect("room again");
        drop((b, c));
        assert_eq!(in_flight.load(Ordering::Relaxed), 0);
    }
}
