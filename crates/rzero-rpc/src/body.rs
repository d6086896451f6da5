//! A response body that tells when its call ended and with which gRPC status.
//!
//! A gRPC status travels in the headers of a trailers-only response (errors, usually) or
//! in the trailers after the messages (every success, and errors met while streaming).
//! A layer that must know how a call went (the span's status, the duration histogram,
//! the breaker, the balancer, the shedder) cannot decide when the response headers come
//! back: it wraps the body with [`observe`] and gets one [`OnEnd::on_end`] call when
//! the status is known, or with `None` when the body was dropped first (the call was
//! cancelled).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Code;

pub use crate::duration::Record;
pub use crate::span::SpanEnd;
use crate::status::{code_in, code_of_http};

/// What to do when a call ends.
pub trait OnEnd: Send + 'static {
    /// The call ended with `code`, or was dropped before its status came (`None`).
    fn on_end(self, code: Option<Code>);

    /// A context to make current while the body is polled (the server span, so the
    /// spans of a streaming handler land under it).
    fn context(&self) -> Option<&opentelemetry::Context> {
        None
    }
}

pin_project! {
    /// A body that calls its [`OnEnd`] once, when the call's status is known.
    pub struct ObservedBody<B, F: OnEnd> {
        #[pin]
        inner: B,
        on_end: Option<F>,
    }

    impl<B, F: OnEnd> PinnedDrop for ObservedBody<B, F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(f) = this.project().on_end.take() {
                f.on_end(None);
            }
        }
    }
}

impl<B: Default, F: OnEnd> Default for ObservedBody<B, F> {
    fn default() -> Self {
        ObservedBody {
            inner: B::default(),
            on_end: None,
        }
    }
}

impl<B, F: OnEnd> ObservedBody<B, F> {
    /// `inner` with no one to tell (a response that was observed elsewhere).
    pub fn unobserved(inner: B) -> Self {
        ObservedBody {
            inner,
            on_end: None,
        }
    }
}

/// Wraps `response`'s body so that `f` learns the call's status: at once when the
/// headers carry it, else from the trailers (or the end or failure of the body).
pub fn observe<B, F: OnEnd>(response: Response<B>, f: F) -> Response<ObservedBody<B, F>> {
    let (parts, inner) = response.into_parts();
    let header_code = code_in(&parts.headers)
        .or_else(|| (parts.status != http::StatusCode::OK).then(|| code_of_http(parts.status)));
    let on_end = match header_code {
        Some(code) => {
            f.on_end(Some(code));
            None
        }
        None => Some(f),
    };
    Response::from_parts(parts, ObservedBody { inner, on_end })
}

impl<B: Body, F: OnEnd> Body for ObservedBody<B, F> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = {
            let _guard = this
                .on_end
                .as_ref()
                .and_then(|f| f.context())
                .map(|c| c.clone().attach());
            ready!(this.inner.poll_frame(cx))
        };
        let code = match &frame {
            Some(Ok(frame)) => frame
                .trailers_ref()
                .map(|trailers| code_in(trailers).unwrap_or(Code::Unknown)),
            // The stream broke (reset, connection lost) or ended without a status.
            Some(Err(_)) => Some(Code::Unavailable),
            None => Some(Code::Unknown),
        };
        if let Some(code) = code
            && let Some(f) = this.on_end.take()
        {
            f.on_end(Some(code));
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
