//! A handler that panics answers INTERNAL, and the server keeps serving (go-zero's
//! `UnaryCrashInterceptor`). A streaming handler whose stream panics mid-way ends the
//! stream with an INTERNAL status in the trailers ([`RecoverBody`]). The panic is recorded on the current span (the call's
//! server span, when [`super::trace`] is outside this layer) as an `exception` event and
//! logged with the method; the caller sees only that the server failed, never the
//! panic's message, which may hold internal details.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

mod body;

pub use body::RecoverBody;

/// Adds [`Recover`] to services.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecoverLayer;

impl<S> Layer<S> for RecoverLayer {
    type Service = Recover<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Recover { inner }
    }
}

/// A service whose panics become INTERNAL answers.
#[derive(Clone, Debug)]
pub struct Recover<S> {
    inner: S,
}

impl<S, B, ResB> Service<Request<B>> for Recover<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    ResB: Default,
{
    type Response = Response<RecoverBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The Uri's bytes are shared: keeping it costs no allocation.
        let uri = req.uri().clone();
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(req))) {
            Ok(fut) => ResponseFuture {
                inner: Some(AssertUnwindSafe(fut).catch_unwind()),
                panic: None,
                uri,
            },
            Err(panic) => ResponseFuture {
                inner: None,
                panic: Some(panic),
                uri,
            },
        }
    }
}

pin_project! {
    /// The future of a call through [`Recover`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Option<CatchUnwind<AssertUnwindSafe<F>>>,
        panic: Option<Box<dyn Any + Send>>,
        uri: http::Uri,
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    ResB: Default,
{
    type Output = Result<Response<RecoverBody<ResB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let panic = match this.inner.as_pin_mut() {
            Some(inner) => match ready!(inner.poll(cx)) {
                Ok(result) => {
                    return Poll::Ready(
                        result.map(|r| r.map(|b| RecoverBody::new(b, this.uri.clone()))),
                    );
                }
                Err(panic) => panic,
            },
            None => match this.panic.take() {
                Some(panic) => panic,
                None => return Poll::Pending,
            },
        };
        Poll::Ready(Ok(answer_panic(this.uri.path(), panic.as_ref())))
    }
}

/// Records the panic and answers INTERNAL.
fn answer_panic<ResB: Default>(path: &str, panic: &(dyn Any + Send)) -> Response<ResB> {
    record_panic(path, panic);
    tonic::Status::internal(INTERNAL_MESSAGE).into_http()
}

const INTERNAL_MESSAGE: &str = "internal error: the server failed on this call; see its logs";

/// Records the panic on the current span and in the log.
fn record_panic(path: &str, panic: &(dyn Any + Send)) {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-string payload".to_owned());
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    span.add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", "panic"),
            KeyValue::new("exception.message", message.clone()),
        ],
    );
    span.set_status(Status::error(format!("panic: {message}")));
    tracing::error!(method = path, panic = %message, "rpc handler panicked; answered INTERNAL");
}
