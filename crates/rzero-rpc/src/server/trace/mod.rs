//! One SERVER span per call, named `package.Service/Method`, with the caller's W3C
//! context (read from the request metadata, which are HTTP/2 headers) as parent and the
//! RPC semantic conventions: `rpc.system=grpc`, `rpc.service`, `rpc.method`,
//! `rpc.grpc.status_code`, `server.address`, `server.port`.
//!
//! The span ends when the call's status is known, which for a success is the trailers
//! after the last message, so streaming calls are traced from first byte to last. Its
//! context is current while the handler runs (and while a streaming body is polled), so
//! the handler's spans and its outgoing client calls land under it. As in rzero-rest,
//! the SDK tracer is used directly: no `tracing` bridge on the hot path.

mod future;

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SdkTracer;
use tower::{Layer, Service};

pub use future::ResponseFuture;

use crate::duration::AttributeCache;
use crate::names;

/// Adds [`Trace`] to services.
#[derive(Clone, Debug)]
pub struct TraceLayer {
    tracer: Option<SdkTracer>,
    local: Option<(Value, i64)>,
    attributes: AttributeCache,
    /// Attributes only on a sampled span (the sampler does not read them).
    lazy_attributes: bool,
}

impl TraceLayer {
    /// Traces with `tracer` (from `TelemetryGuard::tracer`).
    pub fn new(tracer: SdkTracer) -> Self {
        TraceLayer {
            tracer: Some(tracer),
            local: None,
            attributes: AttributeCache::default(),
            lazy_attributes: false,
        }
    }

    /// Makes no spans, but makes the caller's context current in the handler, so its
    /// outgoing calls continue the caller's trace.
    pub fn propagate_only() -> Self {
        TraceLayer {
            tracer: None,
            local: None,
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

    /// Records `server.address` and `server.port` of the listening socket.
    pub fn server_address(mut self, addr: std::net::SocketAddr) -> Self {
        let ip: Arc<str> = addr.ip().to_string().into();
        self.local = Some((Value::from(ip), i64::from(addr.port())));
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service whose calls each get a SERVER span.
#[derive(Clone, Debug)]
pub struct Trace<S> {
    inner: S,
    layer: TraceLayer,
}

impl<S, B, ResB> Service<Request<B>> for Trace<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<crate::body::ObservedBody<ResB, crate::span::SpanEnd>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let parent = rzero_telemetry::propagation::extract_from_headers(
            &opentelemetry::Context::current(),
            req.headers(),
        );
        let cx = match &self.layer.tracer {
            Some(tracer) => {
                let method = self.layer.attributes.get(req.uri().path());
                let local = &self.layer.local;
                crate::span::start(
                    tracer,
                    &method,
                    SpanKind::Server,
                    parent,
                    self.layer.lazy_attributes,
                    |attributes| {
                        if let Some((address, port)) = local {
                            attributes.push(KeyValue::new(names::SERVER_ADDRESS, address.clone()));
                            attributes.push(KeyValue::new(names::SERVER_PORT, *port));
                        }
                    },
                )
            }
            // The caller's span is remote and not recording: ending it does nothing.
            None => parent,
        };
        let inner = {
            let _guard = cx.clone().attach();
            self.inner.call(req)
        };
        ResponseFuture::new(inner, cx)
    }
}
