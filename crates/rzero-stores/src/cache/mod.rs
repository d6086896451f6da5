//! Cache-aside, go-zero's `sqlc.CachedConn`: read through a cache key, load from the
//! database on a miss, remember absent rows briefly, and drop keys after writes.
//!
//! The cache is Redis when `Redis.Host` is set and the in-process [`MemoryCache`]
//! otherwise (the embedded default). The protocol, as go-zero's:
//!
//! 1. read the key; a value is the answer, the placeholder `*` is a not-found;
//! 2. on a miss, one load per key runs at a time (single-flight), whatever the
//!    number of concurrent misses; it re-reads the key first, then asks the database;
//! 3. a row found is written back with the expiry plus or minus 5% (so keys written
//!    together do not expire together); a row absent is written as the placeholder
//!    for `NotFoundExpiry`, so a flood of bad ids stops at the cache;
//! 4. writes run on the database first and then delete the keys they touch.
//!
//! The cache never fails a request: when Redis errors or is down, reads and writes go
//! to the database and succeed; the failure is recorded on the Redis command's span and
//! logged at debug level.

mod cached;
mod flight;
mod memory;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use cached::CachedConn;
pub use memory::MemoryCache;

use crate::error::StoreError;
use crate::redis::RedisStore;

/// What a cache key holds for a row known to be absent (go-zero's `notFoundPlaceholder`).
pub const NOT_FOUND_PLACEHOLDER: &str = "*";

/// Expiries of cached rows; go-zero's `sqlc` defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheConf {
    /// How long a cached row lives, give or take 5% (default 7 days, go-zero's).
    #[serde(default = "default_expiry", with = "rzero_conf::duration")]
    pub expiry: Duration,
    /// How long an absent row is remembered (default 1 minute, go-zero's).
    #[serde(default = "default_not_found_expiry", with = "rzero_conf::duration")]
    pub not_found_expiry: Duration,
    /// Most entries the in-process cache holds when there is no Redis (default 10000).
    #[serde(default = "default_memory_capacity")]
    pub memory_capacity: usize,
}

fn default_expiry() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_not_found_expiry() -> Duration {
    Duration::from_secs(60)
}

fn default_memory_capacity() -> usize {
    10_000
}

impl Default for CacheConf {
    fn default() -> Self {
        CacheConf {
            expiry: default_expiry(),
            not_found_expiry: default_not_found_expiry(),
            memory_capacity: default_memory_capacity(),
        }
    }
}

/// Where cached rows live.
#[derive(Clone, Debug)]
pub enum Cache {
    /// A Redis server or cluster, shared by every replica of the service.
    Redis(RedisStore),
    /// This process's memory: the embedded default.
    Memory(MemoryCache),
}

// === impl Cache ===

impl Cache {
    /// The service's cache from its config: Redis when a `Redis` section is given,
    /// otherwise this process's memory (the embedded default), so one line in a service
    /// context serves both runs.
    pub async fn connect(
        redis: Option<&rzero_conf::RedisConf>,
        conf: &CacheConf,
        telemetry: crate::Telemetry,
    ) -> Result<Self, StoreError> {
        Ok(match redis {
            Some(redis) => Cache::Redis(RedisStore::connect_with(redis, telemetry).await?),
            None => Cache::memory(conf),
        })
    }

    /// An in-process cache sized by `conf`.
    pub fn memory(conf: &CacheConf) -> Self {
        Cache::Memory(MemoryCache::new(conf.memory_capacity))
    }

    /// The value under `key`.
    pub async fn get(&self, key: &str) -> Result<Option<Arc<str>>, StoreError> {
        match self {
            Cache::Redis(r) => Ok(r.get(key).await?.map(Arc::from)),
            Cache::Memory(m) => Ok(m.get(key)),
        }
    }

    /// Stores `value` under `key` for `ttl`.
    pub async fn set(&self, key: &str, value: Arc<str>, ttl: Duration) -> Result<(), StoreError> {
        match self {
            Cache::Redis(r) => r.set_ex(key, &value, ttl).await,
            Cache::Memory(m) => {
                m.set(key, value, ttl);
                Ok(())
            }
        }
    }

    /// Removes `keys`.
    pub async fn del(&self, keys: &[&str]) -> Result<(), StoreError> {
        match self {
            Cache::Redis(r) => r.del(keys).await.map(drop),
            Cache::Memory(m) => {
                keys.iter().for_each(|k| m.del(k));
                Ok(())
            }
        }
    }
}

impl From<RedisStore> for Cache {
    fn from(r: RedisStore) -> Self {
        Cache::Redis(r)
    }
}

impl From<MemoryCache> for Cache {
    fn from(m: MemoryCache) -> Self {
        Cache::Memory(m)
    }
}
