//! CPU usage in millicores of one core's worth per core available (0..=1000), as go-zero's
//! `stat.CpuUsage` reports it: sampled every 250 ms and smoothed (EMA, beta 0.95).
//!
//! The reading comes from the cgroup, v2 or v1, so a container's quota is what 100% means,
//! and falls back to `/proc/stat` (the whole machine); see `cgroup.rs`. It is a
//! constructor argument of the shedder, and the sampler is started and stopped by its
//! owner (go-zero's package-level `init()` goroutine is what we do not copy).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::cgroup::{CGROUP_ROOT, Source};

/// A source of the current CPU usage, 0..=1000.
pub trait CpuUsage: Send + Sync + 'static {
    /// Usage in thousandths of the CPU available to this process.
    fn millicpu(&self) -> u64;
}

impl<C: CpuUsage + ?Sized> CpuUsage for Arc<C> {
    fn millicpu(&self) -> u64 {
        (**self).millicpu()
    }
}

/// A usage set by hand: what tests use to force a reading.
#[derive(Clone, Debug, Default)]
pub struct FixedCpu(Arc<AtomicU64>);

impl FixedCpu {
    /// A reading of `millicpu`.
    pub fn new(millicpu: u64) -> Self {
        FixedCpu(Arc::new(AtomicU64::new(millicpu)))
    }

    /// Changes the reading.
    pub fn set(&self, millicpu: u64) {
        self.0.store(millicpu.min(1000), Ordering::Relaxed);
    }
}

impl CpuUsage for FixedCpu {
    fn millicpu(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The real reading, refreshed by a background thread until [`CpuSampler::stop`] or drop.
#[derive(Debug)]
pub struct CpuSampler {
    usage: Arc<AtomicU64>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A cheap handle reading the sampler's latest value.
#[derive(Clone, Debug)]
pub struct SampledCpu(Arc<AtomicU64>);

impl CpuUsage for SampledCpu {
    fn millicpu(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

const INTERVAL: Duration = Duration::from_millis(250);
const BETA: f64 = 0.95;

impl CpuSampler {
    /// Starts the sampling thread; fails only if the thread cannot be spawned. Where
    /// neither a cgroup nor `/proc/stat` can be read, the usage stays 0 and the shedder
    /// never sheds.
    pub fn start() -> std::io::Result<Self> {
        let usage = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let (u, r) = (usage.clone(), running.clone());
        let thread = std::thread::Builder::new()
            .name("rzero-cpu-sampler".into())
            .spawn(move || {
                let mut source = Source::detect(std::path::Path::new(CGROUP_ROOT));
                let mut smoothed = 0.0f64;
                let mut next = Instant::now() + INTERVAL;
                while r.load(Ordering::Relaxed) {
                    // Parked rather than asleep, so `stop` wakes it at once.
                    let now = Instant::now();
                    if now < next {
                        std::thread::park_timeout(next - now);
                        continue;
                    }
                    next += INTERVAL;
                    if let Some(reading) = source.as_mut().and_then(Source::sample) {
                        // go-zero's EMA: with beta 0.95 every 250 ms, about the last 5 s.
                        smoothed = smoothed * BETA + reading * (1.0 - BETA);
                        u.store(
                            smoothed.round().clamp(0.0, 1000.0) as u64,
                            Ordering::Relaxed,
                        );
                    }
                }
            })?;
        Ok(CpuSampler {
            usage,
            running,
            thread: Some(thread),
        })
    }

    /// A handle for shedders.
    pub fn usage(&self) -> SampledCpu {
        SampledCpu(self.usage.clone())
    }

    /// Stops the thread and waits for it (dropping the sampler does the same).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for CpuSampler {
    fn drop(&mut self) {
        self.halt();
    }
}
