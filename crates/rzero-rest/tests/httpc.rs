//! The outbound client through real HTTP on loopback: the callee continues the caller's
//! trace, errors are spans with `error.type`, timeouts and the per-host breaker hold.

mod common;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use http::HeaderMap;
use opentelemetry::global;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use rzero_rest::httpc::{Client, HttpcError};

async fn callee() -> std::net::SocketAddr {
    let app = Router::new()
        .route(
            "/echo-headers",
            get(|h: HeaderMap| async move {
                h.get("traceparent")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned()
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/fail",
            get(|| async { (http::StatusCode::BAD_GATEWAY, "down") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callee_receives_the_callers_trace_and_failures_are_on_spans() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    global::set_tracer_provider(provider.clone());
    let addr = callee().await;
    let client = Client::new(Duration::from_millis(300));

    let root = provider.tracer("test").start("caller");
    let cx = opentelemetry::Context::current_with_span(root);
    let trace_id = cx.span().span_context().trace_id();
    let answer = {
        use opentelemetry::context::FutureExt as _;
        client
            .get(&format!("http://{addr}/echo-headers"))
            .with_context(cx.clone())
            .await
            .expect("answer")
    };
    let traceparent = String::from_utf8_lossy(answer.body()).into_owned();
    assert!(traceparent.contains(&trace_id.to_string()), "{traceparent}");

    let with_credentials = {
        use opentelemetry::context::FutureExt as _;
        client
            .get(&format!("http://alice:hunter2@{addr}/echo-headers"))
            .with_context(cx.clone())
            .await
    };
    let _ = with_credentials;

    let slow = client.get(&format!("http://{addr}/slow")).await;
    assert!(matches!(slow, Err(HttpcError::Timeout(_))), "{slow:?}");
    let bad = client.get(&format!("ftp://{addr}/")).await;
    assert!(matches!(bad, Err(HttpcError::InvalidUrl(_))), "{bad:?}");
    // TLS to a plain HTTP server: the handshake fails, and says it was TLS.
    let not_tls = client.get(&format!("https://{addr}/echo-headers")).await;
    assert!(matches!(not_tls, Err(HttpcError::Tls(_))), "{not_tls:?}");
    let refused = client.get("http://127.0.0.1:1/").await;
    assert!(
        matches!(refused, Err(HttpcError::Connect(_))),
        "{refused:?}"
    );

    let spans = exporter.get_finished_spans().expect("spans");
    let call = spans
        .iter()
        .find(|s| s.span_context.trace_id() == trace_id)
        .expect("the client span is in the caller's trace");
    assert_eq!(call.span_kind, SpanKind::Client);
    // `url.full` never carries the userinfo's credentials (semantic conventions).
    let urls: Vec<String> = spans
        .iter()
        .flat_map(|s| s.attributes.iter())
        .filter(|kv| kv.key.as_str() == "url.full")
        .map(|kv| kv.value.as_str().into_owned())
        .collect();
    assert!(
        urls.iter().any(|u| u.contains("REDACTED:REDACTED@")),
        "{urls:?}"
    );
    assert!(!urls.iter().any(|u| u.contains("hunter2")), "{urls:?}");
    assert_eq!(call.name, "GET");
    assert_eq!(
        traceparent.split('-').nth(2),
        Some(call.span_context.span_id().to_string().as_str())
    );
    let timeout = spans
        .iter()
        .find(|s| {
            s.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "error.type" && kv.value.as_str() == "timeout")
        })
        .expect("the timeout is on its span");
    assert!(matches!(
        timeout.status,
        opentelemetry::trace::Status::Error { .. }
    ));
}

#[tokio::test]
async fn the_host_breaker_opens_after_repeated_5xx() {
    let addr = callee().await;
    let client = Client::new(Duration::from_secs(2));
    let mut open = 0;
    for _ in 0..200 {
        match client.get(&format!("http://{addr}/fail")).await {
            Ok(r) => assert_eq!(r.status(), 502),
            Err(HttpcError::BreakerOpen { .. }) => open += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(open > 50, "breaker refused {open} of 200");
}
