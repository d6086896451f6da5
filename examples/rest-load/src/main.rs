//! The load target of `cargo xtask load`: one JSON hello route, served by plain axum, by
//! rzero's `Server` with every middleware switched off (`off`), or by rzero's `Server`
//! with its defaults (`rzero`: tracing at 100% exported over OTLP to
//! `OTEL_EXPORTER_OTLP_ENDPOINT`, access log, metrics, MaxConns, shedding, breaker,
//! timeout, recover, MaxBytes), or by the hand-written tracing glue (`glue`: axum,
//! tower-http's `TraceLayer`, tracing-opentelemetry, the OTLP batch exporter; see
//! [`glue`]).
//!
//! ```text
//! rest-load plain 127.0.0.1:9001
//! rest-load off 127.0.0.1:9002
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 rest-load rzero 127.0.0.1:9003
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 rest-load glue 127.0.0.1:9004
//! ```
//!
//! `RZERO_LOG_LEVEL` sets the log level of `rzero` mode (default `warn`: the access log
//! middleware runs and its info lines are filtered, as a busy gateway is usually set up;
//! `info` writes every line to stdout). `RZERO_SAMPLER` sets its sampling ratio (default
//! 1.0; `0` keeps every middleware and the exporter, and records no trace).

mod glue;

use std::time::Duration;

use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use rzero::telemetry::{LogConf, TelemetryConf};
use rzero_rest::{MiddlewaresConf, RestConf, Route, Server};
use serde::Serialize;

#[derive(Serialize)]
struct Hello {
    message: &'static str,
}

pub(crate) async fn hello() -> Json<Hello> {
    Json(Hello { message: "hello" })
}

fn conf(addr: &str) -> Result<RestConf, Box<dyn std::error::Error>> {
    let (host, port) = addr.rsplit_once(':').ok_or("address: expected host:port")?;
    let mut conf = RestConf::default();
    conf.service.name = "rest-load".into();
    conf.host = host.into();
    conf.port = port.parse()?;
    conf.service.shutdown.wrap_up_time = Duration::ZERO;
    let sampler = match std::env::var("RZERO_SAMPLER") {
        Ok(v) => v
            .parse()
            .map_err(|e| format!("RZERO_SAMPLER `{v}`: expected 0.0 to 1.0 ({e})"))?,
        Err(_) => 1.0,
    };
    conf.service.telemetry = Some(TelemetryConf {
        sampler,
        ..TelemetryConf::default()
    });
    conf.service.log = LogConf {
        level: std::env::var("RZERO_LOG_LEVEL").unwrap_or_else(|_| "warn".into()),
        ..LogConf::default()
    };
    Ok(conf)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    println!("rest-load {mode} listening on {addr}");
    match mode.as_str() {
        "plain" => {
            // TCP_NODELAY, as rzero's server sets it: without it a response written in
            // two parts waits for the client's delayed ACK.
            let listener = tokio::net::TcpListener::bind(&addr).await?.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let app = Router::new().route("/hello", get(hello));
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
        "off" => {
            let mut conf = conf(&addr)?;
            conf.middlewares = MiddlewaresConf::none();
            Server::new(conf)
                .route(Route::get("/hello", hello))
                .serve()
                .await?;
        }
        "rzero" => {
            let conf = conf(&addr)?;
            let guard = conf.service.init_telemetry("0.0.0")?;
            Server::new(conf)
                .telemetry(guard)
                .route(Route::get("/hello", hello))
                .serve()
                .await?;
        }
        "glue" => glue::serve(&addr).await?,
        other => {
            return Err(format!("mode `{other}`: expected plain, off, rzero or glue").into());
        }
    }
    Ok(())
}
