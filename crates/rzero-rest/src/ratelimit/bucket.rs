//! The local token bucket, as GCRA (the generic cell rate algorithm): one number per
//! bucket, the "theoretical arrival time" of the next request, updated with a CAS. A
//! bucket of `burst` tokens refilled at `rate` a second admits a request at `now` when
//! `max(tat, now) + 1/rate - now <= burst/rate`. No lock, no tower types, an injected clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rzero_resilience::clock::Clock;

/// A decision: allowed, or refused with the time until a token is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go on.
    Allowed,
    /// Over the limit; a retry after this long can pass.
    Limited(Duration),
}

/// The arithmetic shared by the one bucket and the keyed ones.
#[derive(Clone, Copy, Debug)]
struct Gcra {
    /// Nanoseconds per token.
    interval: u64,
    /// Nanoseconds of saved-up tokens: `burst * interval`.
    tolerance: u64,
}

impl Gcra {
    fn new(rate: u32, burst: u32) -> Self {
        let interval = 1_000_000_000 / u64::from(rate.max(1));
        Gcra {
            interval,
            tolerance: interval * u64::from(burst.max(1)),
        }
    }

    /// The next arrival time if `tat` admits a request at `now`, or the wait.
    fn step(&self, tat: u64, now: u64) -> Result<u64, u64> {
        let next = tat.max(now) + self.interval;
        if next - now <= self.tolerance {
            Ok(next)
        } else {
            Err(next - now - self.tolerance)
        }
    }
}

/// One token bucket shared by every request it sees.
#[derive(Debug)]
pub struct TokenBucket<C> {
    gcra: Gcra,
    tat: AtomicU64,
    clock: C,
}

impl<C: Clock> TokenBucket<C> {
    /// `burst` tokens, refilled at `rate` a second, read off `clock`.
    pub fn new(rate: u32, burst: u32, clock: C) -> Self {
        TokenBucket {
            gcra: Gcra::new(rate, burst),
            tat: AtomicU64::new(0),
            clock,
        }
    }

    /// Takes a token if there is one.
    pub fn allow(&self) -> Decision {
        let now = nanos(self.clock.now());
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            match self.gcra.step(tat, now) {
                Ok(next) => match self.tat.compare_exchange_weak(
                    tat,
                    next,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Decision::Allowed,
                    Err(seen) => tat = seen,
                },
                Err(wait) => return Decision::Limited(Duration::from_nanos(wait)),
            }
        }
    }
}

/// A bucket per key (a header's value), at most `max_keys` of them: when full, buckets
/// that have refilled completely are dropped (losing nothing: a full bucket is a new one),
/// and keys that still find no room share one overflow bucket, so a client inventing keys
/// cannot grow memory or escape the limit.
#[derive(Debug)]
pub struct KeyedBuckets<C> {
    gcra: Gcra,
    max_keys: usize,
    shards: Vec<Mutex<HashMap<Box<str>, u64>>>,
    overflow: TokenBucket<C>,
    clock: C,
}

const SHARDS: usize = 8;

impl<C: Clock + Clone> KeyedBuckets<C> {
    /// A bucket of `burst` at `rate` a second for each of up to `max_keys` keys.
    pub fn new(rate: u32, burst: u32, max_keys: usize, clock: C) -> Self {
        KeyedBuckets {
            gcra: Gcra::new(rate, burst),
            max_keys: max_keys.max(SHARDS),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            overflow: TokenBucket::new(rate, burst, clock.clone()),
            clock,
        }
    }

    /// Takes a token from `key`'s bucket.
    pub fn allow(&self, key: &str) -> Decision {
        let now = nanos(self.clock.now());
        let shard = &self.shards[shard_of(key)];
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tat) = map.get_mut(key) {
            return match self.gcra.step(*tat, now) {
                Ok(next) => {
                    *tat = next;
                    Decision::Allowed
                }
                Err(wait) => Decision::Limited(Duration::from_nanos(wait)),
            };
        }
        let per_shard = self.max_keys / SHARDS;
        if map.len() >= per_shard {
            map.retain(|_, tat| *tat > now);
            if map.len() >= per_shard {
                drop(map);
                return self.overflow.allow();
            }
        }
        match self.gcra.step(0, now) {
            Ok(next) => {
                map.insert(key.into(), next);
                Decision::Allowed
            }
            Err(wait) => Decision::Limited(Duration::from_nanos(wait)),
        }
    }

    /// Keys with a bucket now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    /// No key has a bucket.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn shard_of(key: &str) -> usize {
    // FNV-1a: keys are short, and the shard only spreads the locks.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h as usize) % SHARDS
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use rzero_resilience::clock::ManualClock;

    use super::*;

    #[test]
    fn a_full_bucket_admits_its_burst_then_refills_at_the_rate() {
        let clock = ManualClock::new();
        let bucket = TokenBucket::new(10, 3, clock.clone());
        for _ in 0..3 {
            assert_eq!(bucket.allow(), Decision::Allowed);
        }
        assert_eq!(
            bucket.allow(),
            Decision::Limited(Duration::from_millis(100))
        );
        clock.advance(Duration::from_millis(100));
        assert_eq!(bucket.allow(), Decision::Allowed);
        assert!(matches!(bucket.allow(), Decision::Limited(_)));
        clock.advance(Duration::from_secs(10));
        for _ in 0..3 {
            assert_eq!(bucket.allow(), Decision::Allowed);
        }
        assert!(matches!(bucket.allow(), Decision::Limited(_)));
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let clock = ManualClock::new();
        let buckets = KeyedBuckets::new(1, 2, 100, clock.clone());
        assert_eq!(buckets.allow("a"), Decision::Allowed);
        assert_eq!(buckets.allow("a"), Decision::Allowed);
        assert_eq!(
            buckets.allow("a"),
            Decision::Limited(Duration::from_secs(1))
        );
        assert_eq!(buckets.allow("b"), Decision::Allowed);
        clock.advance(Duration::from_secs(1));
        assert_eq!(buckets.allow("a"), Decision::Allowed);
    }

    #[test]
    fn invented_keys_share_the_overflow_bucket_once_the_map_is_full() {
        let clock = ManualClock::new();
        let buckets = KeyedBuckets::new(1, 1, 8, clock.clone());
        let mut limited = 0;
        for i in 0..1000 {
            if buckets.allow(&format!("k{i}")) != Decision::Allowed {
                limited += 1;
            }
        }
        assert!(buckets.len() <= 8, "{}", buckets.len());
        // At most 8 own buckets and the one overflow token passed.
        assert!(limited >= 1000 - 9, "{limited}");
        // Once the buckets refill, they are dropped to make room.
        clock.advance(Duration::from_secs(2));
        assert_eq!(buckets.allow("new"), Decision::Allowed);
    }
}
