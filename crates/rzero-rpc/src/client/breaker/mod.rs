//! go-zero's adaptive (Google SRE) circuit breaker on the client
//! (`clientinterceptors/breakerinterceptor.go`): one breaker per method of the target,
//! from rzero-resilience's [`BreakerSet`]. A refused call answers UNAVAILABLE at once and
//! is counted in `rzero.rpc.client.breaker.rejections`; an admitted call is reported when
//! its status is known, failing on go-zero's codes (UNAVAILABLE, DEADLINE_EXCEEDED,
//! INTERNAL, DATA_LOSS, UNIMPLEMENTED, RESOURCE_EXHAUSTED) and on transport errors.
//!
//! This is not the crate's `gate` shell: that one classifies at the response headers,
//! while a gRPC success is only known at the trailers.

use std::task::{Context, Poll};

use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Meter};
use rzero_resilience::breaker::{BreakerSet, Promise};
use tonic::Code;
use tower::{Layer, Service};

use crate::body::{ObservedBody, OnEnd};
use crate::gated::{Admission, GatedFuture};
use crate::names;
use crate::status::counts_against_target;

/// Adds [`Breaker`] to a client.
#[derive(Clone)]
pub struct BreakerLayer {
    breakers: BreakerSet<String>,
    rejections: Counter<u64>,
}

impl std::fmt::Debug for BreakerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerLayer")
            .field("breakers", &self.breakers)
            .finish_non_exhaustive()
    }
}

impl BreakerLayer {
    /// Breaks with the breakers of `breakers`, keyed by method path; counts refusals
    /// on `meter`.
    pub fn new(breakers: BreakerSet<String>, meter: &Meter) -> Self {
        BreakerLayer {
            breakers,
            rejections: meter
                .u64_counter(names::RPC_CLIENT_BREAKER_REJECTIONS)
                .with_description("gRPC client calls refused by the circuit breaker.")
                .build(),
        }
    }
}

impl<S> Layer<S> for BreakerLayer {
    type Service = Breaker<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Breaker {
            inner,
            layer: self.clone(),
        }
    }
}

/// A client behind a breaker per method.
#[derive(Clone, Debug)]
pub struct Breaker<S> {
    inner: S,
    layer: BreakerLayer,
}

/// Reports a call's outcome to its breaker.
pub struct BreakerEnd(Promise);

impl OnEnd for BreakerEnd {
    fn on_end(self, code: Option<Code>) {
        match code {
            Some(code) if counts_against_target(code) => self.0.reject(),
            Some(_) => self.0.accept(),
            // Cancelled by the caller: says nothing about the target.
            None => drop(self.0),
        }
    }
}

impl<S, B, ResB> Service<Request<B>> for Breaker<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    ResB: Default,
{
    type Response = Response<ObservedBody<ResB, BreakerEnd>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let path = req.uri().path();
        match self.layer.breakers.get(path).allow() {
            Ok(promise) => {
                GatedFuture::admitted(self.inner.call(req), BreakerEnd(promise), breaker_open)
            }
            Err(open) => {
                self.layer
                    .rejections
                    .add(1, &[KeyValue::new(names::RPC_METHOD, path.to_owned())]);
                tracing::debug!(method = path, "{open}");
                GatedFuture::refused(breaker_open)
            }
        }
    }
}

/// The future of a call through [`Breaker`].
pub type ResponseFuture<F> = GatedFuture<F, BreakerEnd>;

impl Admission for BreakerEnd {
    fn failed(self) {
        self.0.reject();
    }
}

/// What a refused call answers.
fn breaker_open() -> tonic::Status {
    tonic::Status::unavailable(
        "circuit breaker is open: recent calls to this target mostly failed; retry later",
    )
}
