//! go-zero's adaptive circuit breaker: the algorithm ([`SreBreaker`]) and a tower
//! middleware ([`Breaker`], [`BreakerLayer`]) that asks it before each call and tells it
//! how each call went.
//!
//! A refused call fails at once with [`BreakerOpen`] (boxed, as tower errors are), which
//! the servers' error table maps to HTTP 503 and gRPC UNAVAILABLE.

mod config;
mod error;
mod future;
mod layer;
mod sre;
#[cfg(test)]
mod tests;

use std::task::{Context, Poll};

use tower::{BoxError, Service};

pub use crate::classify::{Classify, ErrorsAreFailures, HttpServerErrors, grpc_code_is_failure};
pub use config::BreakerConfig;
pub use error::BreakerOpen;
pub use future::ResponseFuture;
pub use layer::BreakerLayer;
pub use sre::{Counts, History, Outcome, Promise, SreBreaker};

/// A service behind an adaptive breaker.
#[derive(Clone, Debug)]
pub struct Breaker<S, C> {
    inner: S,
    breaker: SreBreaker,
    classify: C,
}

impl<S, C> Breaker<S, C> {
    /// `inner` behind `breaker`; `classify` decides which results are failures.
    pub fn new(inner: S, breaker: SreBreaker, classify: C) -> Self {
        Breaker {
            inner,
            breaker,
            classify,
        }
    }

    /// The breaker, e.g. to read its history for metrics.
    pub fn breaker(&self) -> &SreBreaker {
        &self.breaker
    }
}

impl<S, C, Req> Service<Req> for Breaker<S, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.breaker.allow() {
            Ok(promise) => {
                ResponseFuture::called(self.inner.call(req), promise, self.classify.clone())
            }
            Err(BreakerOpen) => ResponseFuture::refused(self.classify.clone()),
        }
    }
}
