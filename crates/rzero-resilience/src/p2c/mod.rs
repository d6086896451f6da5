//! Power of two choices with EWMA latency: go-zero's `p2c_ewma` balancer math
//! (`zrpc/internal/balancer/p2c/p2c.go`), with no gRPC types.
//!
//! Each endpoint keeps an exponentially weighted average of its latency (`lag`, decaying
//! with a 10 s time constant so old samples fade whatever the request rate), its requests
//! in flight and an EWMA of its success (1000 = all good). Its load is
//! `sqrt(lag) * (in_flight + 1)`. A pick draws two distinct endpoints at random (up to
//! three draws to find two healthy ones) and takes the less loaded, except that an
//! endpoint not picked for over a second is taken anyway, so a slow endpoint that got
//! better is found out. Endpoints come and go with [`P2c::set_endpoints`] (or
//! [`P2c::add`], [`P2c::remove`]) while picks go on; unlike go-zero, whose picker is
//! rebuilt on every resolver update, endpoints that stay keep their statistics.

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

const DECAY_NANOS: f64 = 10e9;
const FORCE_PICK: Duration = Duration::from_secs(1);
const INIT_SUCCESS: u64 = 1000;
const THROTTLE_SUCCESS: u64 = INIT_SUCCESS / 2;
const PENALTY: u64 = i32::MAX as u64;
const PICK_TIMES: usize = 3;

/// One endpoint's running statistics.
#[derive(Debug)]
struct Node<K> {
    key: K,
    lag: AtomicU64,
    in_flight: AtomicI64,
    success: AtomicU64,
    last: AtomicU64,
    picked_at: AtomicU64,
}

impl<K> Node<K> {
    fn new(key: K) -> Self {
        Node {
            key,
            lag: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
            success: AtomicU64::new(INIT_SUCCESS),
            last: AtomicU64::new(0),
            picked_at: AtomicU64::new(0),
        }
    }

    fn healthy(&self) -> bool {
        self.success.load(Ordering::Relaxed) > THROTTLE_SUCCESS
    }

    fn load(&self) -> u64 {
        let lag = (self.lag.load(Ordering::Relaxed).saturating_add(1) as f64).sqrt() as u64;
        let in_flight = self.in_flight.load(Ordering::Relaxed).max(0) as u64;
        match lag * (in_flight + 1) {
            0 => PENALTY,
            load => load,
        }
    }
}

/// A balancer over endpoints keyed by `K` (an address, usually). Cheap to clone: clones
/// share the endpoints and their statistics.
#[derive(Clone)]
pub struct P2c<K> {
    shared: Arc<Shared<K>>,
}

struct Shared<K> {
    clock: Box<dyn Clock>,
    state: Mutex<State<K>>,
}

struct State<K> {
    nodes: Vec<Arc<Node<K>>>,
    rng: fastrand::Rng,
}

impl<K: std::fmt::Debug> std::fmt::Debug for P2c<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f.debug_list()
            .entries(state.nodes.iter().map(|n| (&n.key, n.load())))
            .finish()
    }
}

impl<K: Clone + PartialEq + Send + Sync + 'static> Default for P2c<K> {
    fn default() -> Self {
        Self::new()
    }
}

// === impl P2c ===

impl<K: Clone + PartialEq + Send + Sync + 'static> P2c<K> {
    /// An empty balancer on the system clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock::default(), fastrand::u64(..))
    }

    /// An empty balancer on `clock`, its random draws seeded by `seed`.
    pub fn with_clock(clock: impl Clock, seed: u64) -> Self {
        P2c {
            shared: Arc::new(Shared {
                clock: Box::new(clock),
                state: Mutex::new(State {
                    nodes: Vec::new(),
                    rng: fastrand::Rng::with_seed(seed),
                }),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<K>> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> u64 {
        u64::try_from(self.shared.clock.now().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Replaces the endpoints. Endpoints that stay keep their statistics; picks in flight
    /// to removed ones complete normally.
    pub fn set_endpoints(&self, keys: impl IntoIterator<Item = K>) {
        let mut state = self.state();
        let old = std::mem::take(&mut state.nodes);
        for key in keys {
            if state.nodes.iter().any(|n| n.key == key) {
                continue;
            }
            let node = old
                .iter()
                .find(|n| n.key == key)
                .cloned()
                .unwrap_or_else(|| Arc::new(Node::new(key)));
            state.nodes.push(node);
        }
    }

    /// The endpoints now, in no particular order.
    pub fn endpoints(&self) -> Vec<K> {
        self.state().nodes.iter().map(|n| n.key.clone()).collect()
    }

    /// Picks an endpoint for one call, or `None` when there is none. Report the call's
    /// end on the returned [`Picked`].
    pub fn pick(&self) -> Option<Picked<K>> {
        let now = self.now();
        let chosen = {
            let mut state = self.state();
            let n = state.nodes.len();
            let (a, b) = match n {
                0 => return None,
                1 => (0, None),
                2 => (0, Some(1)),
                _ => {
                    let (mut a, mut b) = (0, 1);
                    for _ in 0..PICK_TIMES {
                        a = state.rng.usize(..n);
                        b = state.rng.usize(..n - 1);
                        if b >= a {
                            b += 1;
                        }
                        if state.nodes[a].healthy() && state.nodes[b].healthy() {
                            break;
                        }
                    }
                    (a, Some(b))
                }
            };
            let first = state.nodes[a].clone();
            let second = b.map(|b| state.nodes[b].clone());
            choose(first, second, now)
        };
        chosen.in_flight.fetch_add(1, Ordering::Relaxed);
        Some(Picked {
            node: Some(chosen),
            balancer: self.clone(),
            start: now,
        })
    }

    /// Adds one endpoint (no-op if present).
    pub fn add(&self, key: K) {
        let mut state = self.state();
        if !state.nodes.iter().any(|n| n.key == key) {
            state.nodes.push(Arc::new(Node::new(key)));
        }
    }

    /// Removes one endpoint; picks in flight to it complete normally.
    pub fn remove(&self, key: &K) {
        self.state().nodes.retain(|n| n.key != *key);
    }

    /// What the balancer knows of each endpoint now, for metrics and logs (go-zero logs
    /// the same every minute).
    pub fn stats(&self) -> Vec<EndpointStats<K>> {
        self.state()
            .nodes
            .iter()
            .map(|n| EndpointStats {
                key: n.key.clone(),
                load: n.load(),
                lag: Duration::from_nanos(n.lag.load(Ordering::Relaxed)),
                in_flight: n.in_flight.load(Ordering::Relaxed),
                success: n.success.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Records a finished call: `success` is `None` for a call dropped unreported, whose
    /// latency so far is still evidence (a hung endpoint whose callers time out must look
    /// slow) but whose outcome is unknown.
    fn done(&self, node: &Node<K>, start: u64, success: Option<bool>) {
        node.in_flight.fetch_sub(1, Ordering::Relaxed);
        let now = self.now();
        let last = node.last.swap(now, Ordering::Relaxed);
        let since = now.saturating_sub(last) as f64;
        let lag = now.saturating_sub(start);
        let old_lag = node.lag.load(Ordering::Relaxed);
        // The first sample is taken as is; later ones are weighted by how long ago the
        // previous one was, so the average forgets at the same speed at any request rate.
        let w = if old_lag == 0 {
            0.0
        } else {
            (-since / DECAY_NANOS).exp()
        };
        node.lag.store(
            (old_lag as f64 * w + lag as f64 * (1.0 - w)) as u64,
            Ordering::Relaxed,
        );
        let Some(success) = success else {
            return;
        };
        let sample = if success { INIT_SUCCESS } else { 0 };
        let old = node.success.load(Ordering::Relaxed);
        node.success.store(
            (old as f64 * w + sample as f64 * (1.0 - w)) as u64,
            Ordering::Relaxed,
        );
    }
}

fn choose<K>(c1: Arc<Node<K>>, c2: Option<Arc<Node<K>>>, now: u64) -> Arc<Node<K>> {
    let Some(c2) = c2 else {
        c1.picked_at.store(now, Ordering::Relaxed);
        return c1;
    };
    let (better, worse) = if c1.load() > c2.load() {
        (c2, c1)
    } else {
        (c1, c2)
    };
    let picked_at = worse.picked_at.load(Ordering::Relaxed);
    let force = u64::try_from(FORCE_PICK.as_nanos()).unwrap_or(u64::MAX);
    if now.saturating_sub(picked_at) > force
        && worse
            .picked_at
            .compare_exchange(picked_at, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        return worse;
    }
    better.picked_at.store(now, Ordering::Relaxed);
    better
}

/// One endpoint's statistics, from [`P2c::stats`].
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointStats<K> {
    /// The endpoint.
    pub key: K,
    /// Its load, `sqrt(lag) * (in_flight + 1)`: the lower, the likelier it is picked.
    pub load: u64,
    /// The time-decayed average latency.
    pub lag: Duration,
    /// Calls in flight.
    pub in_flight: i64,
    /// The time-decayed success rate, 0..=1000; at 500 or below it is avoided.
    pub success: u64,
}

/// A picked endpoint. Report with [`done`](Self::done). Dropped unreported (the call was
/// cancelled or timed out from outside), it leaves the in-flight count and its latency so
/// far is recorded, its success not.
#[derive(Debug)]
#[must_use = "report the call's end with done()"]
pub struct Picked<K: Clone + PartialEq + Send + Sync + 'static> {
    node: Option<Arc<Node<K>>>,
    balancer: P2c<K>,
    start: u64,
}

impl<K: Clone + PartialEq + Send + Sync + 'static> Picked<K> {
    /// The endpoint to call.
    pub fn key(&self) -> Option<&K> {
        self.node.as_ref().map(|n| &n.key)
    }

    /// The call ended; `success` is false when it failed in a way that counts against the
    /// endpoint (see [`crate::classify::grpc_code_is_failure`]).
    pub fn done(mut self, success: bool) {
        if let Some(node) = self.node.take() {
            self.balancer.done(&node, self.start, Some(success));
        }
    }
}

impl<K: Clone + PartialEq + Send + Sync + 'static> Drop for Picked<K> {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            self.balancer.done(&node, self.start, None);
        }
    }
}

impl<K: Clone + PartialEq + Send + Sync + 'static> std::fmt::Debug for Shared<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P2c")
    }
}
