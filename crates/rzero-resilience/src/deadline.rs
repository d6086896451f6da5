//! The caller's deadline, carried with the work done for it: go's
//! `context.WithDeadline` for rzero. The rpc server puts the deadline of each call (its
//! `Timeout` or the caller's `grpc-timeout`, the shorter) in scope around the handler;
//! what runs inside asks [`remaining`] and bounds itself by it, so that a SQL statement
//! or a call to another service does not run on after the caller has given up.
//!
//! Why a task-local and not an argument: the deadline must reach every statement of the
//! generated models and every outgoing call without changing their signatures (go-zero
//! threads `ctx` through each; Rust's futures have no such parameter). It is scoped, not
//! global: outside a [`scope`] there is no deadline, and each call's scope is its own.
//! Like any task-local it does not follow `tokio::spawn`: work handed to another task is
//! not bounded by this caller.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// The future of work done under a deadline (see [`scope`]).
pub type Scoped<F> = tokio::task::futures::TaskLocalFuture<Instant, F>;

/// Runs `fut` with `deadline` as the caller's deadline; a deadline already in scope that
/// is earlier stays the one [`remaining`] answers.
pub fn scope<F: Future>(deadline: Instant, fut: F) -> Scoped<F> {
    let deadline = match current() {
        Some(outer) if outer < deadline => outer,
        _ => deadline,
    };
    DEADLINE.scope(deadline, fut)
}

/// The deadline in scope, if any.
pub fn current() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// How long until the deadline in scope (zero once it passed); `None` without one.
pub fn remaining() -> Option<Duration> {
    current().map(|d| d.saturating_duration_since(Instant::now()))
}

/// `limit`, or less when the deadline in scope comes sooner; and whether the deadline
/// is what bounds it.
pub fn bound(limit: Duration) -> (Duration, bool) {
    match remaining() {
        Some(left) if left < limit => (left, true),
        _ => (limit, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn work_in_scope_sees_the_time_left() {
        assert_eq!(remaining(), None, "no deadline outside a scope");
        let at = Instant::now() + Duration::from_millis(300);
        scope(at, async {
            assert_eq!(remaining(), Some(Duration::from_millis(300)));
            tokio::time::advance(Duration::from_millis(100)).await;
            assert_eq!(
                bound(Duration::from_secs(6)),
                (Duration::from_millis(200), true)
            );
            assert_eq!(
                bound(Duration::from_millis(50)),
                (Duration::from_millis(50), false)
            );
            tokio::time::advance(Duration::from_secs(1)).await;
            assert_eq!(remaining(), Some(Duration::ZERO), "passed: nothing left");
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn an_inner_scope_cannot_extend_the_callers_deadline() {
        let soon = Instant::now() + Duration::from_millis(100);
        let later = Instant::now() + Duration::from_secs(5);
        scope(soon, async move {
            scope(later, async move { assert_eq!(current(), Some(soon)) }).await;
            scope(soon - Duration::from_millis(50), async move {
                assert_eq!(remaining(), Some(Duration::from_millis(50)));
            })
            .await;
        })
        .await;
    }
}
