//! [`CachedConn`]: the cache-aside protocol of the [module](super) over a
//! [`SqlPool`] and a [`Cache`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::flight::Flight;
use super::{Cache, CacheConf, LEASE_PREFIX, NOT_FOUND_PLACEHOLDER};
use crate::error::StoreError;
use crate::sql::SqlPool;

/// go-zero's expiry deviation: cached rows live `expiry * (1 ± 0.05)`.
const EXPIRY_DEVIATION: f64 = 0.05;

/// A SQL pool with a read-through cache in front; cheap to clone.
#[derive(Clone)]
pub struct CachedConn {
    inner: Arc<Inner>,
}

struct Inner {
    db: SqlPool,
    cache: Cache,
    conf: CacheConf,
    /// Shares one load per key: the JSON of the row, `None` for absent.
    flight: Flight<Result<Option<Arc<str>>, StoreError>>,
}

/// What one read of a key found.
enum Lookup {
    Hit(Arc<str>),
    Absent,
    Miss,
    /// The cache failed: skip it for the rest of this request.
    Down,
}

// === impl CachedConn ===

impl CachedConn {
    /// Cache-aside over `db` with `cache`.
    pub fn new(db: SqlPool, cache: impl Into<Cache>, conf: CacheConf) -> Self {
        CachedConn {
            inner: Arc::new(Inner {
                db,
                cache: cache.into(),
                conf,
                flight: Flight::new(),
            }),
        }
    }

    /// The pool underneath, for statements that need no cache.
    pub fn db(&self) -> &SqlPool {
        &self.inner.db
    }

    /// The cache underneath.
    pub fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    /// The row cached under `key`, else loaded by `load` and cached (go-zero's
    /// `QueryRowCtx`). `load` answers [`StoreError::NotFound`] for an absent row, which
    /// is then remembered for `NotFoundExpiry`. Concurrent misses of `key` run `load`
    /// once.
    pub async fn query_row<T, F, Fut>(&self, key: &str, load: F) -> Result<T, StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(SqlPool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let first = self.lookup(key).await;
        let json = match first {
            Lookup::Hit(json) => match serde_json::from_str(&json) {
                Ok(row) => return Ok(row),
                // A value this code cannot read (an older layout): drop it, load anew.
                Err(_) => {
                    self.del_cache(&[key]).await;
                    self.load(key, true, load).await?
                }
            },
            Lookup::Absent => return Err(StoreError::NotFound),
            Lookup::Miss => self.load(key, true, load).await?,
            Lookup::Down => self.load(key, false, load).await?,
        };
        let json = json.ok_or(StoreError::NotFound)?;
        serde_json::from_str(&json).map_err(|e| {
            StoreError::Query(format!("cached row under `{key}` does not decode: {e}"))
        })
    }

    /// Runs the write `exec`, then deletes `keys` (go-zero's `ExecCtx`). A failed delete
    /// is logged, not returned: the row is written, and the stale key expires.
    pub async fn exec<R, F, Fut>(&self, keys: &[&str], exec: F) -> Result<R, StoreError>
    where
        F: FnOnce(SqlPool) -> Fut,
        Fut: Future<Output = Result<R, StoreError>>,
    {
        let out = exec(self.inner.db.clone()).await?;
        self.del_cache(keys).await;
        Ok(out)
    }

    /// Deletes `keys`; false if the cache failed (logged).
    pub async fn del_cache(&self, keys: &[&str]) -> bool {
        match self.inner.cache.del(keys).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, keys = keys.len(), "cache delete failed; keys expire on their own");
                false
            }
        }
    }

    /// Caches `row` under `key` with the usual expiry (go-zero's `SetCacheCtx`).
    pub async fn set_cache<T: Serialize>(&self, key: &str, row: &T) -> Result<(), StoreError> {
        let json = serde_json::to_string(row)
            .map_err(|e| StoreError::Query(format!("row for `{key}` does not encode: {e}")))?;
        self.inner.cache.set(key, json.into(), self.expiry()).await
    }

    async fn lookup(&self, key: &str) -> Lookup {
        match self.inner.cache.get(key).await {
            Ok(Some(v)) if &*v == NOT_FOUND_PLACEHOLDER => Lookup::Absent,
            // Another load's lease: the row is being loaded, not cached yet.
            Ok(Some(v)) if v.starts_with(LEASE_PREFIX) => Lookup::Miss,
            Ok(Some(v)) => Lookup::Hit(v),
            Ok(None) => Lookup::Miss,
            Err(e) => {
                tracing::debug!(error = %e, "cache read failed; reading the database");
                Lookup::Down
            }
        }
    }

    /// The single-flight load: re-read (a flight that just ended may have filled the
    /// key), take the key's lease, query, write back if the lease still holds (see the
    /// [module docs](super) on the race this closes). `cache_up` false skips the cache.
    async fn load<T, F, Fut>(
        &self,
        key: &str,
        cache_up: bool,
        load: F,
    ) -> Result<Option<Arc<str>>, StoreError>
    where
        T: Serialize,
        F: FnOnce(SqlPool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let inner = &*self.inner;
        let run = || async move {
            let mut lease = None;
            if cache_up {
                match self.lookup(key).await {
                    Lookup::Hit(json) => return Ok(Some(json)),
                    Lookup::Absent => return Ok(None),
                    Lookup::Down => {}
                    Lookup::Miss => {
                        // Taken before the database is read: a write's delete after this
                        // point removes it, and the row read is then not written back.
                        let token = format!("{LEASE_PREFIX}{:016x}", fastrand::u64(..));
                        match inner.cache.lease(key, &token).await {
                            Ok(true) => lease = Some(token),
                            // Another process is loading it: load, do not write back.
                            Ok(false) => {}
                            Err(e) => tracing::debug!(error = %e, "cache lease failed"),
                        }
                    }
                }
            }
            let loaded = match load(inner.db.clone()).await {
                Ok(row) => serde_json::to_string(&row)
                    .map(|json| (Arc::<str>::from(json), self.expiry()))
                    .map_err(|e| {
                        StoreError::Query(format!("row for `{key}` does not encode: {e}"))
                    }),
                Err(StoreError::NotFound) => {
                    Ok((NOT_FOUND_PLACEHOLDER.into(), inner.conf.not_found_expiry))
                }
                Err(e) => Err(e),
            };
            let (value, ttl) = match loaded {
                Ok(loaded) => loaded,
                Err(e) => {
                    // Nothing to cache: free the key now rather than after LEASE_TTL.
                    if let Some(token) = &lease
                        && let Err(e) = inner.cache.release(key, token).await
                    {
                        tracing::debug!(error = %e, "cache lease release failed; it expires");
                    }
                    return Err(e);
                }
            };
            if let Some(token) = lease {
                match inner
                    .cache
                    .set_if_leased(key, &token, value.clone(), ttl)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => tracing::debug!(
                        "the key was written or deleted during the load; not caching what was read"
                    ),
                    Err(e) => {
                        tracing::debug!(error = %e, "cache write failed; the next read loads again");
                    }
                }
            }
            Ok((&*value != NOT_FOUND_PLACEHOLDER).then_some(value))
        };
        inner.flight.run(key, run).await
    }

    fn expiry(&self) -> Duration {
        let deviation = 1.0 + EXPIRY_DEVIATION * (2.0 * fastrand::f64() - 1.0);
        self.inner.conf.expiry.mul_f64(deviation)
    }
}

impl std::fmt::Debug for CachedConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedConn")
            .field("db", &self.inner.db)
            .field("cache", &self.inner.cache)
            .field("conf", &self.inner.conf)
            .finish()
    }
}
