//! The algorithm: Google SRE's client-side throttling as go-zero implements it
//! (`core/breaker/googlebreaker.go`), with no tower types in sight.
//!
//! Over a 10 s window the breaker counts requests and accepts. It rejects a new request
//! with probability `max(0, (requests - protection - K' * accepts) / (requests + 1))`
//! (SRE book, "Handling Overload", eq. 21-1), where go-zero's refinements apply:
//! - `K'` falls from `K` (1.5) towards 1.1 the longer the tail of the window has been all
//!   failures, so a dead backend is cut off sooner;
//! - the ratio is scaled down by the run of recent all-success buckets, so a recovering
//!   backend gets traffic back quickly;
//! - if nothing has passed for over a second, one request is let through regardless, so
//!   the breaker learns when the backend is back.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::config::BreakerConfig;
use super::error::BreakerOpen;
use crate::clock::{Clock, SystemClock};
use crate::window::{Bucket, RollingWindow};

const MIN_K: f64 = 1.1;
const FORCE_PASS: Duration = Duration::from_secs(1);

/// One bucket's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// All outcomes, drops included.
    pub total: u64,
    /// Calls that succeeded.
    pub success: u64,
    /// Calls that failed.
    pub failure: u64,
    /// Calls the breaker refused.
    pub drop: u64,
}

/// The outcome of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The call succeeded (or failed in a way that says nothing about the backend).
    Success,
    /// The call failed in a way that counts against the backend.
    Failure,
    /// The breaker refused the call.
    Drop,
}

impl Bucket for Counts {
    type Value = Outcome;

    fn add(&mut self, outcome: Outcome) {
        self.total += 1;
        match outcome {
            Outcome::Success => self.success += 1,
            Outcome::Failure => self.failure += 1,
            Outcome::Drop => self.drop += 1,
        }
    }

    fn reset(&mut self) {
        *self = Counts::default();
    }
}

/// What the window says now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Successful calls in the window.
    pub accepts: u64,
    /// All outcomes in the window.
    pub total: u64,
    /// The run of newest buckets with failures and no success.
    pub failing_buckets: u64,
    /// The run of newest buckets with successes and no failure.
    pub working_buckets: u64,
}

/// The adaptive breaker of one target. Cheap to clone: clones share state.
#[derive(Clone)]
pub struct SreBreaker {
    shared: Arc<Shared>,
}

struct Shared {
    config: BreakerConfig,
    clock: Box<dyn Clock>,
    state: Mutex<State>,
}

struct State {
    window: RollingWindow<Counts>,
    /// The window's buckets added up, kept as outcomes come and buckets expire, so a
    /// healthy target is judged without visiting the buckets.
    sum: Counts,
    last_pass: Option<Duration>,
    rng: fastrand::Rng,
}

impl std::fmt::Debug for SreBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SreBreaker")
            .field("config", &self.shared.config)
            .field("history", &self.history())
            .finish()
    }
}

// === impl SreBreaker ===

impl SreBreaker {
    /// A breaker on the system clock.
    pub fn new(config: BreakerConfig) -> Self {
        Self::with_clock(config, SystemClock::default(), fastrand::u64(..))
    }

    /// A breaker on `clock`, with its random drops seeded by `seed` (tests repeat runs).
    pub fn with_clock(config: BreakerConfig, clock: impl Clock, seed: u64) -> Self {
        let buckets = config.buckets.max(1);
        let interval = config.window() / u32::try_from(buckets).unwrap_or(u32::MAX);
        let now = clock.now();
        SreBreaker {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    window: RollingWindow::new(buckets, interval, now),
                    sum: Counts::default(),
                    last_pass: None,
                    rng: fastrand::Rng::with_seed(seed),
                }),
                clock: Box::new(clock),
                config,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is counters: one left mid-update by a panic is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Asks to make a call. `Ok` carries the promise to report its outcome; `Err` means
    /// the call must not be made (and is counted as dropped).
    pub fn allow(&self) -> Result<Promise, BreakerOpen> {
        let now = self.shared.clock.now();
        let mut state = self.state();
        if self.accept(&mut state, now) {
            Ok(Promise {
                breaker: Some(self.clone()),
            })
        } else {
            state.add(now, Outcome::Drop);
            Err(BreakerOpen)
        }
    }

    fn accept(&self, state: &mut State, now: Duration) -> bool {
        let config = &self.shared.config;
        state.advance(now);
        // K' is never below MIN_K: when even MIN_K x accepts covers the requests, the drop
        // ratio below is at most 0 whatever the buckets say, and they need not be read.
        let requests = state.sum.total as f64 - config.protection as f64;
        if requests <= MIN_K * state.sum.success as f64 {
            return true;
        }
        let buckets = state.window.size() as f64;
        let h = history(&state.window, now);
        let k = config.k - (config.k - MIN_K) * h.failing_buckets as f64 / buckets;
        let weighted_accepts = k.max(MIN_K) * h.accepts as f64;
        let requests = h.total as f64 - config.protection as f64;
        let mut drop_ratio = (requests - weighted_accepts) / (h.total as f64 + 1.0);
        if drop_ratio <= 0.0 {
            return true;
        }
        if let Some(last) = state.last_pass
            && now.saturating_sub(last) > FORCE_PASS
        {
            state.last_pass = Some(now);
            return true;
        }
        drop_ratio *= (buckets - h.working_buckets as f64) / buckets;
        if state.rng.f64() < drop_ratio {
            return false;
        }
        state.last_pass = Some(now);
        true
    }

    /// Runs `f` if the breaker allows it (go-zero's `Do`): `Err(BreakerOpen)` when it does
    /// not, else `f`'s result, every `Err` of which counts as a failure. A panic in `f`
    /// counts as a failure and goes on unwinding.
    pub fn call<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<Result<T, E>, BreakerOpen> {
        self.call_with_acceptable(f, |_| false)
    }

    /// Runs `f` if the breaker allows it (go-zero's `DoWithAcceptable`): errors for which
    /// `acceptable` is true count as successes, since they say nothing about the target
    /// (a NOT_FOUND, a validation error).
    pub fn call_with_acceptable<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        acceptable: impl FnOnce(&E) -> bool,
    ) -> Result<Result<T, E>, BreakerOpen> {
        let promise = self.allow()?;
        let result = f();
        promise.report(&result, acceptable);
        Ok(result)
    }

    /// [`call`](Self::call) for a future: it is polled only if the breaker allows it. If
    /// the returned future is dropped before the call ends, nothing is counted.
    pub async fn call_async<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<Result<T, E>, BreakerOpen> {
        self.call_async_with_acceptable(fut, |_| false).await
    }

    /// [`call_with_acceptable`](Self::call_with_acceptable) for a future.
    pub async fn call_async_with_acceptable<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
        acceptable: impl FnOnce(&E) -> bool,
    ) -> Result<Result<T, E>, BreakerOpen> {
        let promise = self.allow()?;
        let result = fut.await;
        promise.report(&result, acceptable);
        Ok(result)
    }

    /// Records an outcome directly (for callers that do not hold a promise).
    pub fn mark(&self, outcome: Outcome) {
        let now = self.shared.clock.now();
        self.state().add(now, outcome);
    }

    /// What the window holds now.
    pub fn history(&self) -> History {
        let now = self.shared.clock.now();
        history(&self.state().window, now)
    }
}

// === impl State ===

impl State {
    /// Expires the buckets time has passed over, taking them out of the running sum.
    fn advance(&mut self, now: Duration) {
        let State { window, sum, .. } = self;
        window.advance(now, |b| {
            sum.total = sum.total.saturating_sub(b.total);
            sum.success = sum.success.saturating_sub(b.success);
            sum.failure = sum.failure.saturating_sub(b.failure);
            sum.drop = sum.drop.saturating_sub(b.drop);
        });
    }

    fn add(&mut self, now: Duration, outcome: Outcome) {
        self.advance(now);
        self.window.add(now, outcome);
        self.sum.add(outcome);
    }
}

fn history(window: &RollingWindow<Counts>, now: Duration) -> History {
    let mut h = History::default();
    window.reduce(now, |b| {
        h.accepts += b.success;
        h.total += b.total;
        if b.failure > 0 {
            h.working_buckets = 0;
        } else if b.success > 0 {
            h.working_buckets += 1;
        }
        if b.success > 0 {
            h.failing_buckets = 0;
        } else if b.failure > 0 {
            h.failing_buckets += 1;
        }
    });
    h
}

/// The right to make one call. Report how it went with [`accept`](Self::accept) or
/// [`reject`](Self::reject). A promise dropped unreported during a panic counts as a
/// failure (go-zero counts a panic so); dropped otherwise, the call was cancelled by its
/// caller, which says nothing about the target, and nothing is counted.
#[derive(Debug)]
#[must_use = "report the call's outcome with accept() or reject()"]
pub struct Promise {
    breaker: Option<SreBreaker>,
}

impl Promise {
    /// The call went well.
    pub fn accept(mut self) {
        if let Some(b) = self.breaker.take() {
            b.mark(Outcome::Success);
        }
    }

    /// The call failed in a way that counts against the target.
    pub fn reject(mut self) {
        if let Some(b) = self.breaker.take() {
            b.mark(Outcome::Failure);
        }
    }
}

impl Promise {
    fn report<T, E>(self, result: &Result<T, E>, acceptable: impl FnOnce(&E) -> bool) {
        match result {
            Err(e) if !acceptable(e) => self.reject(),
            _ => self.accept(),
        }
    }
}

impl Drop for Promise {
    fn drop(&mut self) {
        if let Some(b) = self.breaker.take()
            && std::thread::panicking()
        {
            b.mark(Outcome::Failure);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    /// The running sum is what visiting the buckets gives, whatever the traffic and the
    /// gaps between calls.
    #[test]
    fn running_sum_matches_the_buckets() {
        let clock = ManualClock::new();
        let b = SreBreaker::with_clock(BreakerConfig::default(), clock.clone(), 7);
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..20_000 {
            clock.advance(Duration::from_millis(rng.u64(0..40)));
            if rng.u8(0..100) == 0 {
                clock.advance(Duration::from_secs(rng.u64(1..15)));
            }
            match b.allow() {
                Ok(p) if rng.u8(0..3) == 0 => p.reject(),
                Ok(p) => p.accept(),
                Err(_) => {}
            }
            let now = clock.now();
            let mut state = b.state();
            state.advance(now);
            let mut visited = Counts::default();
            state.window.reduce(now, |c| {
                visited.total += c.total;
                visited.success += c.success;
                visited.failure += c.failure;
                visited.drop += c.drop;
            });
            assert_eq!(state.sum, visited);
        }
    }
}
