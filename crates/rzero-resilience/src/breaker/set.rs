//! Breakers by name: one per route, per target or per method, created on first use.
//!
//! go-zero keeps these in a package-level map (`core/breaker/breakers.go`); here the map
//! belongs to whoever builds the set (a server, a client), so two servers in one process
//! (or two tests) never share a breaker by accident.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, RwLock};

use super::config::BreakerConfig;
use super::sre::SreBreaker;
use crate::clock::{Clock, SystemClock};

/// Adaptive breakers keyed by `K`, all with the same settings and clock. Cheap to clone:
/// clones share the breakers.
///
/// Keys must come from a bounded set (route templates, target names), never from raw
/// request data: a breaker is kept until [`remove`](Self::remove)d.
#[derive(Clone)]
pub struct BreakerSet<K> {
    shared: Arc<Shared<K>>,
}

struct Shared<K> {
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    // Seeds for new breakers, so a seeded set gives repeatable runs.
    seeds: Mutex<fastrand::Rng>,
    // foldhash, not SipHash: a client looks its method's breaker up on every call, and the
    // keys are the caller's own (see above), never a request's.
    breakers: RwLock<HashMap<K, SreBreaker, foldhash::fast::RandomState>>,
}

impl<K: std::fmt::Debug> std::fmt::Debug for BreakerSet<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let breakers = self
            .shared
            .breakers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f.debug_map().entries(breakers.iter()).finish()
    }
}

// === impl BreakerSet ===

impl<K: Hash + Eq + Clone + Send + Sync + 'static> BreakerSet<K> {
    /// An empty set whose breakers use `config` and the system clock.
    pub fn new(config: BreakerConfig) -> Self {
        Self::with_clock(config, SystemClock::default(), fastrand::u64(..))
    }

    /// An empty set on `clock`; the breakers' random drops derive from `seed`.
    pub fn with_clock(config: BreakerConfig, clock: impl Clock, seed: u64) -> Self {
        BreakerSet {
            shared: Arc::new(Shared {
                config,
                clock: Arc::new(clock),
                seeds: Mutex::new(fastrand::Rng::with_seed(seed)),
                breakers: RwLock::new(HashMap::default()),
            }),
        }
    }

    /// The breaker of `key`, created on first use. Keep the handle where you can (a layer
    /// per route built once): this takes a read lock and a hash lookup.
    pub fn get<Q>(&self, key: &Q) -> SreBreaker
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let shared = &self.shared;
        if let Some(b) = shared
            .breakers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key)
        {
            return b.clone();
        }
        let mut breakers = shared
            .breakers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        breakers
            .entry(key.to_owned())
            .or_insert_with(|| {
                let seed = shared
                    .seeds
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .u64(..);
                SreBreaker::with_clock(shared.config.clone(), shared.clock.clone(), seed)
            })
            .clone()
    }

    /// Forgets the breaker of `key` (a target that left); handles already taken keep
    /// working on their own.
    pub fn remove<Q>(&self, key: &Q) -> Option<SreBreaker>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shared
            .breakers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(key)
    }

    /// The keys that have a breaker, in no particular order.
    pub fn keys(&self) -> Vec<K> {
        self.shared
            .breakers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// How many breakers the set holds.
    pub fn len(&self) -> usize {
        self.shared
            .breakers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// True when no breaker was created yet (or all were removed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The settings every breaker of the set uses.
    pub fn config(&self) -> &BreakerConfig {
        &self.shared.config
    }
}
