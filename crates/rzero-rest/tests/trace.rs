//! The trace layer through real HTTP on loopback: spans as exported, with the caller's
//! context as parent, the HTTP semantic conventions, handler spans underneath, and the
//! trace id handed back to the caller.

mod common;

use common::get_raw;
use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use opentelemetry::trace::{Span as _, Status, Tracer, TracerProvider as _};
use opentelemetry::{KeyValue, global};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rzero_rest::trace::TraceLayer;

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_spans_follow_the_caller_and_the_conventions() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    global::set_tracer_provider(provider.clone());

    let app = Router::new()
        .route(
            "/api/v1/orders/{order_id}",
            get(|| async {
                // A span made by the handler with the global API: a child of the server span.
                let mut child = global::tracer("handler").start("GetOrder");
                child.set_attribute(KeyValue::new("order.id", 42));
                child.end();
                "{\"order_id\":42}"
            }),
        )
        .route(
            "/boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .layer(
            TraceLayer::new(provider.tracer("rzero"))
                .capture_header("x-priority".parse().expect("name")),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    // 1. A caller with a trace: the server span continues it.
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp = get_raw(
        addr,
        "/api/v1/orders/42",
        &format!("traceparent: {parent}\r\nx-priority: high\r\n"),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        resp.to_ascii_lowercase()
            .contains("x-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736"),
        "{resp}"
    );
    assert!(
        resp.contains("traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{resp}"
    );

    let spans = exporter.get_finished_spans().expect("spans");
    let server_span = spans
        .iter()
        .find(|s| s.name == "GET /api/v1/orders/{order_id}")
        .expect("server span");
    assert_eq!(
        server_span.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(server_span.parent_span_id.to_string(), "00f067aa0ba902b7");
    assert_eq!(
        server_span.span_kind,
        opentelemetry::trace::SpanKind::Server
    );
    for (key, want) in [
        ("http.request.method", "GET"),
        ("http.route", "/api/v1/orders/{order_id}"),
        ("url.path", "/api/v1/orders/42"),
        ("url.scheme", "http"),
        ("http.response.status_code", "200"),
        ("server.address", "127.0.0.1"),
        ("server.port", &addr.port().to_string()),
        ("network.protocol.version", "1.1"),
        ("user_agent.original", "rzero-test"),
        ("client.address", "127.0.0.1"),
        ("http.request.header.x-priority", "high"),
    ] {
        assert_eq!(attr(server_span, key).as_deref(), Some(want), "{key}");
    }
    let child = spans
        .iter()
        .find(|s| s.name == "GetOrder")
        .expect("handler span");
    assert_eq!(
        child.parent_span_id,
        server_span.span_context.span_id(),
        "handler span is a child"
    );
    assert_eq!(
        child.span_context.trace_id(),
        server_span.span_context.trace_id()
    );
    exporter.reset();

    // 2. A malformed traceparent starts a new trace and is not an error.
    for bad in [
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        &"f".repeat(10_000),
    ] {
        let resp = get_raw(addr, "/api/v1/orders/7", &format!("traceparent: {bad}\r\n")).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    }
    let spans = exporter.get_finished_spans().expect("spans");
    let servers: Vec<_> = spans
        .iter()
        .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Server)
        .collect();
    assert_eq!(servers.len(), 4);
    for s in servers {
        assert_eq!(
            s.parent_span_id,
            opentelemetry::trace::SpanId::INVALID,
            "new root"
        );
        assert_ne!(
            s.span_context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }
    exporter.reset();

    // 3. A 5xx is an error on the span; an unknown route (404) is not.
    assert!(get_raw(addr, "/boom", "").await.starts_with("HTTP/1.1 500"));
    assert!(
        get_raw(addr, "/nowhere", "")
            .await
            .starts_with("HTTP/1.1 404")
    );
    let spans = exporter.get_finished_spans().expect("spans");
    let boom = spans
        .iter()
        .find(|s| s.name == "GET /boom")
        .expect("boom span");
    assert!(
        matches!(boom.status, Status::Error { .. }),
        "{:?}",
        boom.status
    );
    assert_eq!(attr(boom, "error.type").as_deref(), Some("500"));
    let missing = spans
        .iter()
        .find(|s| attr(s, "http.response.status_code").as_deref() == Some("404"))
        .expect("404 span");
    assert_eq!(
        missing.name, "GET",
        "no route: the span is named by the method alone"
    );
    assert_eq!(missing.status, Status::Unset);

    server.abort();
    let _ = provider.shutdown();
}
