//! A panicking handler answers 500 with a JSON body, the panic is on the span, and the
//! next request, on the same server, succeeds.

mod common;

use common::get_raw;

use axum::Router;
use axum::routing::get;
use opentelemetry::global;
use opentelemetry::trace::{Status, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use rzero_rest::recover::RecoverLayer;
use rzero_rest::trace::TraceLayer;
use tower::ServiceBuilder;

async fn panicking() -> &'static str {
    panic!("the order table is gone")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_answers_500_and_the_server_keeps_serving() {
    global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let app = Router::new()
        .route("/panic", get(panicking))
        .route("/ok", get(|| async { "fine" }))
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new(provider.tracer("rzero")))
                .layer(RecoverLayer),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    for _ in 0..3 {
        let resp = get_raw(addr, "/panic", "").await;
        assert!(resp.starts_with("HTTP/1.1 500"), "{resp}");
        assert!(resp.contains("content-type: application/json"), "{resp}");
        let body = resp.split("\r\n\r\n").nth(1).expect("body");
        let json: serde_json::Value = serde_json::from_str(body).expect("json body");
        assert_eq!(json["code"], 500);
        assert!(
            json["msg"].as_str().expect("msg").contains("trace id"),
            "{json}"
        );
        let ok = get_raw(addr, "/ok", "").await;
        assert!(
            ok.starts_with("HTTP/1.1 200") && ok.ends_with("fine"),
            "{ok}"
        );
    }

    let spans = exporter.get_finished_spans().expect("spans");
    let panicked = spans.iter().find(|s| s.name == "GET /panic").expect("span");
    assert!(
        matches!(panicked.status, Status::Error { .. }),
        "{:?}",
        panicked.status
    );
    let event = panicked
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("exception event");
    assert!(
        event
            .attributes
            .iter()
            .any(|kv| kv.value.as_str() == "the order table is gone")
    );
    server.abort();
}
