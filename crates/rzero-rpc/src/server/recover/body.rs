//! The body side of recovery: a streaming handler's stream is polled inside the response
//! body, after the handler's future has long returned, so its panics surface here.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::{INTERNAL_MESSAGE, record_panic};

pin_project! {
    /// A response body whose panics end the stream with INTERNAL in the trailers.
    pub struct RecoverBody<B> {
        #[pin]
        inner: B,
        uri: http::Uri,
        panicked: bool,
    }
}

impl<B> RecoverBody<B> {
    pub(super) fn new(inner: B, uri: http::Uri) -> Self {
        RecoverBody {
            inner,
            uri,
            panicked: false,
        }
    }
}

impl<B: Default> Default for RecoverBody<B> {
    fn default() -> Self {
        RecoverBody::new(B::default(), http::Uri::default())
    }
}

impl<B: Body> Body for RecoverBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        if *this.panicked {
            return Poll::Ready(None);
        }
        let inner = this.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(move || inner.poll_frame(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                // The inner body may be mid-update: it is never polled again.
                *this.panicked = true;
                record_panic(this.uri.path(), panic.as_ref());
                let mut trailers = HeaderMap::new();
                trailers.insert("grpc-status", HeaderValue::from_static("13"));
                trailers.insert("grpc-message", HeaderValue::from_static(INTERNAL_MESSAGE));
                Poll::Ready(Some(Ok(Frame::trailers(trailers))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.panicked || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
