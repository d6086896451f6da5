//! Serving and the graceful stop.

use std::net::SocketAddr;

use futures_util::StreamExt;
use opentelemetry::global;
use rzero_resilience::shedder::{AdaptiveShedder, FixedCpu, ShedderConfig};
use rzero_service::per_thread::PerThreadLayer;
use rzero_service::{Lifecycle, StartError};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::ServiceBuilder;

use super::RpcServer;
use super::metrics::MetricsLayer;
use super::recover::RecoverLayer;
use super::shed::ShedLayer;
use super::timeout::TimeoutLayer;
use super::trace::TraceLayer;
use crate::discovery::etcd::{EtcdError, Registration};
use crate::names;

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `ListenOn` could not be bound.
    #[error(
        "cannot listen on `{addr}` (ListenOn): {source}; is the port free and the address this host's?"
    )]
    Bind {
        /// The address from `ListenOn`.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CPU sampler thread could not start.
    #[error(transparent)]
    CpuSampler(#[from] rzero_service::shedding::SamplerError),
    /// What runs beside the server (the Prometheus listener) could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A file descriptor set given for reflection is not valid.
    #[error("reflection: a file descriptor set is not valid: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// Registering in etcd failed at start.
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    /// The `Tls` section names files that cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsConfError),
    /// The transport failed while serving.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

pub(super) async fn serve(
    server: RpcServer,
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<tonic::transport::ServerTlsConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let RpcServer {
        conf,
        mut routes,
        names: service_names,
        descriptors,
        tracer,
        defer_span_attributes,
        meter,
        cpu,
        telemetry,
    } = server;

    let (health, health_service) = tonic_health::server::health_reporter();
    if conf.health {
        set_all(&health, &service_names, ServingStatus::Serving).await;
        routes.add_service(health_service);
    }
    let mut reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
    for d in descriptors {
        reflection = reflection.register_encoded_file_descriptor_set(d);
    }
    routes.add_service(reflection.build_v1()?);

    // The sampler is this server's: started here, stopped by its lifecycle.
    let mut life = Lifecycle::new(&conf.service);
    let shedder = match rzero_service::shedding::start(conf.cpu_threshold, cpu)? {
        Some(s) => {
            life.own_sampler(s.sampler);
            s.shedder
        }
        // CpuThreshold 0: a shedder that never sheds keeps one stack shape.
        None => AdaptiveShedder::new(ShedderConfig::default(), FixedCpu::new(0)),
    };
    let trace = match tracer {
        Some(tracer) => TraceLayer::new(tracer)
            .server_address(addr)
            .attributes_when_sampled(defer_span_attributes),
        // No tracer: no spans, but a caller's trace passes through to outgoing calls.
        None => TraceLayer::propagate_only(),
    };
    let meter = meter.unwrap_or_else(|| global::meter(names::SCOPE));
    let layers = ServiceBuilder::new()
        // hyper clones the connection's service for every call: one count, not five.
        .layer(PerThreadLayer)
        .layer(trace)
        .layer(MetricsLayer::new(&meter))
        .layer(ShedLayer::new(shedder, &meter))
        .layer(TimeoutLayer::new(conf.timeout))
        .layer(RecoverLayer)
        .into_inner();

    let registration = match &conf.etcd {
        Some(etcd) => Some(Registration::start(etcd, advertised(addr)).await?),
        None => None,
    };

    // Small RPCs wait for nothing: Nagle would hold answers back.
    let incoming = TcpListenerStream::new(listener).map(|conn| {
        if let Ok(c) = &conn {
            let _ = c.set_nodelay(true);
        }
        conn
    });
    if let Some(guard) = telemetry {
        life.telemetry(guard);
    }
    life.start().await?;
    let tls_on = tls.is_some();
    tracing::info!(%addr, services = ?service_names, tls = tls_on, "rpc server listening");
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        // Checked at bind: this cannot fail on the same config.
        builder = builder.tls_config(tls)?;
    }
    let router = builder.layer(layers).add_routes(routes.routes());
    let wrap_up = async {
        if let Some(r) = registration {
            r.deregister().await;
        }
        set_all(&health, &service_names, ServingStatus::NotServing).await;
        tracing::info!(%addr, "rpc server wrapping up: NOT_SERVING, deregistered");
    };
    life.run(
        |drain| async move {
            router
                .serve_with_incoming_shutdown(incoming, drain)
                .await
                .map_err(ServeError::from)
        },
        shutdown,
        wrap_up,
    )
    .await
}

async fn set_all(health: &HealthReporter, names: &[&'static str], status: ServingStatus) {
    health.set_service_status("", status).await;
    for name in names {
        health.set_service_status(*name, status).await;
    }
}

/// The address others reach this server at: the bound one, or for a wildcard bind
/// `POD_IP` (Kubernetes' downward API), else this host's name resolved.
fn advertised(addr: SocketAddr) -> String {
    if !addr.ip().is_unspecified() {
        return addr.to_string();
    }
    if let Ok(ip) = std::env::var("POD_IP")
        && let Ok(ip) = ip.trim().parse::<std::net::IpAddr>()
    {
        return SocketAddr::new(ip, addr.port()).to_string();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let resolved = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), addr.port()))
        .ok()
        .and_then(|mut all| all.find(|a| a.is_ipv4() && !a.ip().is_loopback()));
    match resolved {
        Some(a) => a.to_string(),
        None => SocketAddr::new([127, 0, 0, 1].into(), addr.port()).to_string(),
    }
}
