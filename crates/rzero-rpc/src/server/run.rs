//! Serving and the graceful stop.

use std::net::SocketAddr;

use futures_util::StreamExt;
use opentelemetry::global;
use rzero_resilience::shedder::{AdaptiveShedder, CpuSampler, CpuUsage, FixedCpu, ShedderConfig};
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
    #[error(
        "cannot start the CPU sampler for load shedding: {0}; set CpuThreshold: 0 to run without"
    )]
    CpuSampler(#[source] std::io::Error),
    /// A file descriptor set given for reflection is not valid.
    #[error("reflection: a file descriptor set is not valid: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// Registering in etcd failed at start.
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    /// The transport failed while serving.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

pub(super) async fn serve(
    server: RpcServer,
    listener: TcpListener,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let RpcServer {
        conf,
        mut routes,
        names: service_names,
        descriptors,
        tracer,
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

    // The sampler is this server's: started here, stopped when it stops.
    let mut sampler = None;
    let shedder_conf = ShedderConfig {
        cpu_threshold: conf.cpu_threshold,
        ..ShedderConfig::default()
    };
    let shedder = match (cpu, conf.cpu_threshold) {
        (Some(cpu), _) => AdaptiveShedder::new(shedder_conf, DynCpu(cpu)),
        (None, 0) => AdaptiveShedder::new(shedder_conf, FixedCpu::new(0)),
        (None, _) => {
            let s = CpuSampler::start().map_err(ServeError::CpuSampler)?;
            let usage = s.usage();
            sampler = Some(s);
            AdaptiveShedder::new(shedder_conf, usage)
        }
    };
    let trace = match tracer {
        Some(tracer) => TraceLayer::new(tracer).server_address(addr),
        // No tracer: no spans, but a caller's trace passes through to outgoing calls.
        None => TraceLayer::propagate_only(),
    };
    let meter = meter.unwrap_or_else(|| global::meter(names::SCOPE));
    let layers = ServiceBuilder::new()
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
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tonic::transport::Server::builder()
        .layer(layers)
        .add_routes(routes.routes())
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = drain_rx.await;
        });
    tokio::pin!(serving);
    tracing::info!(%addr, services = ?service_names, "rpc server listening");

    let result = tokio::select! {
        result = &mut serving => Some(result),
        () = shutdown => None,
    };
    let result = match result {
        Some(result) => result.map_err(ServeError::from),
        None => {
            let wrap_up = async {
                if let Some(r) = registration {
                    r.deregister().await;
                }
                set_all(&health, &service_names, ServingStatus::NotServing).await;
                tracing::info!(%addr, "rpc server draining: NOT_SERVING, deregistered");
                tokio::time::sleep(conf.shutdown.wrap_up_time).await;
            };
            tokio::select! {
                result = &mut serving => return finish(result.map_err(ServeError::from), sampler, telemetry).await,
                () = wrap_up => {}
            }
            let _ = drain_tx.send(());
            match tokio::time::timeout(conf.shutdown.wait_time, &mut serving).await {
                Ok(result) => result.map_err(ServeError::from),
                Err(_) => {
                    tracing::warn!(
                        %addr,
                        wait = ?conf.shutdown.wait_time,
                        "calls still in flight after Shutdown.WaitTime were dropped"
                    );
                    Ok(())
                }
            }
        }
    };
    finish(result, sampler, telemetry).await
}

async fn finish(
    result: Result<(), ServeError>,
    sampler: Option<CpuSampler>,
    telemetry: Option<rzero_telemetry::TelemetryGuard>,
) -> Result<(), ServeError> {
    if let Some(s) = sampler {
        s.stop();
    }
    if let Some(guard) = telemetry
        && let Err(e) = guard.shutdown().await
    {
        tracing::warn!("telemetry was not flushed in time: {e}");
    }
    result
}

/// A CPU reading given to the server as a trait object.
struct DynCpu(Box<dyn CpuUsage>);

impl CpuUsage for DynCpu {
    fn millicpu(&self) -> u64 {
        self.0.millicpu()
    }
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
