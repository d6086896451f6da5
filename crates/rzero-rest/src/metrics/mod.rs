//! Request metrics by the stable HTTP semantic conventions: the
//! `http.server.request.duration` histogram (seconds) by method, route and status, and the
//! `http.server.active_requests` gauge by method. Exported wherever the meter provider
//! sends them (OTLP, and the Prometheus endpoint of rzero-telemetry).
//!
//! Each service this layer makes (one per route and method, as the server applies it)
//! binds its instruments to the attribute sets it meets, once each (see `crate::slots`): a
//! request then records without building, sorting or hashing an attribute set.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::MatchedPath;
use http::{Method, Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundHistogram, BoundUpDownCounter, Histogram, Meter, UpDownCounter};
use opentelemetry_semantic_conventions::attribute as semconv;
use opentelemetry_semantic_conventions::metric;
use pin_project_lite::pin_project;
use rzero_resilience::clock::{call_time, end_time};
use tower::{Layer, Service};

use crate::slots::Slots;

/// Bucket bounds (seconds) the semantic conventions recommend for request durations.
const DURATION_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The status key of a request whose service failed instead of answering.
const FAILED: u16 = 0;

/// Adds [`Metrics`] to services; the instruments are made once, here.
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
}

impl MetricsLayer {
    /// Instruments on `meter` (e.g. `opentelemetry::global::meter("rzero")`).
    pub fn new(meter: &Meter) -> Self {
        MetricsLayer {
            duration: meter
                .f64_histogram(metric::HTTP_SERVER_REQUEST_DURATION)
                .with_unit("s")
                .with_description("Duration of HTTP server requests.")
                .with_boundaries(DURATION_BOUNDS.to_vec())
                .build(),
            active: meter
                .i64_up_down_counter(metric::HTTP_SERVER_ACTIVE_REQUESTS)
                .with_unit("{request}")
                .with_description("Number of active HTTP server requests.")
                .build(),
        }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metrics {
            inner,
            shared: Arc::new(Shared {
                duration: self.duration.clone(),
                active: self.active.clone(),
                routes: Slots::default(),
            }),
        }
    }
}

/// A service whose requests are counted and timed.
#[derive(Clone)]
pub struct Metrics<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Metrics<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("inner", &self.inner)
            .finish()
    }
}

/// The instruments, and what this service bound of them.
struct Shared {
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
    /// By method and route: one pair behind the server's per-route stacks, a few behind
    /// a fallback (any method, no route) or a layer around a whole router.
    routes: Slots<(Method, Option<Box<str>>), Bound>,
}

/// The instruments bound for one method and route.
struct Bound {
    active: BoundUpDownCounter<i64>,
    /// `http.request.method` and, when a route matched, `http.route`.
    attributes: Vec<KeyValue>,
    /// The duration histogram by status (or [`FAILED`]).
    by_status: Slots<u16, BoundHistogram<f64>>,
}

impl<S, B, ResB> Service<Request<B>> for Metrics<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let key = self.shared.bound(req.method(), route);
        match &key {
            Key::Bound(i) => {
                if let Some(b) = self.shared.routes.at(*i) {
                    b.active.add(1);
                }
            }
            Key::Unbound(attributes) => self.shared.active.add(1, &attributes[..1]),
        }
        ResponseFuture {
            inner: self.inner.call(req),
            shared: self.shared.clone(),
            start: call_time(),
            key: Some(key),
        }
    }
}

/// Where a request's measurements go.
enum Key {
    /// To the bound instruments in slot `i` of `routes`.
    Bound(usize),
    /// Through the unbound instruments with these attributes (method first): every slot
    /// holds another method and route.
    Unbound(Vec<KeyValue>),
}

// === impl Shared ===

impl Shared {
    fn bound(&self, method: &Method, route: Option<&str>) -> Key {
        let found = self.routes.get_or_make(
            |(m, r)| m == method && r.as_deref() == route,
            || {
                let attributes = attributes(method, route);
                let bound = Bound {
                    active: self.active.bind(&attributes[..1]),
                    attributes,
                    by_status: Slots::default(),
                };
                ((method.clone(), route.map(Box::from)), bound)
            },
        );
        match found {
            Some((i, _)) => Key::Bound(i),
            None => Key::Unbound(attributes(method, route)),
        }
    }

    /// The request is over: leaves the gauge and, when `status` is known, records.
    fn end(&self, key: Key, status: Option<u16>, secs: f64) {
        match key {
            Key::Bound(i) => {
                let Some(b) = self.routes.at(i) else { return };
                b.active.add(-1);
                let Some(status) = status else { return };
                let bound = b.by_status.get_or_make(
                    |s| *s == status,
                    || {
                        (
                            status,
                            self.duration.bind(&with_status(&b.attributes, status)),
                        )
                    },
                );
                match bound {
                    Some((_, h)) => h.record(secs),
                    None => self
                        .duration
                        .record(secs, &with_status(&b.attributes, status)),
                }
            }
            Key::Unbound(attributes) => {
                self.active.add(-1, &attributes[..1]);
                if let Some(status) = status {
                    self.duration
                        .record(secs, &with_status(&attributes, status));
                }
            }
        }
    }
}

/// `http.request.method`, then `http.route` when a route matched.
fn attributes(method: &Method, route: Option<&str>) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(2);
    attributes.push(KeyValue::new(
        semconv::HTTP_REQUEST_METHOD,
        method.as_str().to_owned(),
    ));
    if let Some(route) = route {
        attributes.push(KeyValue::new(semconv::HTTP_ROUTE, route.to_owned()));
    }
    attributes
}

/// The duration's attributes: method and route, then the status (and `error.type` for a
/// 5xx), or `error.type=_OTHER` when the service failed instead of answering.
fn with_status(base: &[KeyValue], status: u16) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(base.len() + 2);
    attributes.extend_from_slice(base);
    if status == FAILED {
        attributes.push(KeyValue::new(semconv::ERROR_TYPE, "_OTHER"));
        return attributes;
    }
    attributes.push(KeyValue::new(
        semconv::HTTP_RESPONSE_STATUS_CODE,
        i64::from(status),
    ));
    if (500..600).contains(&status) {
        attributes.push(KeyValue::new(semconv::ERROR_TYPE, status.to_string()));
    }
    attributes
}

pin_project! {
    /// The future of a request through [`Metrics`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        shared: Arc<Shared>,
        start: Instant,
        key: Option<Key>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // A request dropped before answering (client gone) still leaves the gauge.
            let this = this.project();
            if let Some(key) = this.key.take() {
                this.shared.end(key, None, 0.0);
            }
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some(key) = this.key.take() {
            let status = match &result {
                Ok(resp) => resp.status().as_u16(),
                Err(_) => FAILED,
            };
            let secs = end_time()
                .saturating_duration_since(*this.start)
                .as_secs_f64();
            this.shared.end(key, Some(status), secs);
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests;
