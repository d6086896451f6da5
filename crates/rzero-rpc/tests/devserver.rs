//! The DevServer port beside a real gRPC server: started and stopped by the server's
//! lifecycle, its `/metrics` showing the server's own call metrics.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use rzero_service::devserver::DevServerConf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 GET: the status and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    within(20, async {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut raw = String::new();
        s.read_to_string(&mut raw).await.expect("read");
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_owned())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_port_serves_health_and_the_servers_metrics_and_stops_with_it() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let guard = rzero_telemetry::Telemetry::new("rpc-devserver", "0.0.0")
        .env([])
        .without_subscriber()
        .init()
        .expect("telemetry");
    let mut conf = server_conf("echo");
    conf.service.dev_server = Some(DevServerConf {
        port: free.port(),
        ..DevServerConf::default()
    });
    let echo = Echo {
        name: "echo".into(),
        ..Echo::default()
    };
    let server = start_with(conf, echo, |s| s.telemetry(guard)).await;
    let mut client = client(&[server.addr]).await;
    within(10, client.say(say("x"))).await.expect("ok");

    let mut health = get(free, "/healthz").await;
    for _ in 0..50 {
        if health.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        health = get(free, "/healthz").await;
    }
    assert_eq!(health, (200, "OK".to_owned()));
    let (status, metrics) = get(free, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("rpc_server_call_duration_seconds_count")
                && l.contains("rpc_method=\"Say\"")),
        "{metrics}"
    );

    server.stop().await;
    assert!(
        tokio::net::TcpStream::connect(free).await.is_err(),
        "the dev port closes with the server"
    );
}
