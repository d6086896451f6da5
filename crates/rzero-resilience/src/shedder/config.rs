//! Settings of the adaptive shedder; the defaults are go-zero's.

use serde::{Deserialize, Serialize};

/// Shedder settings. go-zero's services carry only `CpuThreshold` at the top level; the
/// window is fixed there and configurable here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ShedderConfig {
    /// CPU usage, in thousandths, above which shedding may start (default 900; go-zero's
    /// `CpuThreshold`). 0 turns shedding off.
    #[serde(default = "default_cpu_threshold")]
    pub cpu_threshold: u64,
    /// Window in milliseconds over which throughput and latency are measured (default 5000).
    #[serde(default = "default_window_ms")]
    pub window: u64,
    /// Buckets in the window (default 50).
    #[serde(default = "default_buckets")]
    pub buckets: usize,
}

fn default_cpu_threshold() -> u64 {
    900
}
fn default_window_ms() -> u64 {
    5_000
}
fn default_buckets() -> usize {
    50
}

impl Default for ShedderConfig {
    fn default() -> Self {
        ShedderConfig {
            cpu_threshold: default_cpu_threshold(),
            window: default_window_ms(),
            buckets: default_buckets(),
        }
    }
}
