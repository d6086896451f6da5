//! One CLIENT span per call, child of the caller's current context, named
//! `package.Service/Method` with the RPC semantic conventions; its context is injected
//! into the request metadata (W3C `traceparent`, baggage) so the server continues the
//! trace. The span ends when the call's status is known and fails on any code but OK.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SdkTracer;
use pin_project_lite::pin_project;
use rzero_telemetry::propagation::HeaderInjector;
use tower::{Layer, Service};

use crate::body::{ObservedBody, observe};
use crate::duration::AttributeCache;
use crate::names;
use crate::span::SpanEnd;

/// Adds [`Trace`] to a client.
#[derive(Clone, Debug)]
pub struct TraceLayer {
    tracer: Option<SdkTracer>,
    server: Option<(Value, Option<i64>)>,
    attributes: AttributeCache,
    /// Attributes only on a sampled span (the sampler does not read them).
    lazy_attributes: bool,
}

impl TraceLayer {
    /// Traces with `tracer`; `target` names the server in `server.address`/`server.port`
    /// when it is one `host:port`.
    pub fn new(tracer: SdkTracer, target: &str) -> Self {
        let server = (!target.contains(',') && !target.is_empty()).then(|| {
            let target = target.rsplit('/').next().unwrap_or(target);
            match target.rsplit_once(':') {
                Some((host, port)) => match port.parse::<u16>() {
                    Ok(p) => (shared(host), Some(i64::from(p))),
                    Err(_) => (shared(target), None),
                },
                None => (shared(target), None),
            }
        });
        TraceLayer {
            tracer: Some(tracer),
            server,
            attributes: AttributeCache::default(),
            lazy_attributes: false,
        }
    }

    /// Makes no spans, but injects the caller's current context, so a trace passes
    /// through a client that records nothing.
    pub fn propagate_only() -> Self {
        TraceLayer {
            tracer: None,
            server: None,
            attributes: AttributeCache::default(),
            lazy_attributes: false,
        }
    }

    /// Builds a span's attributes only once it is sampled, right when the sampler does not
    /// read them (`TelemetryGuard::defer_span_attributes`): an unsampled call then
    /// pays for none. Off by default: a rule sampler decides on them.
    pub fn attributes_when_sampled(mut self, on: bool) -> Self {
        self.lazy_attributes = on;
        self
    }
}

/// A string value shared by every span (a clone is a reference count).
fn shared(s: &str) -> Value {
    Value::from(Arc::<str>::from(s))
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace {
            inner,
            layer: Arc::new(self.clone()),
        }
    }
}

/// A client whose calls each get a CLIENT span.
#[derive(Clone, Debug)]
pub struct Trace<S> {
    inner: S,
    /// Shared: the client is cloned once a request, and one count beats the tracer's,
    /// the server address's and the cache's.
    layer: Arc<TraceLayer>,
}

impl<S, B, ResB> Service<Request<B>> for Trace<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: std::fmt::Display,
{
    type Response = Response<ObservedBody<ResB, SpanEnd>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let parent = opentelemetry::Context::current();
        let cx = match &self.layer.tracer {
            Some(tracer) => {
                let method = self.layer.attributes.get(req.uri().path());
                let server = &self.layer.server;
                crate::span::start(
                    tracer,
                    &method,
                    SpanKind::Client,
                    parent,
                    self.layer.lazy_attributes,
                    |attributes| {
                        if let Some((address, port)) = server {
                            attributes.push(KeyValue::new(names::SERVER_ADDRESS, address.clone()));
                            if let Some(port) = port {
                                attributes.push(KeyValue::new(names::SERVER_PORT, *port));
                            }
                        }
                    },
                )
            }
            None => parent,
        };
        rzero_telemetry::propagation::inject(&cx, &mut HeaderInjector(req.headers_mut()));
        ResponseFuture {
            inner: self.inner.call(req),
            cx: Some(cx),
        }
    }
}

pin_project! {
    /// The future of a call through [`Trace`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        cx: Option<opentelemetry::Context>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: std::fmt::Display,
{
    type Output = Result<Response<ObservedBody<B, SpanEnd>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let Some(span_cx) = this.cx.take() else {
            return Poll::Pending;
        };
        Poll::Ready(match result {
            Ok(response) => Ok(observe(
                response,
                SpanEnd {
                    cx: span_cx,
                    server: false,
                },
            )),
            Err(e) => {
                let span = span_cx.span();
                span.set_attribute(KeyValue::new(
                    names::RPC_GRPC_STATUS_CODE,
                    tonic::Code::Unavailable as i64,
                ));
                span.set_attribute(KeyValue::new(names::ERROR_TYPE, "transport"));
                span.set_status(Status::error(e.to_string()));
                span.end();
                Err(e)
            }
        })
    }
}
