//! Single-flight: concurrent loads of one key share one run (go-zero's
//! `syncx.SingleFlight`).
//!
//! Each key in flight maps to a `tokio::sync::OnceCell`; the first caller initializes it
//! and the others await the same cell. If the caller running the load is cancelled,
//! the cell stays empty and the next waiter runs its own load, so a dropped request
//! never strands the others. The entry leaves the map when its load completes; callers
//! that arrive after that start a new flight (and find the cache filled).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub(crate) struct Flight<T> {
    calls: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T: Clone> Flight<T> {
    pub(crate) fn new() -> Self {
        Flight {
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `load` for `key` unless a run for `key` is in flight; either way, its result.
    pub(crate) async fn run<F, Fut>(&self, key: &str, load: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self
            .lock()
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        let leave = Leave {
            flight: self,
            key,
            cell,
        };
        leave.cell.get_or_init(load).await.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<OnceCell<T>>>> {
        // Poisoning means a panic while holding the map; the map itself is intact.
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Takes a finished flight out of the map when its caller leaves, also when the caller
/// is cancelled: a flight nobody waits for any more leaves too, so keys whose loads were
/// all cancelled (timeouts during a database outage) do not pile up.
struct Leave<'a, T> {
    flight: &'a Flight<T>,
    key: &'a str,
    cell: Arc<OnceCell<T>>,
}

impl<T> Drop for Leave<'_, T> {
    fn drop(&mut self) {
        let mut calls = self.flight.calls.lock().unwrap_or_else(|p| p.into_inner());
        // Under the lock the count is exact: the map's reference, ours, and waiters'.
        let ours = calls
            .get(self.key)
            .is_some_and(|c| Arc::ptr_eq(c, &self.cell));
        if ours && (self.cell.initialized() || Arc::strong_count(&self.cell) == 2) {
            calls.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn concurrent_loads_of_one_key_run_once() {
        let flight = Arc::new(Flight::<u32>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (flight, runs) = (flight.clone(), runs.clone());
                tokio::spawn(async move {
                    flight
                        .run("k", || async {
                            runs.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            7
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("task"), 7);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(flight.lock().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_loads_leave_nothing_behind() {
        let flight = Flight::<u32>::new();
        let slow = flight.run("k", || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            1
        });
        assert!(
            tokio::time::timeout(Duration::from_millis(10), slow)
                .await
                .is_err()
        );
        assert!(flight.lock().is_empty());
        assert_eq!(flight.run("k", || async { 2 }).await, 2);
    }
}
