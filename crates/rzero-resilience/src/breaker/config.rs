//! Settings of the adaptive breaker; the defaults are go-zero's.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `Breaker:` settings. Every field has go-zero's default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BreakerConfig {
    /// The window the breaker remembers, in milliseconds (default 10000).
    #[serde(default = "default_window_ms")]
    pub window: u64,
    /// Buckets in the window (default 40, i.e. 250 ms each).
    #[serde(default = "default_buckets")]
    pub buckets: usize,
    /// The SRE book's K: how many requests per accepted one may be tried before dropping
    /// starts (default 1.5). Lower is more eager to drop.
    #[serde(default = "default_k")]
    pub k: f64,
    /// Requests in the window below which nothing is ever dropped (default 5).
    #[serde(default = "default_protection")]
    pub protection: u64,
}

fn default_window_ms() -> u64 {
    10_000
}
fn default_buckets() -> usize {
    40
}
fn default_k() -> f64 {
    1.5
}
fn default_protection() -> u64 {
    5
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            window: default_window_ms(),
            buckets: default_buckets(),
            k: default_k(),
            protection: default_protection(),
        }
    }
}

impl BreakerConfig {
    /// The window as a duration.
    pub fn window(&self) -> Duration {
        Duration::from_millis(self.window.max(1))
    }
}
