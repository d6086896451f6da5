//! `glue` modes: what a team writes by hand without rzero, for the side-by-side bench.
//!
//! The same stack as rest-load's glue (axum, tower-http's `TraceLayer`,
//! `tracing-opentelemetry` bridging the spans to the OpenTelemetry SDK, opentelemetry-otlp's
//! gRPC exporter behind the batch span processor, every trace sampled), carried across
//! the hop by hand, as a team would:
//! - the HTTP side: `TraceLayer::new_for_http()` makes the server span;
//! - the call: a `tracing` span with `otel.kind = "client"` around it, and a tonic
//!   interceptor that injects that span's context into the call's metadata with the
//!   global W3C TraceContext propagator;
//! - the gRPC side: `TraceLayer::new_for_grpc()` on tonic's server, its span made by
//!   [`server_span`], which extracts the caller's context from the headers and sets it as
//!   the span's parent.
//!
//! No metrics, no access log, no resilience: tracing against tracing.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use axum::serve::ListenerExt;
use http::StatusCode;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tower_http::trace::TraceLayer;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::pb::echo_client::EchoClient;
use crate::pb::echo_server::EchoServer;
use crate::{BoxError, Echo, Hop};

type Inject = fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>;
type Client = EchoClient<InterceptedService<Channel, Inject>>;

/// Serves `GET /hop` on `http` calling the traced echo server on `grpc`, until Ctrl-C.
pub(crate) async fn hop(http: &str, grpc: SocketAddr) -> Result<(), BoxError> {
    let provider = init()?;
    let server = tokio::spawn(serve_echo(grpc));
    let channel = Endpoint::from_shared(format!("http://{grpc}"))?
        .tcp_nodelay(true)
        .connect_lazy();
    let client: Client = EchoClient::with_interceptor(channel, inject as Inject);
    let listener = tokio::net::TcpListener::bind(http).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = axum::Router::new()
        .route("/hop", get(call))
        .with_state(client)
        .layer(TraceLayer::new_for_http());
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    server.await??;
    provider.shutdown()?;
    Ok(())
}

/// Serves the traced `echo.Echo` on `grpc` until Ctrl-C.
pub(crate) async fn echo(grpc: SocketAddr) -> Result<(), BoxError> {
    let provider = init()?;
    serve_echo(grpc).await?;
    provider.shutdown()?;
    Ok(())
}

async fn serve_echo(grpc: SocketAddr) -> Result<(), BoxError> {
    tonic::transport::Server::builder()
        .layer(TraceLayer::new_for_grpc().make_span_with(server_span))
        .add_service(EchoServer::new(Echo))
        .serve_with_shutdown(grpc, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn call(State(mut client): State<Client>) -> Result<Json<Hop>, (StatusCode, String)> {
    let span = tracing::info_span!(
        "echo.Echo/Say",
        otel.kind = "client",
        rpc.system = "grpc",
        rpc.service = "echo.Echo",
        rpc.method = "Say",
    );
    crate::answer(client.say(crate::request()).instrument(span).await)
}

/// The exporter to `OTEL_EXPORTER_OTLP_ENDPOINT` (default `http://127.0.0.1:4317`), the
/// W3C propagator, and the subscriber that bridges `tracing` spans to the SDK.
fn init() -> Result<SdkTracerProvider, BoxError> {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .unwrap_or_else(|_| "http://127.0.0.1:4317".to_owned());
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    // tower-http's spans are at DEBUG: the filter a team sets to see them; ours at INFO.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::filter::Targets::new()
                .with_target("tower_http", tracing::Level::DEBUG)
                .with_target("hop_load", tracing::Level::INFO),
        )
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("hop-load")))
        .try_init()?;
    Ok(provider)
}

/// The client interceptor: the current span's context into the call's metadata.
fn inject(mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut MetadataInjector(req.metadata_mut()));
    });
    Ok(req)
}

/// The gRPC server span, child of the caller's context when the call carries one.
fn server_span<B>(req: &http::Request<B>) -> tracing::Span {
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&HeaderExtractor(req.headers()))
    });
    let span = tracing::info_span!(
        "grpc request",
        otel.name = %req.uri().path().trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
    );
    // Fails only when the span is disabled (filtered out): nothing to parent then.
    let _ = span.set_parent(parent);
    span
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(k, v);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
