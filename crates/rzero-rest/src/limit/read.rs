//! `ReadTimeout`: a request body must arrive within a deadline, and whoever times a
//! request out can tell whether it was the client that was slow.
//!
//! The server wraps every request body in a [`TimedBody`] before routing. It records in a
//! shared [`ReadProgress`] (left in the request's extensions) whether the handler is
//! waiting on the client right now, i.e. its last poll of the body was `Pending`. Past
//! `ReadTimeout` the body fails with [`BodyReadTimeout`], which [`crate::Parsed`] answers
//! 408. The route's [`crate::timeout`] asks the same record: a request that times out
//! while its handler waits on the client's body is the client's slowness, answered 408
//! (a 4xx the route's breaker does not count), not the 503 of a slow backend.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http::Request;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::BoxError;

/// Where a request's body stands; cheap to clone (one `Arc`).
#[derive(Clone, Debug, Default)]
pub struct ReadProgress(Arc<Progress>);

#[derive(Debug, Default)]
struct Progress {
    waiting: AtomicBool,
    timed_out: AtomicBool,
}

/// The request body did not arrive within `ReadTimeout`.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?} (ReadTimeout); send it faster")]
pub struct BodyReadTimeout(pub Duration);

pin_project! {
    /// A request body with a deadline; see the module docs.
    pub struct TimedBody<B> {
        #[pin]
        inner: B,
        deadline: Option<(Instant, Duration)>,
        sleep: Option<Pin<Box<Sleep>>>,
        progress: ReadProgress,
    }
}

/// Wraps `req`'s body: it must arrive within `timeout` from now (`ZERO`: no deadline,
/// progress is still recorded for the route timeout). A request without a body is left
/// as it is.
pub fn timed<B>(req: Request<B>, timeout: Duration) -> Request<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    // No body (a GET, a HEAD): nothing to wait for, so no deadline and no progress to
    // record; the route timeout then reads the slowness as the handler's, as it is.
    if http_body::Body::is_end_stream(req.body()) {
        return req.map(Body::new);
    }
    let progress = ReadProgress::default();
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(progress.clone());
    let deadline = (timeout > Duration::ZERO)
        .then(|| Instant::now().checked_add(timeout).map(|at| (at, timeout)))
        .flatten();
    let body = TimedBody {
        inner: body,
        deadline,
        sleep: None,
        progress,
    };
    Request::from_parts(parts, Body::new(body))
}

// === impl ReadProgress ===

impl ReadProgress {
    /// True while the handler waits for body bytes the client has not sent.
    pub fn waiting_on_client(&self) -> bool {
        self.0.waiting.load(Ordering::Relaxed)
    }

    /// True once the body failed with [`BodyReadTimeout`].
    pub fn timed_out(&self) -> bool {
        self.0.timed_out.load(Ordering::Relaxed)
    }
}

// === impl TimedBody ===

impl<B> http_body::Body for TimedBody<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let progress = &this.progress.0;
        if progress.timed_out.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            progress.waiting.store(false, Ordering::Relaxed);
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        progress.waiting.store(true, Ordering::Relaxed);
        let Some((at, timeout)) = *this.deadline else {
            return Poll::Pending;
        };
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        ready!(sleep.as_mut().poll(cx));
        progress.timed_out.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(Box::new(BodyReadTimeout(timeout)))))
    }

    fn is_end_stream(&self) -> bool {
        self.progress.timed_out() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    /// A body whose sender never sends: the reader waits on the client, then fails.
    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_deadline() {
        let never = futures_util::stream::pending::<Result<Bytes, std::io::Error>>();
        let req = timed(
            Request::new(Body::from_stream(never)),
            Duration::from_secs(2),
        );
        let progress = req
            .extensions()
            .get::<ReadProgress>()
            .cloned()
            .expect("set");
        let read = tokio::spawn(req.into_body().collect());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(progress.waiting_on_client());
        assert!(!progress.timed_out());
        let err = read.await.expect("joins").expect_err("times out");
        assert!(err.to_string().contains("ReadTimeout"), "{err}");
        assert!(progress.timed_out());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_arrives_is_not_waiting() {
        let req = timed(Request::new(Body::from("hello")), Duration::from_secs(2));
        let progress = req
            .extensions()
            .get::<ReadProgress>()
            .cloned()
            .expect("set");
        let bytes = req.into_body().collect().await.expect("reads").to_bytes();
        assert_eq!(bytes, "hello");
        assert!(!progress.waiting_on_client());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_without_a_body_is_left_alone() {
        let req = timed(Request::new(Body::empty()), Duration::from_secs(2));
        assert!(req.extensions().get::<ReadProgress>().is_none());
        let bytes = req.into_body().collect().await.expect("reads").to_bytes();
        assert!(bytes.is_empty());
    }
}
