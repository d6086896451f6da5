//! `glue` mode: what a team writes by hand without rzero, for the side-by-side bench.
//!
//! axum, tower-http's `TraceLayer` (one span per request, its request and response
//! events), `tracing-opentelemetry` bridging those spans to the OpenTelemetry SDK, and
//! opentelemetry-otlp's gRPC exporter behind the SDK's batch span processor, sampling
//! every trace. No metrics, no access log, no resilience middleware: the comparison is
//! tracing against tracing, and rzero's other layers are what it gives on top.

use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tower_http::trace::TraceLayer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::hello;

/// Serves `/hello` on `addr` until Ctrl-C, exporting to `OTEL_EXPORTER_OTLP_ENDPOINT`
/// (default `http://127.0.0.1:4317`), and flushes the batch on the way out.
pub(crate) async fn serve(addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .unwrap_or_else(|_| "http://127.0.0.1:4317".to_owned());
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    // tower-http's spans and events are at DEBUG: the filter a team sets to see them.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::filter::Targets::new()
                .with_target("tower_http", tracing::Level::DEBUG),
        )
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("rest-load")))
        .try_init()?;
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = Router::new()
        .route("/hello", get(hello))
        .layer(TraceLayer::new_for_http());
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    provider.shutdown()?;
    Ok(())
}
