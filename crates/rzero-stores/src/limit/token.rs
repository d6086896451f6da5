//! go-zero's `TokenLimiter`: a token bucket per key in Redis.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;

use super::run_script;
use crate::error::StoreError;
use crate::redis::RedisStore;

const SOURCE: &str = include_str!("tokenscript.lua");
static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(SOURCE));

/// The answer of [`TokenLimit::take`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenTake {
    /// A token was taken.
    pub allowed: bool,
    /// When refused: time until the bucket holds enough tokens.
    pub retry_after: Duration,
}

/// A bucket of `burst` tokens refilled at `rate` a second, shared through Redis.
#[derive(Clone, Debug)]
pub struct TokenLimit {
    store: RedisStore,
    rate: u32,
    burst: u32,
}

impl TokenLimit {
    /// `rate` tokens a second (at least one), at most `burst` saved up (go-zero's
    /// `NewTokenLimiter`; the key is given to each take).
    pub fn new(rate: u32, burst: u32, store: RedisStore) -> Self {
        TokenLimit {
            store,
            rate: rate.max(1),
            burst: burst.max(1),
        }
    }

    /// Takes `n` tokens from `key`'s bucket if it has them. The keys are go-zero's,
    /// `{key}.tokens` and `{key}.ts`.
    pub async fn take(&self, key: &str, n: u32) -> Result<TokenTake, StoreError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.take_at(key, n, now).await
    }

    /// [`take`](Self::take) as if the time were `now_secs` since the Unix epoch (go-zero's
    /// `AllowN(now, n)`); the replicas' clocks are what refills the bucket.
    pub async fn take_at(&self, key: &str, n: u32, now_secs: u64) -> Result<TokenTake, StoreError> {
        let now = now_secs;
        let tokens = format!("{{{key}}}.tokens");
        let ts = format!("{{{key}}}.ts");
        let (allowed, wait): (i64, i64) = run_script(
            &self.store,
            &SCRIPT,
            SOURCE,
            &[&tokens, &ts],
            &[
                self.rate.to_string(),
                self.burst.to_string(),
                now.to_string(),
                n.to_string(),
            ],
        )
        .await?;
        Ok(TokenTake {
            allowed: allowed == 1,
            retry_after: Duration::from_secs(u64::try_from(wait).unwrap_or(0)),
        })
    }
}
