//! `rpc.server.call.duration` (seconds) by `rpc.service`, `rpc.method` and
//! `rpc.grpc.status_code`, recorded when each call's status is known (after the last
//! message of a stream). Exported wherever the meter provider sends metrics.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use opentelemetry::metrics::{Histogram, Meter};
use pin_project_lite::pin_project;
use rzero_resilience::clock::call_time;
use tower::{Layer, Service};

use crate::body::{ObservedBody, observe};
use crate::duration::{AttributeCache, Record, histogram};
use crate::names;

/// Adds [`Metrics`] to services; the histogram is made once, here.
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    duration: Histogram<f64>,
    attributes: AttributeCache,
}

impl MetricsLayer {
    /// Instruments on `meter` (e.g. `opentelemetry::global::meter("rzero-rpc")`).
    pub fn new(meter: &Meter) -> Self {
        Self::recording_to(histogram(
            meter,
            names::RPC_SERVER_CALL_DURATION,
            "Duration of gRPC server calls.",
        ))
    }

    /// Times calls into `duration`; the client's layer is this one with its histogram.
    pub(crate) fn recording_to(duration: Histogram<f64>) -> Self {
        MetricsLayer {
            duration,
            attributes: AttributeCache::default(),
        }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metrics {
            inner,
            duration: self.duration.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

/// A service whose calls are timed.
#[derive(Clone, Debug)]
pub struct Metrics<S> {
    inner: S,
    duration: Histogram<f64>,
    attributes: AttributeCache,
}

impl<S, B, ResB> Service<Request<B>> for Metrics<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ObservedBody<ResB, Record>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let record = Record {
            histogram: self.duration.clone(),
            start: call_time(),
            attributes: self.attributes.get(req.uri().path()),
        };
        ResponseFuture::new(self.inner.call(req), record)
    }
}

pin_project! {
    /// The future of a call through [`Metrics`] (also the client's).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        record: Option<Record>,
    }
}

impl<F> ResponseFuture<F> {
    fn new(inner: F, record: Record) -> Self {
        ResponseFuture {
            inner,
            record: Some(record),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ObservedBody<B, Record>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let Some(record) = this.record.take() else {
            return Poll::Pending;
        };
        Poll::Ready(match result {
            Ok(response) => Ok(observe(response, record)),
            Err(e) => {
                crate::body::OnEnd::on_end(record, Some(tonic::Code::Unavailable));
                Err(e)
            }
        })
    }
}
