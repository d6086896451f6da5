//! go-zero's adaptive circuit breaker: the algorithm ([`SreBreaker`]) and a tower
//! middleware ([`Breaker`], [`BreakerLayer`]) that asks it before each call and tells it
//! how each call went.
//!
//! A refused call fails at once with [`BreakerOpen`] (boxed, as tower errors are), which
//! the servers' error table maps to HTTP 503 and gRPC UNAVAILABLE.

mod config;
mod error;
mod sre;
#[cfg(test)]
mod tests;

pub use config::BreakerConfig;
pub use error::BreakerOpen;
pub use sre::{Counts, History, Outcome, Promise, SreBreaker};

pub use crate::classify::{Classify, ErrorsAreFailures, HttpServerErrors, grpc_code_is_failure};
use crate::gate::{Gate, GateLayer, Gated, Permit};

/// A service behind an adaptive breaker.
pub type Breaker<S, C> = Gated<S, SreBreaker, C>;

/// Wraps services in a breaker shared by all of them (a layer per target).
pub type BreakerLayer<C> = GateLayer<SreBreaker, C>;

/// The future of a call through a [`Breaker`].
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
