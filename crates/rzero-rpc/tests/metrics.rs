//! Call durations reach the meter provider on both sides, by method and code, and show
//! on the Prometheus endpoint.

mod common;

use common::*;
use rzero_telemetry::Telemetry;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_client_durations_by_method_and_code() {
    let guard = Telemetry::new("rpc-metrics", "1.0.0")
        .env([])
        .without_subscriber()
        .init()
        .expect("telemetry");
    let server = start("echo").await;
    let mut client = client(&[server.addr]).await;
    for _ in 0..3 {
        within(10, client.say(say("x"))).await.expect("ok");
    }
    let mut req = say("x");
    req.fail_code = tonic::Code::NotFound as i32;
    within(10, client.say(req)).await.expect_err("not found");

    let text = guard.prometheus().render();
    let count = |metric: &str, code: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(&format!("{metric}_count"))
                    && l.contains("rpc_method=\"Say\"")
                    && l.contains("rpc_service=\"echo.Echo\"")
                    && l.contains(&format!("rpc_grpc_status_code=\"{code}\""))
            })
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no {metric} for code {code} in\n{text}"))
    };
    assert!(count("rpc_server_call_duration_seconds", "0").ends_with(" 3"));
    assert!(count("rpc_server_call_duration_seconds", "5").ends_with(" 1"));
    assert!(count("rpc_client_call_duration_seconds", "0").ends_with(" 3"));
    assert!(count("rpc_client_call_duration_seconds", "5").ends_with(" 1"));
    server.stop().await;
}
