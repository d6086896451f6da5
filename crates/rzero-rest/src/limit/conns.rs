//! At most N requests in flight; the next one is answered 503 at once rather than queued,
//! as go-zero's `MaxConnsHandler` does: a queue would only hide the overload from the
//! caller's timeout.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::IntoResponse;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

use crate::error::{Error, Refusal};
use crate::respond::Refusals;

/// Adds [`MaxConns`] to services; clones share the limit.
#[derive(Clone, Debug)]
pub struct MaxConnsLayer {
    permits: Arc<Semaphore>,
    max: usize,
    refusals: Refusals,
}

impl MaxConnsLayer {
    /// At most `max` requests in flight across every service this layer wraps.
    pub fn new(max: usize, refusals: Refusals) -> Self {
        MaxConnsLayer {
            permits: Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))),
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
        match self.layer.permits.clone().try_acquire_owned() {
            Ok(permit) => ResponseFuture {
                inner: Some(self.inner.call(req)),
                permit: Some(permit),
                max: self.layer.max,
            },
            Err(_) => {
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

pin_project! {
    /// The future of a [`MaxConns`] call: holds its permit until the answer is ready.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Option<F>,
        permit: Option<OwnedSemaphorePermit>,
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
