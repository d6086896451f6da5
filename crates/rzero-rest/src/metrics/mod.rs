//! Request metrics by the stable HTTP semantic conventions: the
//! `http.server.request.duration` histogram (seconds) by method, route and status, and the
//! `http.server.active_requests` gauge by method. Exported wherever the meter provider
//! sends them (OTLP, and the Prometheus endpoint of rzero-telemetry).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::MatchedPath;
use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter, UpDownCounter};
use opentelemetry_semantic_conventions::attribute as semconv;
use opentelemetry_semantic_conventions::metric;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// Bucket bounds (seconds) the semantic conventions recommend for request durations.
const DURATION_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

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
            layer: self.clone(),
        }
    }
}

/// A service whose requests are counted and timed.
#[derive(Clone, Debug)]
pub struct Metrics<S> {
    inner: S,
    layer: MetricsLayer,
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
        let method = KeyValue::new(
            semconv::HTTP_REQUEST_METHOD,
            req.method().as_str().to_owned(),
        );
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(|m| KeyValue::new(semconv::HTTP_ROUTE, m.as_str().to_owned()));
        self.layer.active.add(1, std::slice::from_ref(&method));
        ResponseFuture {
            inner: self.inner.call(req),
            layer: self.layer.clone(),
            start: Instant::now(),
            method: Some(method),
            route,
        }
    }
}

pin_project! {
    /// The future of a request through [`Metrics`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        layer: MetricsLayer,
        start: Instant,
        method: Option<KeyValue>,
        route: Option<KeyValue>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // A request dropped before answering (client gone) still leaves the gauge.
            let this = this.project();
            if let Some(method) = this.method.take() {
                this.layer.active.add(-1, &[method]);
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
        if let Some(method) = this.method.take() {
            this.layer.active.add(-1, std::slice::from_ref(&method));
            let mut attrs = Vec::with_capacity(4);
            attrs.push(method);
            attrs.extend(this.route.take());
            match &result {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    attrs.push(KeyValue::new(
                        semconv::HTTP_RESPONSE_STATUS_CODE,
                        i64::from(status),
                    ));
                    if resp.status().is_server_error() {
                        attrs.push(KeyValue::new(semconv::ERROR_TYPE, status.to_string()));
                    }
                }
                Err(_) => attrs.push(KeyValue::new(semconv::ERROR_TYPE, "_OTHER")),
            }
            this.layer
                .duration
                .record(this.start.elapsed().as_secs_f64(), &attrs);
        }
        Poll::Ready(result)
    }
}
