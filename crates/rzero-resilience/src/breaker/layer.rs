//! The layer that wraps a service in a [`super::Breaker`].

use tower::Layer;

use super::Breaker;
use super::sre::SreBreaker;

/// Wraps services in a breaker. Every service made by one layer shares its breaker: a
/// layer per target (or per route) is a breaker per target.
#[derive(Clone, Debug)]
pub struct BreakerLayer<C> {
    breaker: SreBreaker,
    classify: C,
}

impl<C> BreakerLayer<C> {
    /// A layer over `breaker`, with `classify` deciding what counts as a failure.
    pub fn new(breaker: SreBreaker, classify: C) -> Self {
        BreakerLayer { breaker, classify }
    }
}

impl<S, C: Clone> Layer<S> for BreakerLayer<C> {
    type Service = Breaker<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Breaker::new(inner, self.breaker.clone(), self.classify.clone())
    }
}
