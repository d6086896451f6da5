//! `rpc.client.call.duration` (seconds) by `rpc.service`, `rpc.method` and
//! `rpc.grpc.status_code`, recorded when each call's status is known.

use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use opentelemetry::metrics::{Histogram, Meter};
use tower::{Layer, Service};

use crate::body::ObservedBody;
use crate::duration::{AttributeCache, Record, histogram};
use crate::names;

pub use crate::server::metrics::ResponseFuture;

/// Adds [`Metrics`] to a client.
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    duration: Histogram<f64>,
    attributes: AttributeCache,
}

impl MetricsLayer {
    /// Instruments on `meter`.
    pub fn new(meter: &Meter) -> Self {
        MetricsLayer {
            duration: histogram(
                meter,
                names::RPC_CLIENT_CALL_DURATION,
                "Duration of gRPC client calls.",
            ),
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

/// A client whose calls are timed.
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
            start: Instant::now(),
            attributes: self.attributes.get(req.uri().path()),
        };
        ResponseFuture::new(self.inner.call(req), record)
    }
}
