//! go-zero's `PeriodLimit`: a fixed window per key.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;

use super::run_script;
use crate::error::StoreError;
use crate::redis::RedisStore;

const SOURCE: &str = include_str!("periodscript.lua");
static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(SOURCE));

/// Where a take left the key's window (go-zero's `Allowed`, `HitQuota`, `OverQuota`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    /// Under the quota.
    Allowed,
    /// This take used the last of the quota: allowed, and the next one is not.
    HitQuota,
    /// Over the quota: refuse.
    OverQuota,
}

/// The answer of [`PeriodLimit::take`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodTake {
    /// Where the window stands.
    pub quota: Quota,
    /// Time until the window ends (and the quota is whole again).
    pub resets_in: Duration,
}

impl PeriodTake {
    /// `Allowed` or `HitQuota`.
    pub fn allowed(&self) -> bool {
        self.quota != Quota::OverQuota
    }
}

/// At most `quota` takes per key in each `period`, counted in Redis.
#[derive(Clone, Debug)]
pub struct PeriodLimit {
    store: RedisStore,
    period_secs: u64,
    quota: u64,
    key_prefix: String,
    align: bool,
}

impl PeriodLimit {
    /// `quota` takes per `period` (whole seconds, at least one) for each key, stored under
    /// `key_prefix` + key (go-zero's `NewPeriodLimit`).
    pub fn new(period: Duration, quota: u64, store: RedisStore, key_prefix: &str) -> Self {
        PeriodLimit {
            store,
            period_secs: period.as_secs().max(1),
            quota,
            key_prefix: key_prefix.to_owned(),
            align: false,
        }
    }

    /// Windows start at multiples of the period since the Unix epoch (UTC), instead of at
    /// a key's first take (go-zero's `Align`, there in the local time zone).
    pub fn align(mut self) -> Self {
        self.align = true;
        self
    }

    /// One take for `key`.
    pub async fn take(&self, key: &str) -> Result<PeriodTake, StoreError> {
        let window = self.expire_secs();
        let full_key = format!("{}{key}", self.key_prefix);
        let (code, ttl): (i64, i64) = run_script(
            &self.store,
            &SCRIPT,
            SOURCE,
            &[&full_key],
            &[self.quota.to_string(), window.to_string()],
        )
        .await?;
        let quota = match code {
            1 => Quota::Allowed,
            2 => Quota::HitQuota,
            0 => Quota::OverQuota,
            other => {
                return Err(StoreError::Query(format!(
                    "the period limit script answered {other}, not 0, 1 or 2; \
                     is another program writing {full_key}?"
                )));
            }
        };
        // -1: the key has no expiry (written by something else); the window is the period.
        let secs = u64::try_from(ttl).unwrap_or(window).max(1);
        Ok(PeriodTake {
            quota,
            resets_in: Duration::from_secs(secs),
        })
    }

    fn expire_secs(&self) -> u64 {
        if !self.align {
            return self.period_secs;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.period_secs - now % self.period_secs
    }
}
