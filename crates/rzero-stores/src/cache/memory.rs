//! The in-process cache: the embedded default when no Redis is configured.
//!
//! A map split into shards behind plain mutexes (each lock is held for one lookup or
//! insert, never across an await), entries with a deadline, and a hard bound on the
//! number of entries. A full shard first drops what has expired, then the oldest
//! insertion (FIFO, as go-zero's `collection.Cache` bounds itself with an LRU; FIFO
//! needs no bookkeeping on reads, which are the hot path). Deadlines use
//! `tokio::time::Instant`, so tests drive expiry with a paused clock.

use std::collections::VecDeque;
use std::collections::hash_map::{DefaultHasher, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

const SHARDS: usize = 16;

/// A bounded in-process cache with per-entry TTLs; cheap to clone (clones share it).
#[derive(Clone)]
pub struct MemoryCache {
    shards: Arc<[Mutex<Shard>]>,
    per_shard: usize,
}

#[derive(Default)]
struct Shard {
    map: HashMap<String, Entry>,
    /// Insertion order, for eviction; may hold keys already gone (skipped when popped).
    order: VecDeque<String>,
}

struct Entry {
    value: Arc<str>,
    expires: Instant,
}

// === impl MemoryCache ===

impl MemoryCache {
    /// A cache holding at most about `capacity` entries (at least one per shard).
    pub fn new(capacity: usize) -> Self {
        let shards: Vec<_> = (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect();
        MemoryCache {
            shards: shards.into(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// The value under `key`, unless absent or expired.
    pub fn get(&self, key: &str) -> Option<Arc<str>> {
        let mut shard = self.shard(key);
        let entry = shard.map.get(key)?;
        if entry.expires > Instant::now() {
            return Some(entry.value.clone());
        }
        shard.map.remove(key);
        None
    }

    /// Stores `value` under `key` for `ttl`.
    pub fn set(&self, key: &str, value: Arc<str>, ttl: Duration) {
        let now = Instant::now();
        let mut shard = self.shard(key);
        self.insert(&mut shard, key, value, now + ttl, now);
    }

    #[cfg(feature = "sql")] // the leases of CachedConn
    /// Stores `value` under `key` for `ttl` if the key holds `expected` now (`None`:
    /// nothing, or an expired entry), checked and set under one lock; true if stored.
    /// The cache's compare-and-set, for the leases of [`super::CachedConn`].
    pub(crate) fn set_if(
        &self,
        key: &str,
        expected: Option<&str>,
        value: Arc<str>,
        ttl: Duration,
    ) -> bool {
        let now = Instant::now();
        let mut shard = self.shard(key);
        let current = shard
            .map
            .get(key)
            .filter(|e| e.expires > now)
            .map(|e| &*e.value);
        if current != expected {
            return false;
        }
        self.insert(&mut shard, key, value, now + ttl, now);
        true
    }

    fn insert(
        &self,
        shard: &mut Shard,
        key: &str,
        value: Arc<str>,
        expires: Instant,
        now: Instant,
    ) {
        if let Some(e) = shard.map.get_mut(key) {
            *e = Entry { value, expires };
            return;
        }
        if shard.map.len() >= self.per_shard {
            shard.map.retain(|_, e| e.expires > now);
        }
        while shard.map.len() >= self.per_shard {
            match shard.order.pop_front() {
                Some(old) => {
                    shard.map.remove(&old);
                }
                None => break,
            }
        }
        if shard.order.len() > 2 * self.per_shard {
            let Shard { map, order } = shard;
            order.retain(|k| map.contains_key(k));
        }
        shard.order.push_back(key.to_owned());
        shard.map.insert(key.to_owned(), Entry { value, expires });
    }

    #[cfg(feature = "sql")] // the leases of CachedConn
    /// Removes `key` if it holds `value`.
    pub(crate) fn del_if(&self, key: &str, value: &str) {
        let mut shard = self.shard(key);
        if shard.map.get(key).is_some_and(|e| &*e.value == value) {
            shard.map.remove(key);
        }
    }

    /// Removes `key`.
    pub fn del(&self, key: &str) {
        self.shard(key).map.remove(key);
    }

    /// Entries held now, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        // The modulo keeps the index in range; truncation of the hash is intended.
        let i = (h.finish() % SHARDS as u64) as usize;
        lock(&self.shards[i])
    }
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("capacity", &(self.per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

/// A poisoned shard only means a panic elsewhere mid-insert; its map is still sound.
fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_their_ttl() {
        let c = MemoryCache::new(100);
        c.set("k", "v".into(), Duration::from_secs(10));
        assert_eq!(c.get("k").as_deref(), Some("v"));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(c.get("k"), None);
    }

    #[tokio::test]
    async fn stays_within_its_bound() {
        let c = MemoryCache::new(64);
        for i in 0..10_000 {
            c.set(&format!("k{i}"), "v".into(), Duration::from_secs(60));
        }
        assert!(c.len() <= 64, "{} entries", c.len());
        assert_eq!(c.get("k9999").as_deref(), Some("v"));
        c.del("k9999");
        assert_eq!(c.get("k9999"), None);
    }
}
