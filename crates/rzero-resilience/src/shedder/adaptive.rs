//! The algorithm: go-zero's adaptive shedder (`core/load/adaptiveshedder.go`).
//!
//! A request is shed only when both hold:
//! - the system is hot: CPU over the threshold now, or a drop happened less than a second
//!   ago (cool-off, so shedding does not flap);
//! - it is busy beyond its capacity: requests in flight (now and on average) exceed the
//!   estimated capacity `max passes per bucket x min latency`, scaled down the further
//!   the CPU is over the threshold (Little's law: what the service finished at its best
//!   times how long a request takes at its fastest).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::config::ShedderConfig;
use super::cpu::CpuUsage;
use super::error::Overloaded;
use crate::clock::{Clock, SystemClock};
use crate::window::{Bucket, RollingWindow};

const FLYING_BETA: f64 = 0.9;
const COOL_OFF: Duration = Duration::from_secs(1);
const CPU_MAX: f64 = 1000.0;
const OVERLOAD_FACTOR_LOWER_BOUND: f64 = 0.1;
const DEFAULT_MIN_RT_MS: f64 = 1000.0;

/// Sum and count, go-zero's `collection.Bucket`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SumCount {
    sum: i64,
    count: i64,
}

impl Bucket for SumCount {
    type Value = i64;
    fn add(&mut self, v: i64) {
        self.sum += v;
        self.count += 1;
    }
    fn reset(&mut self) {
        *self = SumCount::default();
    }
}

/// The adaptive shedder of one server. Cheap to clone: clones share state.
#[derive(Clone)]
pub struct AdaptiveShedder {
    shared: Arc<Shared>,
}

struct Shared {
    config: ShedderConfig,
    window_scale: f64,
    clock: Box<dyn Clock>,
    cpu: Box<dyn CpuUsage>,
    flying: AtomicI64,
    dropped_recently: AtomicBool,
    /// When the CPU was last seen over the threshold, in clock nanoseconds (0: never).
    overload_at: AtomicU64,
    dropped: AtomicU64,
    counters: Mutex<Counters>,
}

struct Counters {
    avg_flying: f64,
    passes: RollingWindow<SumCount>,
    rts: RollingWindow<SumCount>,
}

impl std::fmt::Debug for AdaptiveShedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdaptiveShedder")
            .field("config", &self.shared.config)
            .field("flying", &self.shared.flying.load(Ordering::Relaxed))
            .field("dropped", &self.dropped())
            .finish()
    }
}

// === impl AdaptiveShedder ===

impl AdaptiveShedder {
    /// A shedder reading CPU from `cpu`, on the system clock.
    pub fn new(config: ShedderConfig, cpu: impl CpuUsage) -> Self {
        Self::with_clock(config, cpu, SystemClock::default())
    }

    /// A shedder on `clock` (tests drive it).
    pub fn with_clock(config: ShedderConfig, cpu: impl CpuUsage, clock: impl Clock) -> Self {
        let buckets = config.buckets.max(1);
        let window = Duration::from_millis(config.window.max(1));
        let interval = window / u32::try_from(buckets).unwrap_or(u32::MAX);
        let now = clock.now();
        let window_of = || RollingWindow::new(buckets, interval, now).ignoring_current();
        AdaptiveShedder {
            shared: Arc::new(Shared {
                // Converts passes per bucket and latency in ms into requests in flight.
                window_scale: 1.0 / interval.as_secs_f64().max(1e-9) / 1000.0,
                config,
                clock: Box::new(clock),
                cpu: Box::new(cpu),
                flying: AtomicI64::new(0),
                dropped_recently: AtomicBool::new(false),
                overload_at: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                counters: Mutex::new(Counters {
                    avg_flying: 0.0,
                    passes: window_of(),
                    rts: window_of(),
                }),
            }),
        }
    }

    fn counters(&self) -> MutexGuard<'_, Counters> {
        self.shared
            .counters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Asks to serve a request: `Ok` with the promise to report how it went, or
    /// [`Overloaded`] when it must be shed.
    pub fn allow(&self) -> Result<ShedPromise, Overloaded> {
        if self.should_drop() {
            self.shared.dropped_recently.store(true, Ordering::Relaxed);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return Err(Overloaded);
        }
        self.shared.flying.fetch_add(1, Ordering::Relaxed);
        Ok(ShedPromise {
            shedder: Some(self.clone()),
            start: self.shared.clock.now(),
        })
    }

    /// Requests shed since start, for the shed-count metric.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> i64 {
        self.shared.flying.load(Ordering::Relaxed)
    }

    /// What the shedder estimates now, for metrics and for the log line go-zero writes
    /// when it drops.
    pub fn stats(&self) -> ShedderStats {
        let s = &self.shared;
        let now = s.clock.now();
        let counters = self.counters();
        let (max_pass, min_rt) = estimate(&counters, now);
        ShedderStats {
            cpu: s.cpu.millicpu(),
            max_pass,
            min_rt_ms: min_rt,
            max_flight: self.max_flight(max_pass, min_rt),
            in_flight: s.flying.load(Ordering::Relaxed),
            avg_in_flight: counters.avg_flying,
            dropped: self.dropped(),
        }
    }

    fn should_drop(&self) -> bool {
        let s = &self.shared;
        if s.config.cpu_threshold == 0 {
            return false;
        }
        (self.system_overloaded() || self.still_hot()) && self.high_throughput()
    }

    fn system_overloaded(&self) -> bool {
        let s = &self.shared;
        if s.cpu.millicpu() < s.config.cpu_threshold {
            return false;
        }
        let now = u64::try_from(s.clock.now().as_nanos()).unwrap_or(u64::MAX);
        s.overload_at.store(now.max(1), Ordering::Relaxed);
        true
    }

    fn still_hot(&self) -> bool {
        let s = &self.shared;
        if !s.dropped_recently.load(Ordering::Relaxed) {
            return false;
        }
        let at = s.overload_at.load(Ordering::Relaxed);
        if at == 0 {
            return false;
        }
        if s.clock.now().saturating_sub(Duration::from_nanos(at)) < COOL_OFF {
            return true;
        }
        s.dropped_recently.store(false, Ordering::Relaxed);
        false
    }

    fn high_throughput(&self) -> bool {
        let s = &self.shared;
        let now = s.clock.now();
        let counters = self.counters();
        let (max_pass, min_rt) = estimate(&counters, now);
        let max_flight = self.max_flight(max_pass, min_rt);
        counters.avg_flying > max_flight && s.flying.load(Ordering::Relaxed) as f64 > max_flight
    }

    /// Little's law: the most passes per second times the lowest latency, scaled down
    /// the hotter the CPU.
    fn max_flight(&self, max_pass: i64, min_rt_ms: f64) -> f64 {
        (max_pass as f64 * min_rt_ms * self.shared.window_scale).max(1.0) * self.overload_factor()
    }

    fn overload_factor(&self) -> f64 {
        let s = &self.shared;
        let threshold = s.config.cpu_threshold.min(999) as f64;
        let factor = (CPU_MAX - s.cpu.millicpu() as f64) / (CPU_MAX - threshold);
        factor.clamp(OVERLOAD_FACTOR_LOWER_BOUND, 1.0)
    }

    fn finish(&self, start: Duration, passed: bool) {
        let s = &self.shared;
        let flying = s.flying.fetch_sub(1, Ordering::Relaxed) - 1;
        let now = s.clock.now();
        let mut counters = self.counters();
        counters.avg_flying =
            counters.avg_flying * FLYING_BETA + flying as f64 * (1.0 - FLYING_BETA);
        if passed {
            let rt_ms = now.saturating_sub(start).as_secs_f64() * 1000.0;
            counters.rts.add(now, rt_ms.ceil() as i64);
            counters.passes.add(now, 1);
        }
    }
}

/// (most passes in one bucket, lowest average latency of a bucket in ms), go-zero's
/// `maxPass` and `minRt`; the bucket being filled is left out.
fn estimate(counters: &Counters, now: Duration) -> (i64, f64) {
    let mut max_pass = 1i64;
    counters
        .passes
        .reduce(now, |b| max_pass = max_pass.max(b.sum));
    let mut min_rt = DEFAULT_MIN_RT_MS;
    counters.rts.reduce(now, |b| {
        if b.count > 0 {
            min_rt = min_rt.min((b.sum as f64 / b.count as f64).round());
        }
    });
    (max_pass, min_rt)
}

/// A snapshot of the shedder's estimate, from [`AdaptiveShedder::stats`].
#[derive(Clone, Debug, PartialEq)]
pub struct ShedderStats {
    /// CPU usage read now, 0..=1000.
    pub cpu: u64,
    /// Most requests passed in one bucket of the window (at least 1).
    pub max_pass: i64,
    /// Lowest average latency of a bucket, in ms (1000 while nothing was measured).
    pub min_rt_ms: f64,
    /// Requests in flight beyond which a hot server sheds.
    pub max_flight: f64,
    /// Requests in flight now.
    pub in_flight: i64,
    /// Moving average of requests in flight, updated as requests end.
    pub avg_in_flight: f64,
    /// Requests shed since start.
    pub dropped: u64,
}

/// A request being served. Report with [`pass`](Self::pass) or [`fail`](Self::fail); one
/// dropped unreported (cancelled) counts as a failure: it leaves the in-flight count but
/// says nothing about throughput.
#[derive(Debug)]
#[must_use = "report with pass() or fail()"]
pub struct ShedPromise {
    shedder: Option<AdaptiveShedder>,
    start: Duration,
}

impl ShedPromise {
    /// The request was served: its latency and the throughput count.
    pub fn pass(mut self) {
        if let Some(s) = self.shedder.take() {
            s.finish(self.start, true);
        }
    }

    /// The request failed (e.g. timed out): it only leaves the in-flight count.
    pub fn fail(mut self) {
        if let Some(s) = self.shedder.take() {
            s.finish(self.start, false);
        }
    }
}

impl Drop for ShedPromise {
    fn drop(&mut self) {
        if let Some(s) = self.shedder.take() {
            s.finish(self.start, false);
        }
    }
}
