//! The DevServer port beside a real HTTP gateway: started and stopped by the server's
//! lifecycle, its `/metrics` showing the gateway's own request metrics.

mod common;

use std::time::Duration;

use common::{send, start, test_conf};
use rzero_rest::{Route, Server};
use rzero_service::devserver::DevServerConf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_port_serves_health_and_the_gateways_metrics_and_stops_with_it() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let guard = rzero_telemetry::Telemetry::new("rest-devserver", "0.0.0")
        .env(Vec::<(String, String)>::new())
        .without_subscriber()
        .init()
        .expect("telemetry");
    let mut conf = test_conf();
    conf.service.dev_server = Some(DevServerConf {
        port: free.port(),
        ..DevServerConf::default()
    });
    let server = Server::new(conf)
        .telemetry(guard)
        .route(Route::get("/hello", || async { "hi" }));
    let (addr, stop, task) = start(server).await;
    assert_eq!(send(addr, "GET", "/hello", "", "").await.status, 200);

    let mut health = send(free, "GET", "/healthz", "", "").await;
    for _ in 0..50 {
        if health.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        health = send(free, "GET", "/healthz", "", "").await;
    }
    assert_eq!((health.status, health.body.as_str()), (200, "OK"));
    let metrics = send(free, "GET", "/metrics", "", "").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.lines().any(
            |l| l.starts_with("http_server_request_duration_seconds_count")
                && l.contains("http_route=\"/hello\"")
        ),
        "{}",
        metrics.body
    );

    let _ = stop.send(());
    task.await.expect("joined").expect("stopped cleanly");
    assert!(
        tokio::net::TcpStream::connect(free).await.is_err(),
        "the dev port closes with the server"
    );
}
