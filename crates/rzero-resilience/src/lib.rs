//! rzero-resilience: the math that keeps a service standing when its neighbours fall,
//! apart from any transport, plus the tower layers rest and rpc put it in.
//!
//! - [`breaker`]: go-zero's adaptive (Google SRE) circuit breaker and its tower layer;
//! - [`shedder`]: go-zero's CPU-based adaptive load shedder, its CPU sampler and layer;
//! - [`p2c`]: go-zero's power-of-two-choices balancer with EWMA latency;
//! - [`classify`]: which results count as failures (HTTP 5xx, go-zero's gRPC codes);
//! - [`gate`]: the one tower middleware shell both the breaker and the shedder use;
//! - [`window`]: the rolling window of time buckets it counts in;
//! - [`clock`]: time as a constructor argument, so tests drive it.

//!
//! ```
//! use rzero_resilience::breaker::{BreakerConfig, SreBreaker};
//!
//! let breaker = SreBreaker::new(BreakerConfig::default());
//! match breaker.allow() {
//!     Ok(promise) => {
//!         let call_went_well = true; // make the call here
//!         if call_went_well { promise.accept() } else { promise.reject() }
//!     }
//!     Err(open) => eprintln!("not calling: {open}"),
//! }
//! ```
#![warn(missing_docs)]

pub mod breaker;
pub mod classify;
pub mod clock;
pub mod gate;
pub mod p2c;
pub mod shedder;
pub mod window;
