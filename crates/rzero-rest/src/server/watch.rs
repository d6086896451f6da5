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
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

/// No instant recorded.
const NONE: u64 = u64::MAX;

/// The shared record of one connection.
#[derive(Debug)]
pub(crate) struct ConnState {
    epoch: Instant,
    in_flight: AtomicUsize,
    /// Microseconds since `epoch` of the last answer's end (or of the accept).
    idle_since: AtomicU64,
    /// Microseconds since `epoch` of the first byte read while idle, or [`NONE`].
    first_byte: AtomicU64,
    changed: Notify,
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
            changed: Notify::new(),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(NONE - 1)
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
            self.first_byte.store(self.now(), Ordering::SeqCst);
            self.changed.notify_one();
        }
    }

    /// When the connection must close, and why; `None` while a request is in flight.
    fn deadline(&self, idle: Duration, header: Duration) -> Option<(Instant, Expired)> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let at = |micros: u64, d: Duration| {
            self.epoch
                .checked_add(Duration::from_micros(micros))
                .and_then(|t| t.checked_add(d))
        };
        match self.first_byte.load(Ordering::SeqCst) {
            NONE if idle > Duration::ZERO => Some((
                at(self.idle_since.load(Ordering::SeqCst), idle)?,
                Expired::Idle,
            )),
            NONE => None,
            first if header > Duration::ZERO => Some((at(first, header)?, Expired::Header)),
            _ => None,
        }
    }

    /// Resolves when the connection has been idle for `idle`, or has been sending a head
    /// for `header` (a zero duration never expires).
    pub(crate) async fn expired(&self, idle: Duration, header: Duration) -> Expired {
        loop {
            // Registered before reading the state, so that no change is missed.
            let changed = self.changed.notified();
            match self.deadline(idle, header) {
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let state = &self.0;
        if state.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            state.first_byte.store(NONE, Ordering::SeqCst);
            state.idle_since.store(state.now(), Ordering::SeqCst);
            state.changed.notify_one();
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
