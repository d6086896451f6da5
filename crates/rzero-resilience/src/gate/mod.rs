//! The tower middleware both the breaker and the shedder are: ask a gate before each call,
//! fail at once when it refuses, and tell it how each admitted call went.
//!
//! One generic shell instead of one per algorithm: the algorithms differ, the plumbing
//! (poll the inner future, classify the result, report it) does not.

mod future;

use std::task::{Context, Poll};

use tower::{BoxError, Layer, Service};

pub use future::ResponseFuture;

use crate::classify::Classify;

/// Something that admits calls and learns their outcome: [`crate::breaker::SreBreaker`],
/// [`crate::shedder::AdaptiveShedder`].
pub trait Gate: Clone + Send + Sync + 'static {
    /// The right to make one call, reported when it ends.
    type Permit: Permit;
    /// Why a call was refused (`BreakerOpen`, `Overloaded`).
    type Refusal: std::error::Error + Send + Sync + 'static;

    /// Admits one call or refuses it.
    fn admit(&self) -> Result<Self::Permit, Self::Refusal>;
}

/// The outcome report of an admitted call.
pub trait Permit {
    /// The call ended; `failed` as the classifier judged it.
    fn finish(self, failed: bool);
}

/// A service behind a [`Gate`].
#[derive(Clone, Debug)]
pub struct Gated<S, G, C> {
    inner: S,
    gate: G,
    classify: C,
}

impl<S, G, C> Gated<S, G, C> {
    /// `inner` behind `gate`; `classify` decides which results are failures.
    pub fn new(inner: S, gate: G, classify: C) -> Self {
        Gated {
            inner,
            gate,
            classify,
        }
    }

    /// The gate, e.g. to read its counters for metrics.
    pub fn gate(&self) -> &G {
        &self.gate
    }
}

impl<S, G, C, Req> Service<Req> for Gated<S, G, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    G: Gate,
    C: Classify<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, G, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.gate.admit() {
            Ok(permit) => {
                ResponseFuture::admitted(self.inner.call(req), permit, self.classify.clone())
            }
            Err(refusal) => ResponseFuture::refused(refusal, self.classify.clone()),
        }
    }
}

/// Puts services behind one shared gate: a layer per target is a breaker per target, a
/// layer per server is a shedder per server.
#[derive(Clone, Debug)]
pub struct GateLayer<G, C> {
    gate: G,
    classify: C,
}

impl<G, C> GateLayer<G, C> {
    /// A layer over `gate`, with `classify` deciding what counts as a failure.
    pub fn new(gate: G, classify: C) -> Self {
        GateLayer { gate, classify }
    }
}

impl<S, G: Clone, C: Clone> Layer<S> for GateLayer<G, C> {
    type Service = Gated<S, G, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Gated::new(inner, self.gate.clone(), self.classify.clone())
    }
}
