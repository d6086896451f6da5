//! What one connection is doing, for the timeouts hyper does not keep the way Go does:
//! a connection with no request in flight is idle, and is closed `IdleTimeout` after its
//! last answer, or `ReadHeaderTimeout` after the first byte of a head that never
//! completes. (hyper's own `header_read_timeout` starts when the connection begins
//! waiting for a head, idle or not, which would make the idle time of every keep-alive
//! connection the header time; so it is off and this does both.)
//!
//! [`Watched`] wraps the socket: it notes the first byte read while idle and fails a
//! write that makes no progress for `WriteTimeout`. [`ConnState::expired`] resolves when
//! the connection must be closed; the server then drops it, which closes the socket.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// No instant recorded.
const NONE: u64 = u64::MAX;

/// The shared record of one connection.
///
/// Nothing here wakes the connection's task: a request's start and end, and the first
/// byte of a head, are only stored, and [`ConnState::expired`]'s one timer comes back to
/// read them. (A `Notify` did it before; since the reads and the answer's end happen in
/// the connection's own task, every request woke that task once more for nothing, and
/// the second poll of hyper's dispatcher plus a new timer cost ~2,000 instructions a
/// request, a tenth of all the server does for a hello.)
#[derive(Debug)]
pub(crate) struct ConnState {
    epoch: Instant,
    in_flight: AtomicUsize,
    /// Microseconds since `epoch` of the last answer's end (or of the accept).
    idle_since: AtomicU64,
    /// Microseconds since `epoch` of the first byte read while idle, or [`NONE`].
    first_byte: AtomicU64,
}

/// Why a connection was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expired {
    /// No request for `IdleTimeout`.
    Idle,
    /// A head begun and not finished within `ReadHeaderTimeout`.
    Header,
}

/// Held while a request is in flight (until its answer's body is dropped).
#[derive(Debug)]
pub(crate) struct InFlight(Arc<ConnState>);

// === impl ConnState ===

impl ConnState {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(ConnState {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            first_byte: AtomicU64::new(NONE),
        })
    }

    fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_micros()).unwrap_or(NONE - 1)
    }

    fn at(&self, micros: u64, d: Duration) -> Option<Instant> {
        self.epoch
            .checked_add(Duration::from_micros(micros))
            .and_then(|t| t.checked_add(d))
    }

    /// A request has arrived; the connection is busy until the guard drops.
    pub(crate) fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    fn read_some(&self) {
        if self.in_flight.load(Ordering::SeqCst) == 0
            && self.first_byte.load(Ordering::SeqCst) == NONE
        {
            self.first_byte
                .store(self.micros(Instant::now()), Ordering::SeqCst);
        }
    }

    /// At `now`: why the connection must close, or when to look again.
    ///
    /// A head may begin at any moment without telling the timer, so while the first byte
    /// is not seen the timer comes back at least every `header`: a head begun at `t` is
    /// then seen by `t + header` at the latest, and the timer moves to its exact
    /// deadline. An idle keep-alive connection so costs one wake every `header` (2 s by
    /// default) instead of one wake per request.
    fn check(&self, idle: Duration, header: Duration, now: Instant) -> Result<Expired, Instant> {
        let later = |d: Duration| now.checked_add(d);
        // The period to look again at when nothing else is due: `header`, or `idle` when
        // heads are not timed; `None` when neither times out.
        let period = [header, idle]
            .into_iter()
            .find(|d| *d > Duration::ZERO)
            .and_then(later);
        let far = || later(Duration::from_secs(86_400 * 365)).unwrap_or(now);
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return Err(period.unwrap_or_else(far));
        }
        match self.first_byte.load(Ordering::SeqCst) {
            NONE => {
                let deadline = (idle > Duration::ZERO)
                    .then(|| self.at(self.idle_since.load(Ordering::SeqCst), idle))
                    .flatten();
                match deadline {
                    Some(at) if at <= now => Ok(Expired::Idle),
                    Some(at) if header > Duration::ZERO => {
                        Err(later(header).map_or(at, |next| next.min(at)))
                    }
                    Some(at) => Err(at),
                    None => Err(period.unwrap_or_else(far)),
                }
            }
            first if header > Duration::ZERO => match self.at(first, header) {
                Some(at) if at <= now => Ok(Expired::Header),
                Some(at) => Err(at),
                None => Err(far()),
            },
            // A head in progress with no header limit: the idle time starts again after it.
            _ => Err(period.unwrap_or_else(far)),
        }
    }

    /// Resolves when the connection has been idle for `idle`, or has been sending a head
    /// for `header` (a zero duration never expires).
    pub(crate) async fn expired(&self, idle: Duration, header: Duration) -> Expired {
        let first = match self.check(idle, header, Instant::now()) {
            Ok(why) => return why,
            Err(next) => next,
        };
        let sleep = tokio::time::sleep_until(first);
        tokio::pin!(sleep);
        loop {
            sleep.as_mut().await;
            match self.check(idle, header, Instant::now()) {
                Ok(why) => return why,
                Err(next) => sleep.as_mut().reset(next),
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let state = &self.0;
        if state.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            state.first_byte.store(NONE, Ordering::SeqCst);
            state
                .idle_since
                .store(state.micros(Instant::now()), Ordering::SeqCst);
        }
    }
}

pin_project! {
    /// A socket that reports reads to its [`ConnState`] and bounds stalled writes.
    pub(crate) struct Watched<T> {
        #[pin]
        io: T,
        state: Arc<ConnState>,
        write_timeout: Duration,
        stalled: Option<Pin<Box<Sleep>>>,
    }
}

impl<T> Watched<T> {
    pub(crate) fn new(io: T, state: Arc<ConnState>, write_timeout: Duration) -> Self {
        Watched {
            io,
            state,
            write_timeout,
            stalled: None,
        }
    }
}

/// `Pending` from a write starts (or continues) the stall clock; progress resets it.
fn bound_write<R>(
    stalled: &mut Option<Pin<Box<Sleep>>>,
    timeout: Duration,
    cx: &mut Context<'_>,
    poll: Poll<io::Result<R>>,
) -> Poll<io::Result<R>> {
    if poll.is_ready() {
        *stalled = None;
        return poll;
    }
    if timeout > Duration::ZERO {
        let sleep = stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {timeout:?} (WriteTimeout)"),
            )));
        }
    }
    Poll::Pending
}

impl<T: AsyncRead> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let poll = this.io.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.state.read_some();
        }
        poll
    }
}

impl<T: AsyncWrite> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write(cx, buf);
        bound_write(this.stalled, *this.write_timeout, cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write_vectored(cx, bufs);
        bound_write(this.stalled, *this.write_timeout, cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let poll = this.io.poll_flush(cx);
        bound_write(this.stalled, *this.write_timeout, cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_expires_after_the_idle_time() {
        let state = ConnState::new();
        let start = Instant::now();
        assert_eq!(state.expired(5 * S, 2 * S).await, Expired::Idle);
        assert_eq!(start.elapsed(), 5 * S);
    }

    #[tokio::test(start_paused = true)]
    async fn a_begun_head_expires_after_the_header_time() {
        let state = ConnState::new();
        tokio::time::advance(S).await;
        state.read_some();
        let start = Instant::now();
        assert_eq!(state.expired(60 * S, 2 * S).await, Expired::Header);
        assert_eq!(start.elapsed(), 2 * S);
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_begun_while_the_timer_waits_is_timed_from_its_first_byte() {
        let state = ConnState::new();
        let watch = {
            let state = state.clone();
            tokio::spawn(async move { state.expired(60 * S, 2 * S).await })
        };
        tokio::time::sleep(S + S / 2).await;
        state.read_some();
        let first = Instant::now();
        assert_eq!(watch.await.expect("joins"), Expired::Header);
        assert_eq!(first.elapsed(), 2 * S);
    }

    /// The point of the design: a request's start, first byte and end wake no task.
    #[tokio::test(start_paused = true)]
    async fn requests_do_not_wake_the_watch() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let state = ConnState::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let watch = state.expired(90 * S, 2 * S);
        tokio::pin!(watch);
        assert!(watch.as_mut().poll(&mut cx).is_pending());
        for _ in 0..100 {
            state.read_some();
            drop(state.start());
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        assert!(watch.as_mut().poll(&mut cx).is_pending());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_never_expires_and_idle_restarts_after_it() {
        let state = ConnState::new();
        let guard = state.start();
        let watch = {
            let state = state.clone();
            tokio::spawn(async move { state.expired(5 * S, 2 * S).await })
        };
        tokio::time::sleep(100 * S).await;
        assert!(!watch.is_finished());
        let done = Instant::now();
        drop(guard);
        assert_eq!(watch.await.expect("joins"), Expired::Idle);
        assert_eq!(done.elapsed(), 5 * S);
    }
}
