//! go-zero's adaptive load shedding for a whole server (`UnarySheddingInterceptor`): when
//! the CPU is over `CpuThreshold` and more calls are in flight than the server has shown
//! it can finish, new calls are refused at once with RESOURCE_EXHAUSTED, so the calls
//! already running finish in time instead of all of them timing out.
//!
//! The algorithm is rzero-resilience's [`AdaptiveShedder`]; this layer asks it before
//! each call and tells it, when the call's status is known, whether the call counts as
//! served: as in go-zero, only a DEADLINE_EXCEEDED does not.

use std::task::{Context, Poll};

use http::{Request, Response};
use opentelemetry::metrics::{Counter, Meter};
use rzero_resilience::shedder::{AdaptiveShedder, ShedPromise};
use tonic::Code;
use tower::{Layer, Service};

use crate::body::{ObservedBody, OnEnd};
use crate::gated::{Admission, GatedFuture};
use crate::names;

/// Adds [`Shed`] to services; all of them share one shedder.
#[derive(Clone)]
pub struct ShedLayer {
    shedder: AdaptiveShedder,
    shed: Counter<u64>,
}

impl std::fmt::Debug for ShedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShedLayer").finish_non_exhaustive()
    }
}

impl ShedLayer {
    /// Sheds with `shedder`, counting refusals on `meter`.
    pub fn new(shedder: AdaptiveShedder, meter: &Meter) -> Self {
        ShedLayer {
            shedder,
            shed: meter
                .u64_counter(names::RPC_SERVER_SHED)
                .with_description("gRPC calls refused by the adaptive load shedder.")
                .build(),
        }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service behind the adaptive shedder.
#[derive(Clone, Debug)]
pub struct Shed<S> {
    inner: S,
    layer: ShedLayer,
}

/// Reports a call's outcome to the shedder.
pub struct ShedEnd(ShedPromise);

impl OnEnd for ShedEnd {
    fn on_end(self, code: Option<Code>) {
        match code {
            Some(Code::DeadlineExceeded) => self.0.fail(),
            Some(_) => self.0.pass(),
            // Cancelled by the caller: the promise's drop counts it as neither.
            None => drop(self.0),
        }
    }
}

impl<S, B, ResB> Service<Request<B>> for Shed<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    ResB: Default,
{
    type Response = Response<ObservedBody<ResB, ShedEnd>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        match self.layer.shedder.allow() {
            Ok(promise) => {
                GatedFuture::admitted(self.inner.call(req), ShedEnd(promise), shed_answer)
            }
            Err(overloaded) => {
                self.layer.shed.add(1, &[]);
                tracing::warn!(method = req.uri().path(), "{overloaded}");
                GatedFuture::refused(shed_answer)
            }
        }
    }
}

/// The future of a call through [`Shed`].
pub type ResponseFuture<F> = GatedFuture<F, ShedEnd>;

impl Admission for ShedEnd {
    fn failed(self) {
        self.0.fail();
    }
}

/// What a shed call answers.
fn shed_answer() -> tonic::Status {
    tonic::Status::resource_exhausted(
        "service overloaded: call shed to protect the calls in flight; retry later",
    )
}
