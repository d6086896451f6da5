//! The response future of the two gates a call can meet, the client's breaker and the
//! server's shedder: a refused call answers its gRPC status at once; an admitted one
//! hands its report to the response body, which makes it when the call's status is
//! known (at the trailers), or makes it at once if the inner service fails outright.
//!
//! Not rzero-resilience's `gate` shell: that one classifies at the response headers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use crate::body::{ObservedBody, OnEnd, observe};

/// The report of an admitted call.
pub trait Admission: OnEnd {
    /// The inner service failed before answering: a failure of the call.
    fn failed(self);
}

pin_project! {
    /// The future of a call through a gate: the breaker's or the shedder's.
    pub struct GatedFuture<F, A> {
        #[pin]
        inner: Option<F>,
        admission: Option<A>,
        refusal: fn() -> tonic::Status,
    }
}

impl<F, A> GatedFuture<F, A> {
    /// An admitted call, reported through `admission`.
    pub(crate) fn admitted(inner: F, admission: A, refusal: fn() -> tonic::Status) -> Self {
        GatedFuture {
            inner: Some(inner),
            admission: Some(admission),
            refusal,
        }
    }

    /// A refused call, answered with `refusal()`.
    pub(crate) fn refused(refusal: fn() -> tonic::Status) -> Self {
        GatedFuture {
            inner: None,
            admission: None,
            refusal,
        }
    }
}

impl<F, A, ResB, E> Future for GatedFuture<F, A>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    A: Admission,
    ResB: Default,
{
    type Output = Result<Response<ObservedBody<ResB, A>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            return Poll::Ready(Ok((this.refusal)().into_http()));
        };
        let result = ready!(inner.poll(cx));
        Poll::Ready(match (result, this.admission.take()) {
            (Ok(response), Some(a)) => Ok(observe(response, a)),
            (Ok(response), None) => Ok(response.map(ObservedBody::unobserved)),
            (Err(e), a) => {
                if let Some(a) = a {
                    a.failed();
                }
                Err(e)
            }
        })
    }
}
