//! A route's handler as the innermost service of its middleware stack, without axum's
//! `Route` around it.
//!
//! `MethodRouter::layer` wraps a handler that is already a `Route` (a boxed, cloneable
//! service) and boxes the layered stack into a second `Route`. A `Route` is cloned (a
//! heap allocation) and its future boxed on every request, so the stack paid that twice.
//! An [`Endpoint`] is the handler behind an `Arc`: cloning it is a count, and calling it
//! hands on the future the handler already boxes (axum's function handlers return
//! `Pin<Box<dyn Future>>`), so only the outer `Route` remains (callgrind: two
//! allocations and their frees fewer per request).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::handler::Handler;
use axum::response::Response;
use futures_util::future::BoxFuture;

type Call = dyn Fn(Request) -> BoxFuture<'static, Response> + Send + Sync;

/// `handler` with its `state`, as a `tower::Service`.
#[derive(Clone)]
pub(crate) struct Endpoint(Arc<Call>);

impl Endpoint {
    pub(crate) fn new<H, T, S>(handler: H, state: S) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
        S: Clone + Send + Sync + 'static,
    {
        Endpoint(Arc::new(move |req| {
            boxed(handler.clone().call(req, state.clone()))
        }))
    }

    /// A `MethodRouter` (a route under a group's own layers) as an endpoint: its future
    /// is boxed once more, as `Route` did.
    pub(crate) fn from_router(router: axum::routing::MethodRouter) -> Self {
        use tower::ServiceExt;
        Endpoint(Arc::new(move |req| {
            let call = router.clone().oneshot(req);
            Box::pin(async move {
                match call.await {
                    Ok(resp) => resp,
                    Err(never) => match never {},
                }
            })
        }))
    }
}

/// `f` as a boxed future: moved as it is when it already is one (the case of every
/// function handler), boxed otherwise. The check is on types, settled at compile time.
fn boxed<F>(f: F) -> BoxFuture<'static, Response>
where
    F: Future<Output = Response> + Send + 'static,
{
    let mut slot = Some(f);
    if let Some(b) =
        (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<BoxFuture<'static, Response>>>()
        && let Some(b) = b.take()
    {
        return b;
    }
    match slot {
        Some(f) => Box::pin(f),
        // Taken only when it was already a box, returned above.
        None => Box::pin(std::future::ready(Response::default())),
    }
}

impl tower::Service<Request> for Endpoint {
    type Response = Response;
    type Error = Infallible;
    type Future = EndpointFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> EndpointFuture {
        EndpointFuture((self.0)(req))
    }
}

/// The handler's future, answering `Ok`.
pub(crate) struct EndpointFuture(BoxFuture<'static, Response>);

impl Future for EndpointFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let resp = std::task::ready!(self.0.as_mut().poll(cx));
        // The user's code is done for this request: the layers around, which finish in
        // this same poll, may share one clock reading for their ends.
        rzero_resilience::clock::answered();
        Poll::Ready(Ok(resp))
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::State;
    use axum::response::IntoResponse;
    use http::StatusCode;
    use tower::ServiceExt;

    use super::{Endpoint, boxed};

    #[tokio::test]
    async fn the_handler_runs_with_its_state_and_extractors() {
        async fn h(State(n): State<u32>, body: String) -> (StatusCode, String) {
            (StatusCode::ACCEPTED, format!("{n}:{body}"))
        }
        let e = Endpoint::new(h, 7u32);
        for _ in 0..2 {
            let req = http::Request::post("/")
                .body(Body::from("x"))
                .unwrap_or_default();
            let resp = e.clone().oneshot(req).await.unwrap_or_default();
            assert_eq!(resp.status(), StatusCode::ACCEPTED);
            let bytes = axum::body::to_bytes(resp.into_body(), 64)
                .await
                .unwrap_or_default();
            assert_eq!(&bytes[..], b"7:x");
        }
    }

    #[tokio::test]
    async fn a_future_that_is_not_a_box_is_boxed() {
        let resp = boxed(async { (StatusCode::IM_A_TEAPOT, "tea").into_response() }).await;
        assert_eq!(resp.status(), StatusCode::IM_A_TEAPOT);
    }
}
