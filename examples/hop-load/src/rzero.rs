//! `rzero` modes: rzero's `Server` with its default middleware (tracing, access log,
//! metrics, MaxConns, shedding, breaker, timeout, recover, MaxBytes), its `RpcClient`
//! (tracing, metrics, breaker, timeout, P2C) and its `RpcServer` with the default
//! interceptors (tracing, metrics, shedding, timeout, recover), on one telemetry setup
//! exporting to `OTEL_EXPORTER_OTLP_ENDPOINT`. `RZERO_SAMPLER` is the sampling ratio
//! (default 1.0; `0` keeps every layer and the exporter and records no trace).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use rzero_rest::{Error, RestConf, Route, Server, State};
use rzero_rpc::{RpcClient, RpcClientConf, RpcServer, RpcServerConf, ServiceConf};
use rzero_telemetry::{LogConf, TelemetryConf};

use crate::pb::echo_client::EchoClient;
use crate::pb::echo_server::EchoServer;
use crate::{BoxError, Echo, Hop};

const NAME: &str = "hop-load";

/// Serves `GET /hop` on `http` calling the `RpcServer` on `grpc`, until SIGINT or
/// SIGTERM; the REST server holds the telemetry guard and flushes it last.
pub(crate) async fn hop(http: &str, grpc: SocketAddr) -> Result<(), BoxError> {
    let (host, port) = http
        .rsplit_once(':')
        .ok_or("HTTP address: expected host:port")?;
    let conf = RestConf {
        host: host.into(),
        port: port.parse()?,
        service: service()?,
        ..RestConf::default()
    };
    let guard = conf.service.init_telemetry("0.0.0")?;

    // The guard's settings as a server of its own would take them (`.telemetry(guard)`),
    // the attribute deferral at low sampling included; the REST server flushes it.
    let rpc = RpcServer::new(rpc_conf(grpc, ServiceConf::default()))
        .telemetry_of(&guard)
        .add_service(EchoServer::new(Echo))
        .bind()
        .await?;
    let rpc = tokio::spawn(rpc.serve(rzero_telemetry::shutdown_signal()));

    let channel = RpcClient::builder(RpcClientConf {
        endpoints: vec![grpc.to_string()],
        ..RpcClientConf::default()
    })
    .telemetry(&guard)
    .build()
    .await?;
    Server::with_state(conf, EchoClient::new(channel))
        .telemetry(guard)
        .route(Route::get("/hop", call))
        .serve()
        .await?;
    rpc.await??;
    Ok(())
}

/// Serves `echo.Echo` on `grpc` with the default interceptors until SIGINT or SIGTERM,
/// flushing telemetry last.
pub(crate) async fn echo(grpc: SocketAddr) -> Result<(), BoxError> {
    let conf = rpc_conf(grpc, service()?);
    let guard = conf.service.init_telemetry("0.0.0")?;
    RpcServer::new(conf)
        .telemetry(guard)
        .add_service(EchoServer::new(Echo))
        .serve()
        .await?;
    Ok(())
}

async fn call(State(mut client): State<EchoClient<RpcClient>>) -> Result<Json<Hop>, Error> {
    let reply = client
        .say(crate::request())
        .await
        .map_err(|s| Error::from_grpc_code(s.code() as i32, s.message().to_owned()))?;
    Ok(Json(Hop {
        message: reply.into_inner().message,
    }))
}

/// The service section: the name, telemetry at `RZERO_SAMPLER`, logs at `RZERO_LOG_LEVEL`
/// (default `warn`, as rest-load: the access log runs and its info lines are filtered),
/// no wrap-up time on shutdown (the harness stops servers between rounds).
fn service() -> Result<ServiceConf, BoxError> {
    let sampler = match std::env::var("RZERO_SAMPLER") {
        Ok(v) => v
            .parse()
            .map_err(|e| format!("RZERO_SAMPLER `{v}`: expected 0.0 to 1.0 ({e})"))?,
        Err(_) => 1.0,
    };
    let mut service = ServiceConf {
        name: NAME.into(),
        telemetry: Some(TelemetryConf {
            sampler,
            ..TelemetryConf::default()
        }),
        log: LogConf {
            level: std::env::var("RZERO_LOG_LEVEL").unwrap_or_else(|_| "warn".into()),
            ..LogConf::default()
        },
        ..ServiceConf::default()
    };
    service.shutdown.wrap_up_time = Duration::ZERO;
    Ok(service)
}

fn rpc_conf(grpc: SocketAddr, mut service: ServiceConf) -> RpcServerConf {
    if service.name.is_empty() {
        service.name = NAME.into();
    }
    service.shutdown.wrap_up_time = Duration::ZERO;
    RpcServerConf {
        service,
        listen_on: grpc.to_string(),
        ..RpcServerConf::default()
    }
}
