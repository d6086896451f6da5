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
//! Step 4 alone has a race: a miss reads the old row, a write commits and deletes the
//! key, then the miss writes the old row back, stale until it expires (days). So a miss
//! first takes a *lease* on the key (`SET key <lease token> NX`, before it reads the
//! database) and writes the row back only if the key still holds its token (a
//! compare-and-set, a Lua script on Redis). A write's delete removes the lease, so a
//! load that may have read the row before the write never puts it back. A key holding
//! another's lease reads as a miss and is loaded without being written back. (go-zero's
//! answer, a second delayed delete, narrows the window without closing it.)
//!
//! The cache never fails a request: when Redis errors or is down, reads and writes go
//! to the database and succeed; the failure is recorded on the Redis command's span and
//! logged at debug level.

#[cfg(feature = "sql")]
mod cached;
#[cfg(feature = "sql")] // single flight of CachedConn's loads
mod flight;
mod memory;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[cfg(feature = "sql")]
pub use cached::CachedConn;
pub use memory::MemoryCache;

use crate::error::StoreError;
use crate::redis::RedisStore;

/// What a cache key holds for a row known to be absent (go-zero's `notFoundPlaceholder`).
pub const NOT_FOUND_PLACEHOLDER: &str = "*";

#[cfg(feature = "sql")] // the lease serves CachedConn's loads
/// What a leased key's value starts with; a row's JSON or the placeholder never does.
pub(crate) const LEASE_PREFIX: &str = "#lease:";

#[cfg(feature = "sql")] // the lease serves CachedConn's loads
/// How long a lease lives: past it a slow load no longer writes its row back.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(5);

#[cfg(feature = "sql")] // the lease serves CachedConn's loads
/// Sets `KEYS[1]` to `ARGV[2]` for `ARGV[3]` ms only while it holds the lease `ARGV[1]`.
const SET_IF_LEASED: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return false end";

#[cfg(feature = "sql")] // the lease serves CachedConn's loads
/// Deletes `KEYS[1]` only while it holds the lease `ARGV[1]`.
const DEL_IF_LEASED: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('DEL', KEYS[1]) else return 0 end";

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

    #[cfg(feature = "sql")] // the lease serves CachedConn's loads
    /// Takes the lease `token` on `key` if the key holds nothing; true if taken.
    pub(crate) async fn lease(&self, key: &str, token: &str) -> Result<bool, StoreError> {
        match self {
            Cache::Redis(r) => {
                let ms = u64::try_from(LEASE_TTL.as_millis()).unwrap_or(u64::MAX);
                let cmd = redis::cmd("SET")
                    .arg(key)
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms)
                    .to_owned();
                Ok(r.query::<Option<String>>(&cmd).await?.is_some())
            }
            Cache::Memory(m) => Ok(m.set_if(key, None, token.into(), LEASE_TTL)),
        }
    }

    #[cfg(feature = "sql")] // the lease serves CachedConn's loads
    /// Stores `value` under `key` for `ttl` if the key still holds the lease `token`;
    /// true if stored.
    pub(crate) async fn set_if_leased(
        &self,
        key: &str,
        token: &str,
        value: Arc<str>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        match self {
            Cache::Redis(r) => {
                let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                let cmd = redis::cmd("EVAL")
                    .arg(SET_IF_LEASED)
                    .arg(1)
                    .arg(key)
                    .arg(token)
                    .arg(&*value)
                    .arg(ms)
                    .to_owned();
                Ok(r.query::<Option<String>>(&cmd).await?.is_some())
            }
            Cache::Memory(m) => Ok(m.set_if(key, Some(token), value, ttl)),
        }
    }

    #[cfg(feature = "sql")] // the lease serves CachedConn's loads
    /// Drops the lease `token` on `key` if the key still holds it (a load that failed).
    pub(crate) async fn release(&self, key: &str, token: &str) -> Result<(), StoreError> {
        match self {
            Cache::Redis(r) => {
                let cmd = redis::cmd("EVAL")
                    .arg(DEL_IF_LEASED)
                    .arg(1)
                    .arg(key)
                    .arg(token)
                    .to_owned();
                r.query::<i64>(&cmd).await.map(drop)
            }
            Cache::Memory(m) => {
                m.del_if(key, token);
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
