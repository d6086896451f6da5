//! go-zero's adaptive circuit breaker: the algorithm ([`SreBreaker`], after
//! `core/breaker/googlebreaker.go`), breakers by name ([`BreakerSet`], instead of go-zero's
//! package-level map in `core/breaker/breakers.go`) and tower middleware ([`Breaker`],
//! [`BreakerLayer`], [`KeyedBreakerLayer`]) that asks before each call and tells the
//! breaker how each call went.
//!
//! A refused call fails at once with [`BreakerOpen`] (boxed, as tower errors are), which
//! the servers' error table maps to HTTP 503 and gRPC UNAVAILABLE.
//!
//! Which results count against the target is the caller's choice (a [`Classify`]):
//! [`HttpServerErrors`] for rest (5xx, as go-zero's `BreakerHandler`), or a classifier
//! built on [`grpc_code_is_failure`] for rpc (go-zero's `codes.Acceptable`).
//!
//! Put timeouts *inside* the breaker (`breaker(timeout(service))`): a call that times
//! out inside is an error the breaker counts, while a call whose future is dropped from
//! outside (a caller gone, an outer timeout) is counted as nothing at all.
//!
//! Layout: `sre.rs` the algorithm, `set.rs` the keyed registry, `layer.rs` the tower
//! side, `config.rs`, `error.rs`. The response future is the shared
//! [`gate`](crate::gate) one, since breaker and shedder poll and report alike.

mod config;
mod error;
mod layer;
mod set;
mod sre;
#[cfg(test)]
mod tests;

pub use config::BreakerConfig;
pub use error::BreakerOpen;
pub use layer::{Breaker, BreakerLayer, KeyedBreaker, KeyedBreakerLayer, ResponseFuture};
pub use set::BreakerSet;
pub use sre::{Counts, History, Outcome, Promise, SreBreaker};

pub use crate::classify::{Classify, ErrorsAreFailures, HttpServerErrors, grpc_code_is_failure};
