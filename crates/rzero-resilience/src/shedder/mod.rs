//! go-zero's CPU-based adaptive load shedder: the algorithm ([`AdaptiveShedder`]), the
//! CPU reading it needs ([`CpuSampler`], [`FixedCpu`]) and a tower middleware
//! ([`LoadShed`], [`LoadShedLayer`]) that sheds with [`Overloaded`] (HTTP 503, gRPC
//! RESOURCE_EXHAUSTED).

mod adaptive;
mod config;
mod cpu;
mod error;
mod future;
mod layer;
#[cfg(test)]
mod tests;

use std::task::{Context, Poll};

use tower::{BoxError, Service};

pub use adaptive::{AdaptiveShedder, ShedPromise};
pub use config::ShedderConfig;
pub use cpu::{CpuSampler, CpuUsage, FixedCpu, SampledCpu};
pub use error::Overloaded;
pub use future::ResponseFuture;
pub use layer::LoadShedLayer;

use crate::classify::Classify;

/// A service behind an adaptive shedder.
#[derive(Clone, Debug)]
pub struct LoadShed<S, C> {
    inner: S,
    shedder: AdaptiveShedder,
    classify: C,
}

impl<S, C, Req> Service<Req> for LoadShed<S, C>
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
        match self.shedder.allow() {
            Ok(promise) => {
                ResponseFuture::called(self.inner.call(req), promise, self.classify.clone())
            }
            Err(Overloaded) => ResponseFuture::shed(self.classify.clone()),
        }
    }
}
