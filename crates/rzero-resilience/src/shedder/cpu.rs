//! CPU usage in millicores of one core's worth per core available (0..=1000), as go-zero's
//! `stat.CpuUsage` reports it: sampled every 250 ms and smoothed (EMA, beta 0.95).
//!
//! The reading comes from the cgroup (v2 `cpu.stat` and `cpu.max`, so a container's
//! quota is what 100% means) and falls back to `/proc/stat` (the whole machine). It is a
//! constructor argument of the shedder, and the sampler is started and stopped by its
//! owner (go-zero's package-level `init()` goroutine is what we do not copy).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A source of the current CPU usage, 0..=1000.
pub trait CpuUsage: Send + Sync + 'static {
    /// Usage in thousandths of the CPU available to this process.
    fn millicpu(&self) -> u64;
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
    /// Starts sampling. Where neither cgroup nor `/proc/stat` can be read, the usage
    /// stays 0 and shedding relies on nothing but latency (it then never triggers).
    pub fn start() -> Self {
        let usage = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let (u, r) = (usage.clone(), running.clone());
        let thread = std::thread::Builder::new()
            .name("rzero-cpu-sampler".into())
            .spawn(move || {
                let mut source = Source::detect();
                let mut smoothed = 0.0f64;
                while r.load(Ordering::Relaxed) {
                    std::thread::sleep(INTERVAL);
                    if let Some(now) = source.as_mut().and_then(Source::sample) {
                        smoothed = smoothed * BETA + now * (1.0 - BETA);
                        u.store(
                            smoothed.round().clamp(0.0, 1000.0) as u64,
                            Ordering::Relaxed,
                        );
                    }
                }
            })
            .ok();
        CpuSampler {
            usage,
            running,
            thread,
        }
    }

    /// A handle for shedders.
    pub fn usage(&self) -> SampledCpu {
        SampledCpu(self.usage.clone())
    }

    /// Stops the thread (at most one interval later).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for CpuSampler {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Where usage is read from, with the previous reading to difference against.
enum Source {
    /// cgroup v2: CPU time used (µs) against wall time times the cores of the quota.
    Cgroup {
        cores: f64,
        last_used: u64,
        last_at: Instant,
    },
    /// `/proc/stat`: busy jiffies against all jiffies.
    Proc { last_busy: u64, last_total: u64 },
}

impl Source {
    fn detect() -> Option<Source> {
        let cores = cgroup_cores().unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
        });
        if let Some(used) = cgroup_usage_usec() {
            return Some(Source::Cgroup {
                cores,
                last_used: used,
                last_at: Instant::now(),
            });
        }
        let (busy, total) = proc_stat()?;
        Some(Source::Proc {
            last_busy: busy,
            last_total: total,
        })
    }

    fn sample(&mut self) -> Option<f64> {
        match self {
            Source::Cgroup {
                cores,
                last_used,
                last_at,
            } => {
                let used = cgroup_usage_usec()?;
                let wall = last_at.elapsed().as_micros() as f64 * *cores;
                let usage = used.saturating_sub(*last_used) as f64 / wall.max(1.0);
                (*last_used, *last_at) = (used, Instant::now());
                Some(usage * 1000.0)
            }
            Source::Proc {
                last_busy,
                last_total,
            } => {
                let (busy, total) = proc_stat()?;
                let d_total = total.saturating_sub(*last_total).max(1) as f64;
                let usage = busy.saturating_sub(*last_busy) as f64 / d_total;
                (*last_busy, *last_total) = (busy, total);
                Some(usage * 1000.0)
            }
        }
    }
}

fn cgroup_usage_usec() -> Option<u64> {
    let stat = std::fs::read_to_string("/sys/fs/cgroup/cpu.stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("usage_usec "))
        .and_then(|v| v.trim().parse().ok())
}

/// `cpu.max` is `QUOTA PERIOD` or `max PERIOD`; a quota caps the cores we may use.
fn cgroup_cores() -> Option<f64> {
    let max = std::fs::read_to_string("/sys/fs/cgroup/cpu.max").ok()?;
    let mut parts = max.split_whitespace();
    let quota: f64 = parts.next()?.parse().ok()?;
    let period: f64 = parts.next()?.parse().ok()?;
    (quota > 0.0 && period > 0.0).then_some(quota / period)
}

/// (busy, total) jiffies of the `cpu` line.
fn proc_stat() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().sum();
    // idle and iowait are not busy.
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}
