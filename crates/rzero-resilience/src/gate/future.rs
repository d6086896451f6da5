//! The response future of a [`super::Gated`] service.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tower::BoxError;

use super::{Gate, Permit};
use crate::classify::Classify;

pin_project! {
    /// Reports the call's outcome to the gate when it completes; answers the refusal at
    /// once when the gate said no.
    pub struct ResponseFuture<F, G: Gate, C> {
        // `None` when the gate refused the call.
        #[pin]
        inner: Option<F>,
        permit: Option<G::Permit>,
        refusal: Option<G::Refusal>,
        classify: C,
    }
}

impl<F, G: Gate, C> ResponseFuture<F, G, C> {
    pub(crate) fn admitted(inner: F, permit: G::Permit, classify: C) -> Self {
        ResponseFuture {
            inner: Some(inner),
            permit: Some(permit),
            refusal: None,
            classify,
        }
    }

    pub(crate) fn refused(refusal: G::Refusal, classify: C) -> Self {
        ResponseFuture {
            inner: None,
            permit: None,
            refusal: Some(refusal),
            classify,
        }
    }
}

impl<F, G, C, Res, E> Future for ResponseFuture<F, G, C>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
    G: Gate,
    C: Classify<Res, E>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            return Poll::Ready(Err(match this.refusal.take() {
                Some(refusal) => refusal.into(),
                None => "the gate's answer was already taken: polled after completion".into(),
            }));
        };
        let result = ready!(inner.poll(cx));
        if let Some(permit) = this.permit.take() {
            permit.finish(this.classify.is_failure(result.as_ref()));
        }
        Poll::Ready(result.map_err(Into::into))
    }
}
