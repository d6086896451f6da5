//! Time as a constructor argument, so tests drive it instead of sleeping; and one clock
//! read for all the layers a call enters ([`call_time`]), and one for all the layers it
//! leaves once the handler has answered ([`end_time`]).

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::LocalKey;
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
    /// The time since the origin: inside a server stack's `call`, [`call_time`] (the time
    /// the call entered the stack); else [`end_time`], so the shedder and the breaker
    /// share the other layers' readings at both ends of a request.
    fn now(&self) -> Duration {
        ENTERED
            .with(Cell::get)
            .unwrap_or_else(end_time)
            .saturating_duration_since(self.origin)
    }
}

thread_local! {
    /// Set while a server stack's `call` runs on this thread: see [`entering`].
    static ENTERED: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Where this thread is in a poll of a server stack's response: see [`polling`].
    static ENDING: Cell<Ending> = const { Cell::new(Ending::Outside) };
}

/// What [`end_time`] answers on this thread.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Not in a poll under [`polling`]: the clock.
    Outside,
    /// In one, before the handler answered: the clock.
    Polling,
    /// The handler answered in this poll ([`answered`]); the next reading is kept.
    Answered,
    /// The reading every later [`end_time`] of this poll answers.
    Read(Instant),
}

/// The time now; or, read from a layer's `call` under [`entering`], the time the call
/// entered its server's stack.
///
/// Why: a request passes several layers that each note when it started (access log,
/// metrics, shedder, breaker; the timeouts keep tokio's `Instant`, which tests pause), and
/// each `Instant::now()` is a clock read (~25 ns here, a system call on a VM without a
/// usable TSC). Their `call`s run one inside the
/// other before the handler's future is first polled, so one reading serves them all and
/// they measure from the same instant. A response future is polled outside `entering`:
/// the ends of calls (durations, the breaker's outcome) read [`end_time`].
pub fn call_time() -> Instant {
    ENTERED.with(Cell::get).unwrap_or_else(Instant::now)
}

/// Runs `f`, a server stack's `call`, with [`call_time`] answering one reading of the
/// clock taken now. Only for a `call` that does no work of its own (tower's services
/// build their futures in `call` and work when polled): a `call` that blocked would make
/// every layer below see the time it was entered.
pub fn entering<R>(f: impl FnOnce() -> R) -> R {
    with_set(&ENTERED, Some(Instant::now()), f)
}

/// Runs `f` with the thread-local `key` set to `value`, and puts back what was there
/// before, also when `f` panics.
fn with_set<T: Copy + 'static, R>(
    key: &'static LocalKey<Cell<T>>,
    value: T,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore<T: Copy + 'static>(&'static LocalKey<Cell<T>>, T);
    impl<T: Copy + 'static> Drop for Restore<T> {
        fn drop(&mut self) {
            let before = self.1;
            self.0.with(|c| c.set(before));
        }
    }
    let _restore = Restore(key, key.with(|c| c.replace(value)));
    f()
}

/// The time now; or, in a poll under [`polling`] after the handler [`answered`], one
/// reading for the rest of that poll.
///
/// Why: the layers a request leaves after its handler answers (the breaker's outcome, the
/// shedder's response time, the metrics' duration, the access log's) each read the clock
/// for it, and their response futures finish one inside the other in the same poll, with
/// only rzero's own layer code between them (the user's code, handler and group
/// middleware, runs before the answer). Before the answer, and outside a server's poll,
/// each call reads the clock: a reading kept while a handler works would be stale.
pub fn end_time() -> Instant {
    ENDING.with(|c| match c.get() {
        Ending::Read(at) => at,
        Ending::Answered => {
            let now = Instant::now();
            c.set(Ending::Read(now));
            now
        }
        Ending::Outside | Ending::Polling => Instant::now(),
    })
}

/// Runs `f`, one poll of a server stack's response future, so that once the handler has
/// [`answered`] every layer's [`end_time`] is the same reading. What was set before is
/// put back after, also when `f` panics.
pub fn polling<R>(f: impl FnOnce() -> R) -> R {
    with_set(&ENDING, Ending::Polling, f)
}

/// Tells [`end_time`] that the handler of the poll under way has answered: from here to
/// the end of the poll, only the layers around it run. Called by the innermost service
/// of a server stack (rzero-rest's endpoint) when its handler's future is ready; a
/// no-op outside [`polling`], where nothing would end what it keeps.
pub fn answered() {
    ENDING.with(|c| {
        if !matches!(c.get(), Ending::Outside) {
            c.set(Ending::Answered);
        }
    });
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

    #[test]
    fn one_end_reading_after_the_answer_and_fresh_ones_before_and_outside() {
        let outside = end_time();
        std::thread::sleep(Duration::from_millis(2));
        assert!(end_time() > outside, "outside a poll: the clock");
        let (before, after, later, nested) = polling(|| {
            let a = end_time();
            std::thread::sleep(Duration::from_millis(2));
            let b = end_time();
            assert!(
                b > a,
                "before the answer, the handler's own ends read the clock"
            );
            answered();
            let after = end_time();
            std::thread::sleep(Duration::from_millis(2));
            let later = end_time();
            let nested = polling(end_time);
            assert_eq!(end_time(), after, "a nested poll leaves this one's reading");
            (b, after, later, nested)
        });
        assert!(after > before);
        assert_eq!(
            later, after,
            "every layer after the answer shares one reading"
        );
        assert!(nested > after, "a nested poll starts before its own answer");
        std::thread::sleep(Duration::from_millis(2));
        assert!(
            end_time() > after + Duration::from_millis(3),
            "after the poll: the clock"
        );
    }

    #[test]
    fn an_answer_outside_a_poll_keeps_nothing_and_a_panicking_poll_restores() {
        answered();
        let a = end_time();
        std::thread::sleep(Duration::from_millis(2));
        assert!(end_time() > a, "an answer outside a poll changes nothing");
        let caught = std::panic::catch_unwind(|| {
            polling(|| {
                answered();
                let _ = end_time();
                panic!("in poll")
            })
        });
        assert!(caught.is_err());
        let first = end_time();
        std::thread::sleep(Duration::from_millis(2));
        assert!(end_time() > first, "nothing kept after the panic");
    }

    #[test]
    fn the_system_clock_shares_the_end_reading() {
        let clock = SystemClock::default();
        polling(|| {
            answered();
            let a = clock.now();
            std::thread::sleep(Duration::from_millis(2));
            assert_eq!(clock.now(), a);
            assert_eq!(end_time().saturating_duration_since(clock.origin), a);
        });
    }
}
