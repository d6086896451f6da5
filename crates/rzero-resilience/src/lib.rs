//! rzero-resilience: the math that keeps a service standing when its neighbours fall,
//! apart from any transport, plus the tower layers rest and rpc put it in. Each algorithm
//! is a port of go-zero's (the module docs cite the Go files), held in plain structs
//! with an injected [`clock`] so tests drive time, and with no global state: every
//! breaker, shedder and balancer lives in the instance its owner built.
//!
//! - [`breaker`]: go-zero's adaptive (Google SRE) circuit breaker, breakers by name
//!   ([`breaker::BreakerSet`]) and the tower layers (`BreakerLayer`, `KeyedBreakerLayer`);
//! - [`shedder`]: go-zero's CPU-based adaptive load shedder, its CPU sampler (cgroup v2,
//!   v1, `/proc/stat`) and its tower layer (`LoadShedLayer`);
//! - [`p2c`]: go-zero's power-of-two-choices balancer with EWMA latency;
//! - [`classify`]: which results count as failures (HTTP 5xx, go-zero's gRPC codes);
//! - [`gate`]: the one tower middleware shell both the breaker and the shedder use;
//! - [`window`]: the rolling window of time buckets they count in;
//! - [`clock`]: time as a constructor argument;
//! - [`deadline`]: the caller's deadline, in scope for the work done for it.
//!
//! ```
//! use rzero_resilience::breaker::{BreakerConfig, BreakerOpen, SreBreaker};
//!
//! let breaker = SreBreaker::new(BreakerConfig::default());
//!
//! // Ask, call, report:
//! match breaker.allow() {
//!     Ok(promise) => {
//!         let call_went_well = true; // make the call here
//!         if call_went_well { promise.accept() } else { promise.reject() }
//!     }
//!     Err(open) => eprintln!("not calling: {open}"),
//! }
//!
//! // Or let the breaker run the call; a "not found" says nothing about the target:
//! let answer = breaker.call_with_acceptable(
//!     || Err::<u32, _>("not found"),
//!     |e| *e == "not found",
//! );
//! assert_eq!(answer, Ok(Err("not found")));
//! assert_eq!(breaker.history().accepts, 2);
//! # let _: Option<BreakerOpen> = None;
//! ```
#![warn(missing_docs)]

pub mod breaker;
pub mod classify;
pub mod clock;
pub mod deadline;
pub mod gate;
pub mod p2c;
pub mod shedder;
pub mod window;
