//! Turns the errors of the resilience gates (shedder, breaker) into answers, through the
//! one table in [`crate::error`], and counts each refusal in
//! `rzero.http.server.refused{reason}`.
//!
//! The gates live in rzero-resilience and know nothing of HTTP: they fail with a typed
//! error (`Overloaded`, `BreakerOpen`). axum wants services that never fail, so this
//! layer sits right outside them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use axum::response::IntoResponse;
use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Meter};
use pin_project_lite::pin_project;
use tower::{BoxError, Layer, Service};

use crate::error::{Error, Refusal};

/// Counts refusals; cheap to clone. A default one counts nothing.
#[derive(Clone, Debug, Default)]
pub struct Refusals(Option<Counter<u64>>);

impl Refusals {
    /// The `rzero.http.server.refused` counter of `meter`.
    pub fn new(meter: &Meter) -> Self {
        Refusals(Some(
            meter
                .u64_counter("rzero.http.server.refused")
                .with_unit("{request}")
                .with_description("Requests answered by a middleware instead of their handler")
                .build(),
        ))
    }

    /// Counts one refusal.
    pub fn count(&self, why: Refusal) {
        if let Some(c) = &self.0 {
            c.add(1, &[KeyValue::new("reason", why.as_str())]);
        }
    }
}

/// Adds [`Respond`] to services.
#[derive(Clone, Debug, Default)]
pub struct RespondLayer {
    refusals: Refusals,
}

impl RespondLayer {
    /// Answers errors with the table and counts them in `refusals`.
    pub fn new(refusals: Refusals) -> Self {
        RespondLayer { refusals }
    }
}

impl<S> Layer<S> for RespondLayer {
    type Service = Respond<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Respond {
            inner,
            refusals: self.refusals.clone(),
        }
    }
}

/// A service whose errors are answered, see [`RespondLayer`].
#[derive(Clone, Debug)]
pub struct Respond<S> {
    inner: S,
    refusals: Refusals,
}

impl<S, B> Service<Request<B>> for Respond<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = BoxError>,
{
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The gates are always ready; an inner error here would be a broken handler,
        // answered when the request comes.
        let _ = ready!(self.inner.poll_ready(cx));
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ResponseFuture {
            inner: self.inner.call(req),
            refusals: self.refusals.clone(),
        }
    }
}

pin_project! {
    /// The future of a [`Respond`] call.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        refusals: Refusals,
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, BoxError>>,
{
    type Output = Result<Response<Body>, std::convert::Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        Poll::Ready(Ok(match ready!(this.inner.poll(cx)) {
            Ok(resp) => resp,
            Err(err) => {
                let (answer, why) = Error::from_middleware(&err);
                this.refusals.count(why);
                answer.into_response()
            }
        }))
    }
}
