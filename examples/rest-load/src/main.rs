//! The load target of `cargo xtask load`: one JSON hello route, served either by plain
//! axum or with rzero's trace, metrics and recover layers and telemetry at 100% sampling
//! exported over OTLP (to `OTEL_EXPORTER_OTLP_ENDPOINT`).
//!
//! ```text
//! rest-load plain 127.0.0.1:9001
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 rest-load rzero 127.0.0.1:9002
//! ```

use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use rzero::telemetry::{LogConf, Telemetry, TelemetryConf};
use rzero_rest::metrics::MetricsLayer;
use rzero_rest::recover::RecoverLayer;
use rzero_rest::trace::TraceLayer;
use serde::Serialize;
use tower::ServiceBuilder;

#[derive(Serialize)]
struct Hello {
    message: &'static str,
}

async fn hello() -> Json<Hello> {
    Json(Hello { message: "hello" })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let router = Router::new().route("/hello", get(hello));
    let (app, guard) = match mode.as_str() {
        "plain" => (router, None),
        "rzero" => {
            let conf = TelemetryConf {
                sampler: 1.0,
                ..TelemetryConf::default()
            };
            let log = LogConf {
                level: "warn".into(),
                ..LogConf::default()
            };
            let guard = Telemetry::new("rest-load", "0.0.0")
                .conf(&conf)
                .log(&log)
                .init()?;
            // RZERO_LAYERS picks a subset (comma-separated) to see what each costs.
            let wanted =
                std::env::var("RZERO_LAYERS").unwrap_or_else(|_| "trace,metrics,recover".into());
            let on = |name: &str| wanted.split(',').any(|w| w.trim() == name);
            let layers = ServiceBuilder::new()
                .option_layer(
                    on("trace").then(|| TraceLayer::new(guard.tracer(rzero::telemetry::SCOPE))),
                )
                .option_layer(on("metrics").then(|| {
                    MetricsLayer::new(&opentelemetry::global::meter(rzero::telemetry::SCOPE))
                }))
                .option_layer(on("recover").then_some(RecoverLayer));
            (router.layer(layers), Some(guard))
        }
        other => return Err(format!("mode `{other}`: expected `plain` or `rzero`").into()),
    };
    // Both modes set TCP_NODELAY, as any HTTP server should: without it a response
    // written in two parts waits for the client's delayed ACK.
    let listener = tokio::net::TcpListener::bind(&addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    println!("rest-load {mode} listening on {addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    if let Some(guard) = guard {
        guard.shutdown().await?;
    }
    Ok(())
}
