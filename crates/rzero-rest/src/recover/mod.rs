//! A panic in a handler becomes a 500 answer with a JSON body, recorded on the current span
//! (an `exception` event and status Error) and logged; the connection and the server live
//! on. go-zero's `RecoverHandler`.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use futures_util::future::{CatchUnwind, FutureExt};
use http::{HeaderValue, Request, Response, StatusCode, header};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// Adds [`Recover`] to services.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecoverLayer;

impl<S> Layer<S> for RecoverLayer {
    type Service = Recover<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Recover { inner }
    }
}

/// A service whose panics become 500 answers.
#[derive(Clone, Debug)]
pub struct Recover<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for Recover<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // A handler may panic while its future is made, not only while it runs.
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req))) {
            Ok(future) => ResponseFuture {
                inner: Some(AssertUnwindSafe(future).catch_unwind()),
                early: None,
            },
            Err(panic) => ResponseFuture {
                inner: None,
                early: Some(panic_response(panic.as_ref())),
            },
        }
    }
}

pin_project! {
    /// The future of a request through [`Recover`].
    pub struct ResponseFuture<F> {
        // The handler's future, or `None` when it panicked before returning one.
        #[pin]
        inner: Option<CatchUnwind<AssertUnwindSafe<F>>>,
        early: Option<Response<Body>>,
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) => match ready!(inner.poll(cx)) {
                Ok(result) => Poll::Ready(result),
                Err(panic) => Poll::Ready(Ok(panic_response(panic.as_ref()))),
            },
            None => Poll::Ready(Ok(this
                .early
                .take()
                .unwrap_or_else(|| panic_response(&"polled after completion")))),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Records the panic on the current span, logs it, and answers 500.
fn panic_response(panic: &(dyn Any + Send)) -> Response<Body> {
    let message = panic_message(panic);
    let trace_id = opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        span.add_event(
            "exception",
            vec![
                KeyValue::new("exception.type", "panic"),
                KeyValue::new("exception.message", message.clone()),
            ],
        );
        span.set_attribute(KeyValue::new("error.type", "panic"));
        span.set_status(Status::error(format!("handler panicked: {message}")));
        let sc = span.span_context();
        sc.is_valid().then(|| sc.trace_id().to_string())
    });
    tracing::error!(panic = %message, trace_id = trace_id.as_deref().unwrap_or(""), "handler panicked; answered 500");
    let msg = match &trace_id {
        Some(id) => format!(
            "internal error: the request could not be completed; it was logged with trace id {id}"
        ),
        None => "internal error: the request could not be completed; it was logged".to_owned(),
    };
    let body = serde_json::json!({ "code": 500, "msg": msg }).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
