//! Request metrics reach the meter provider with the semantic-convention names and the
//! route template, and show on the Prometheus endpoint.

mod common;

use common::get_raw;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use opentelemetry::global;
use rzero_rest::metrics::MetricsLayer;
use rzero_telemetry::Telemetry;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durations_by_route_and_status_reach_prometheus() {
    let guard = Telemetry::new("rest-metrics", "1.0.0")
        .env([])
        .without_subscriber()
        .init()
        .expect("telemetry");
    let app = Router::new()
        .route("/api/v1/orders/{order_id}", get(|| async { "{}" }))
        .route(
            "/boom",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .layer(MetricsLayer::new(&global::meter("rzero")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    for id in 0..5 {
        assert!(
            get_raw(addr, &format!("/api/v1/orders/{id}"), "")
                .await
                .starts_with("HTTP/1.1 200")
        );
    }
    assert!(get_raw(addr, "/boom", "").await.starts_with("HTTP/1.1 503"));

    let text = guard.prometheus().render();
    let count_line = |route: &str, status: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("http_server_request_duration_seconds_count")
                    && l.contains(&format!("http_route=\"{route}\""))
                    && l.contains(&format!("http_response_status_code=\"{status}\""))
            })
            .map(str::to_owned)
    };
    let orders = count_line("/api/v1/orders/{order_id}", "200").unwrap_or_else(|| panic!("{text}"));
    assert!(
        orders.ends_with(" 5"),
        "one series for the template, not per id: {orders}"
    );
    let boom = count_line("/boom", "503").unwrap_or_else(|| panic!("{text}"));
    assert!(boom.contains("error_type=\"503\""), "{boom}");
    let active = text
        .lines()
        .find(|l| l.starts_with("http_server_active_requests") && l.contains("GET"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(active.ends_with(" 0"), "all requests finished: {active}");
    server.abort();
    guard.shutdown().await.expect("shutdown");
}
