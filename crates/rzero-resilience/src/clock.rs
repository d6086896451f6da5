//! Time as a constructor argument, so tests drive it instead of sleeping; and one clock
//! read for all the layers a call enters ([`call_time`]).

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A monotonic clock: the time since some fixed origin.
pub trait Clock: Send + Sync + 'static {
    /// Time elapsed since the clock's origin.
    fn now(&self) -> Duration;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
}

/// The real monotonic clock.
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    /// [`call_time`] since the origin: inside a server stack's `call`, the time the call
    /// entered the stack (so the shedder and the breaker share the other layers' reading).
    fn now(&self) -> Duration {
        call_time().saturating_duration_since(self.origin)
    }
}

thread_local! {
    /// Set while a server stack's `call` runs on this thread: see [`entering`].
    static ENTERED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The time now; or, read from a layer's `call` under [`entering`], the time the call
/// entered its server's stack.
///
/// Why: a request passes several layers that each note when it started (access log,
/// metrics, shedder, breaker; the timeouts keep tokio's `Instant`, which tests pause), and
/// each `Instant::now()` is a clock read (~25 ns here, a system call on a VM without a
/// usable TSC). Their `call`s run one inside the
/// other before the handler's future is first polled, so one reading serves them all and
/// they measure from the same instant. A response future is polled outside `entering`,
/// so the ends of calls (durations, the breaker's outcome) read the clock as before.
pub fn call_time() -> Instant {
    ENTERED.with(Cell::get).unwrap_or_else(Instant::now)
}

/// Runs `f`, a server stack's `call`, with [`call_time`] answering one reading of the
/// clock taken now. Only for a `call` that does no work of its own (tower's services
/// build their futures in `call` and work when polled): a `call` that blocked would make
/// every layer below see the time it was entered.
pub fn entering<R>(f: impl FnOnce() -> R) -> R {
    /// Puts back what was there before, also when `f` panics.
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            ENTERED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(ENTERED.with(|c| c.replace(Some(Instant::now()))));
    f()
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reading_inside_a_call_and_fresh_ones_outside() {
        let before = call_time();
        let (a, b, nested, after_nested) = entering(|| {
            let a = call_time();
            std::thread::sleep(Duration::from_millis(2));
            let b = call_time();
            let nested = entering(call_time);
            (a, b, nested, call_time())
        });
        assert_eq!(a, b, "every layer of one call sees the same instant");
        assert!(a >= before);
        assert!(nested > a, "a nested call reads the clock again");
        assert_eq!(
            after_nested, a,
            "and leaves the outer call's reading in place"
        );
        std::thread::sleep(Duration::from_millis(2));
        assert!(
            call_time() > a + Duration::from_millis(3),
            "outside a call: the clock"
        );
    }

    #[test]
    fn a_panicking_call_leaves_no_reading_behind() {
        let caught = std::panic::catch_unwind(|| entering(|| panic!("in call")));
        assert!(caught.is_err());
        let first = call_time();
        std::thread::sleep(Duration::from_millis(2));
        assert!(call_time() > first);
    }

    #[test]
    fn the_system_clock_follows_the_call_time() {
        let clock = SystemClock::default();
        entering(|| {
            let a = clock.now();
            std::thread::sleep(Duration::from_millis(2));
            assert_eq!(clock.now(), a);
        });
        let outside = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now() > outside);
    }
}
