//! The gRPC client: go-zero's `zrpc.MustNewClient`, from an [`RpcClientConf`]. An
//! [`RpcClient`] is a cheap-to-clone tower service that generated tonic clients take
//! as their channel (`UserClient::new(client)`).
//!
//! Every call goes through these layers, outermost first: [`trace`] (CLIENT span,
//! context into the metadata), [`metrics`] (`rpc.client.call.duration`), [`breaker`]
//! (adaptive breaker per method), [`timeout`] (deadline, sent as `grpc-timeout`), then
//! [`balance`] (P2C, or consistent hashing on a request key, over the endpoints discovery
//! gives, followed live; over TLS when `Tls` is set).

pub mod balance;
pub mod breaker;
pub mod metrics;
pub mod timeout;
pub mod trace;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::{Request, Response};
use opentelemetry::global;
use opentelemetry::metrics::Meter;
use opentelemetry_sdk::trace::SdkTracer;
use pin_project_lite::pin_project;
use rzero_resilience::breaker::{BreakerConfig, BreakerSet};
use tonic::body::Body;
use tower::{BoxError, Service, ServiceBuilder};

use crate::conf::RpcClientConf;
use crate::discovery::{BadTarget, Discovery, Endpoints};
use crate::names;
use crate::tls::ClientTls;
use balance::{Balance, BalancerKind, ChannelSettings};

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The config names no usable target.
    #[error("rpc client: {0}")]
    Target(#[from] BadTarget),
    /// The `Tls` section names files that cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsConfError),
    /// The `Balancer` section is not usable.
    #[error("rpc client: {0}")]
    Balancer(String),
    /// `NonBlock: false` and no endpoint came in time.
    #[error(
        "rpc client for `{target}`: no endpoint within {waited:?} (NonBlock: false); \
         is a server registered, or are Endpoints right?"
    )]
    NoEndpoints {
        /// The target.
        target: String,
        /// How long the client waited.
        waited: Duration,
    },
}

/// A gRPC channel with rzero's client layers; clone it freely (clones share endpoints,
/// breakers and statistics).
///
/// A generated client is cloned for every request (axum's `State`, a service context),
/// so a clone must be cheap: the stack is held as its concrete type (no box to allocate
/// per clone, no boxed future per call), each layer keeps its shared state behind a
/// reference count, and what only the accessors read sits behind one `Arc`.
#[derive(Clone)]
pub struct RpcClient {
    service: Stack,
    shared: Arc<Shared>,
}

/// The layers of every call, outermost first (see the module doc).
type Stack = trace::Trace<metrics::Metrics<breaker::Breaker<timeout::Timeout<Balance>>>>;

/// What the clones of one client share beyond the stack.
struct Shared {
    balance: Balance,
    breakers: BreakerSet<String>,
    _follow: AbortOnDrop,
}

impl std::fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcClient")
            .field("balance", &self.shared.balance)
            .finish_non_exhaustive()
    }
}

/// Sets up an [`RpcClient`] beyond its config.
#[derive(Debug)]
pub struct RpcClientBuilder {
    conf: RpcClientConf,
    tracer: Option<SdkTracer>,
    /// Span attributes only for sampled spans (`TelemetryGuard::defer_span_attributes`;
    /// never for a tracer given alone, whose sampler is unknown).
    defer_span_attributes: bool,
    meter: Option<Meter>,
    breakers: Option<BreakerSet<String>>,
    endpoints: Option<Endpoints>,
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// === impl RpcClient ===

impl RpcClient {
    /// A client from `conf` that makes no spans of its own but passes the caller's
    /// trace on (use [`builder`](Self::builder) to give it a tracer).
    pub async fn new(conf: &RpcClientConf) -> Result<Self, ClientError> {
        Self::builder(conf.clone()).build().await
    }

    /// A builder for tracer, meter and breaker settings.
    pub fn builder(conf: RpcClientConf) -> RpcClientBuilder {
        RpcClientBuilder {
            conf,
            tracer: None,
            defer_span_attributes: false,
            meter: None,
            breakers: None,
            endpoints: None,
        }
    }

    /// The endpoints calls are balanced over now.
    pub fn endpoints(&self) -> Vec<String> {
        self.shared.balance.endpoints()
    }

    /// The balancer, for its statistics.
    pub fn balance(&self) -> &Balance {
        &self.shared.balance
    }

    /// The breakers, one per method path, for their history.
    pub fn breakers(&self) -> &BreakerSet<String> {
        &self.shared.breakers
    }
}

impl Service<Request<Body>> for RpcClient {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        ResponseFuture {
            inner: self.service.call(req),
        }
    }
}

pin_project! {
    /// The future of a call through an [`RpcClient`]: the layers' futures, unboxed, and
    /// the response's body boxed as tonic's `Body` at the end.
    pub struct ResponseFuture {
        #[pin]
        inner: <Stack as Service<Request<Body>>>::Future,
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = ready!(self.project().inner.poll(cx))?;
        Poll::Ready(Ok(response.map(Body::new)))
    }
}

// === impl RpcClientBuilder ===

impl RpcClientBuilder {
    /// Traces calls with `tracer` (from `TelemetryGuard::tracer`).
    pub fn tracer(mut self, tracer: SdkTracer) -> Self {
        self.tracer = Some(tracer);
        self.defer_span_attributes = false;
        self
    }

    /// Records metrics on `meter` (default: the global meter provider's).
    pub fn meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Traces and measures calls with the service's tracer and meter (what a service
    /// context builds its clients with).
    pub fn telemetry(self, guard: &rzero_telemetry::TelemetryGuard) -> Self {
        let mut builder = self.tracer(guard.tracer()).meter(guard.meter());
        builder.defer_span_attributes = guard.defer_span_attributes();
        builder
    }

    /// Uses these breakers (tests drive their clock; default: go-zero's settings).
    pub fn breakers(mut self, breakers: BreakerSet<String>) -> Self {
        self.breakers = Some(breakers);
        self
    }

    /// Takes endpoints from `endpoints` instead of the config's discovery.
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = Some(endpoints);
        self
    }

    /// Builds the client and starts following its endpoints.
    pub async fn build(self) -> Result<RpcClient, ClientError> {
        let conf = self.conf;
        let target = conf.target_name();
        let mut endpoints = match self.endpoints {
            Some(e) => e,
            None => Discovery::from_conf(&conf)?.watch(),
        };
        let tls = conf.tls.as_ref().map(ClientTls::from_conf).transpose()?;
        conf.balancer.validate().map_err(ClientError::Balancer)?;
        let mut balance = Balance::new(
            &target,
            ChannelSettings {
                keepalive: (!conf.keepalive_time.is_zero()).then_some(conf.keepalive_time),
                connect_timeout: Duration::from_secs(3),
                tls,
            },
        );
        if conf.balancer.kind == BalancerKind::ConsistentHash {
            let header = (!conf.balancer.hash_key.is_empty())
                .then(|| http::HeaderName::from_bytes(conf.balancer.hash_key.as_bytes()).ok())
                .flatten();
            balance = balance.consistent_hash(header, conf.balancer.replicas);
        }
        balance.set_endpoints(&endpoints.borrow_and_update());
        if !conf.non_block && balance.endpoints().is_empty() {
            let waited = conf.timeout.max(Duration::from_secs(3));
            let found = tokio::time::timeout(waited, endpoints.wait_for(|e| !e.is_empty())).await;
            match found {
                Ok(Ok(list)) => balance.set_endpoints(&list),
                _ => return Err(ClientError::NoEndpoints { target, waited }),
            }
        }
        let follow = {
            let balance = balance.clone();
            tokio::spawn(async move {
                while endpoints.changed().await.is_ok() {
                    let list = endpoints.borrow_and_update().clone();
                    balance.set_endpoints(&list);
                }
            })
        };

        let trace = match self.tracer {
            Some(tracer) => trace::TraceLayer::new(tracer, &target)
                .attributes_when_sampled(self.defer_span_attributes),
            None => trace::TraceLayer::propagate_only(),
        };
        let meter = self.meter.unwrap_or_else(|| global::meter(names::SCOPE));
        let breakers = self
            .breakers
            .unwrap_or_else(|| BreakerSet::new(BreakerConfig::default()));
        let stack = ServiceBuilder::new()
            .layer(trace)
            .layer(metrics::layer(&meter))
            .layer(breaker::BreakerLayer::new(breakers.clone(), &meter))
            .layer(timeout::TimeoutLayer::new(conf.timeout))
            .service(balance.clone());
        Ok(RpcClient {
            service: stack,
            shared: Arc::new(Shared {
                balance,
                breakers,
                _follow: AbortOnDrop(follow),
            }),
        })
    }
}
