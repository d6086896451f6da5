//! The response future: reports the outcome to the breaker when the call completes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tower::BoxError;

use super::error::BreakerOpen;
use super::sre::Promise;
use crate::classify::Classify;

pin_project! {
    /// The future of a call through [`super::Breaker`].
    pub struct ResponseFuture<F, C> {
        // `None` when the breaker refused the call.
        #[pin]
        inner: Option<F>,
        promise: Option<Promise>,
        classify: C,
    }
}

impl<F, C> ResponseFuture<F, C> {
    pub(super) fn called(inner: F, promise: Promise, classify: C) -> Self {
        ResponseFuture {
            inner: Some(inner),
            promise: Some(promise),
            classify,
        }
    }

    pub(super) fn refused(classify: C) -> Self {
        ResponseFuture {
            inner: None,
            promise: None,
            classify,
        }
    }
}

impl<F, C, Res, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
    C: Classify<Res, E>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            return Poll::Ready(Err(BreakerOpen.into()));
        };
        let result = ready!(inner.poll(cx));
        if let Some(promise) = this.promise.take() {
            if this.classify.is_failure(result.as_ref()) {
                promise.reject();
            } else {
                promise.accept();
            }
        }
        Poll::Ready(result.map_err(Into::into))
    }
}
