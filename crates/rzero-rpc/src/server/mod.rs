//! The gRPC server: go-zero's `zrpc.MustNewServer` + `s.Start()`, from an
//! [`RpcServerConf`], with no global state.
//!
//! Every call goes through these layers, outermost first: [`trace`] (SERVER span),
//! [`metrics`] (`rpc.server.call.duration`), [`shed`] (adaptive load shedding),
//! [`timeout`] (deadline), [`recover`] (panics become INTERNAL), then tonic's router.
//! `grpc.health.v1` and server reflection (v1) are served beside the services, over TLS
//! (and mTLS) when `Tls` is set (see [`crate::tls`]).
//!
//! A stop signal runs go-zero's shutdown, the [`rzero_service::Lifecycle`] the rest
//! server runs too: leave etcd and report NOT_SERVING, keep serving for
//! `Shutdown.WrapUpTime` so callers and probes notice, stop accepting and drain the calls
//! in flight for at most `Shutdown.WaitTime`, stop the CPU sampler and the Prometheus
//! listener, and flush telemetry (when the server was given the guard).
//!
//! Layout: `mod.rs` the builder, `run.rs` serving and shutdown, one folder per layer.

pub mod metrics;
pub mod recover;
mod run;
pub mod shed;
pub mod timeout;
pub mod trace;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response};
use opentelemetry::metrics::Meter;
use opentelemetry_sdk::trace::SdkTracer;
use rzero_resilience::shedder::CpuUsage;
use rzero_telemetry::TelemetryGuard;
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tower::Service;

pub use run::ServeError;

use crate::conf::RpcServerConf;

/// An RPC server being put together: its config and services.
pub struct RpcServer {
    conf: RpcServerConf,
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    descriptors: Vec<&'static [u8]>,
    tracer: Option<SdkTracer>,
    /// Span attributes only for sampled spans (`TelemetryGuard::defer_span_attributes`;
    /// never for a tracer given alone, whose sampler is unknown).
    defer_span_attributes: bool,
    meter: Option<Meter>,
    cpu: Option<Arc<dyn CpuUsage>>,
    telemetry: Option<TelemetryGuard>,
}

impl std::fmt::Debug for RpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcServer")
            .field("conf", &self.conf)
            .field("services", &self.names)
            .finish_non_exhaustive()
    }
}

/// A server whose socket is bound: its address is known, calls are accepted once
/// [`serve`](Self::serve) runs.
#[derive(Debug)]
pub struct BoundServer {
    server: RpcServer,
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<tonic::transport::ServerTlsConfig>,
}

// === impl RpcServer ===

impl RpcServer {
    /// A server with no service yet.
    pub fn new(conf: RpcServerConf) -> Self {
        RpcServer {
            conf,
            routes: RoutesBuilder::default(),
            names: Vec::new(),
            descriptors: Vec::new(),
            tracer: None,
            defer_span_attributes: false,
            meter: None,
            cpu: None,
            telemetry: None,
        }
    }

    /// Serves a tonic service (a generated `XxxServer::new(impl)`).
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Describes the services' protos to reflection: the bytes of a descriptor set, as
    /// `tonic_prost_build`'s `file_descriptor_set_path` writes them.
    pub fn file_descriptor_set(mut self, encoded: &'static [u8]) -> Self {
        self.descriptors.push(encoded);
        self
    }

    /// Traces calls with `tracer`. Without one (and without [`telemetry`](Self::telemetry))
    /// calls get no spans, but a caller's trace still reaches the handler's own calls.
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

    /// Traces and measures calls with the tracer and meter of a guard another server
    /// holds (a gateway serving gRPC in the same process): as
    /// [`telemetry`](Self::telemetry), span attributes only for sampled spans when the
    /// guard's sampler allows it, but the guard is not flushed here.
    pub fn telemetry_of(mut self, guard: &TelemetryGuard) -> Self {
        self.tracer = Some(guard.tracer());
        self.defer_span_attributes = guard.defer_span_attributes();
        self.meter = Some(guard.meter());
        self
    }

    /// Takes the telemetry guard `main` started: its tracer and meter trace and measure
    /// every call, its Prometheus renderer serves the `Prometheus` section, and the server
    /// flushes it as the last step of a graceful stop.
    pub fn telemetry(mut self, guard: TelemetryGuard) -> Self {
        self.tracer = Some(guard.tracer());
        self.defer_span_attributes = guard.defer_span_attributes();
        self.meter = Some(guard.meter());
        self.telemetry = Some(guard);
        self
    }

    /// Reads CPU usage from `cpu` instead of sampling the process's cgroup (tests force
    /// overload this way).
    pub fn cpu(mut self, cpu: impl CpuUsage) -> Self {
        self.cpu = Some(Arc::new(cpu));
        self
    }

    /// Binds `ListenOn` and serves until SIGTERM or SIGINT, then stops gracefully (see
    /// the module doc): what a service's `main` runs.
    pub async fn serve(self) -> Result<(), ServeError> {
        self.bind()
            .await?
            .serve(rzero_telemetry::shutdown_signal())
            .await
    }

    /// Binds `ListenOn` (tests bind port 0 and read the address before serving). The
    /// `Tls` files are read here: a bad one fails the start before anything listens.
    pub async fn bind(self) -> Result<BoundServer, ServeError> {
        let tls = self
            .conf
            .tls
            .as_ref()
            .map(crate::tls::server_tls)
            .transpose()?;
        let listen_on = self.conf.listen_on.clone();
        let listener = TcpListener::bind(&listen_on)
            .await
            .map_err(|source| ServeError::Bind {
                addr: listen_on.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: listen_on,
            source,
        })?;
        Ok(BoundServer {
            server: self,
            listener,
            addr,
            tls,
        })
    }
}

// === impl BoundServer ===

impl BoundServer {
    /// The address the server listens on (with the real port when `ListenOn` said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then stops gracefully (see the module doc).
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        run::serve(self.server, self.listener, self.addr, self.tls, shutdown).await
    }
}
