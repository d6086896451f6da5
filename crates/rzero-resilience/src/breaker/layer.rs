//! The tower side of the breaker: one breaker for every call ([`BreakerLayer`]), or one
//! per key taken from the request ([`KeyedBreakerLayer`], e.g. per gRPC method).
//!
//! Both are the crate's [`gate`](crate::gate) shell: ask before the call, answer
//! [`BreakerOpen`] at once when refused, classify the result and report it.

use std::task::{Context, Poll};

use tower::{BoxError, Layer, Service};

use super::error::BreakerOpen;
use super::set::BreakerSet;
use super::sre::{Promise, SreBreaker};
use crate::classify::Classify;
use crate::gate::{Gate, GateLayer, Gated, Permit};

/// A service behind an adaptive breaker.
pub type Breaker<S, C> = Gated<S, SreBreaker, C>;

/// Wraps services in a breaker shared by all of them (a layer per target or per route).
pub type BreakerLayer<C> = GateLayer<SreBreaker, C>;

/// The future of a call through a [`Breaker`] or a [`KeyedBreaker`].
pub type ResponseFuture<F, C> = crate::gate::ResponseFuture<F, SreBreaker, C>;

impl Gate for SreBreaker {
    type Permit = Promise;
    type Refusal = BreakerOpen;

    fn admit(&self) -> Result<Promise, BreakerOpen> {
        self.allow()
    }
}

impl Permit for Promise {
    fn finish(self, failed: bool) {
        if failed {
            self.reject();
        } else {
            self.accept();
        }
    }
}

/// Wraps services in a breaker per key, the key taken from each request by `key`
/// (go-zero's rpc client breaks per target and method; rest per method and route).
#[derive(Clone, Debug)]
pub struct KeyedBreakerLayer<K, F, C> {
    set: BreakerSet<K>,
    key: F,
    classify: C,
}

impl<K, F, C> KeyedBreakerLayer<K, F, C> {
    /// A layer over the breakers of `set`, keyed by `key(&request)`; `classify` decides
    /// which results are failures.
    pub fn new(set: BreakerSet<K>, key: F, classify: C) -> Self {
        KeyedBreakerLayer { set, key, classify }
    }
}

impl<S, K: Clone, F: Clone, C: Clone> Layer<S> for KeyedBreakerLayer<K, F, C> {
    type Service = KeyedBreaker<S, K, F, C>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyedBreaker {
            inner,
            set: self.set.clone(),
            key: self.key.clone(),
            classify: self.classify.clone(),
        }
    }
}

/// A service behind a breaker per request key; see [`KeyedBreakerLayer`].
#[derive(Clone, Debug)]
pub struct KeyedBreaker<S, K, F, C> {
    inner: S,
    set: BreakerSet<K>,
    key: F,
    classify: C,
}

impl<S, K, F, C> KeyedBreaker<S, K, F, C> {
    /// The breakers, e.g. to read their history for metrics.
    pub fn breakers(&self) -> &BreakerSet<K> {
        &self.set
    }
}

impl<S, K, F, C, Req> Service<Req> for KeyedBreaker<S, K, F, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    F: Fn(&Req) -> K,
    C: Classify<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let breaker = self.set.get(&(self.key)(&req));
        match breaker.allow() {
            Ok(promise) => {
                ResponseFuture::admitted(self.inner.call(req), promise, self.classify.clone())
            }
            Err(open) => ResponseFuture::refused(open, self.classify.clone()),
        }
    }
}
