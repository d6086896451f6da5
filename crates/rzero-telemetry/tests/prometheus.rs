//! The Prometheus endpoint serves what the meter provider records, and answers anything
//! else with a clear status instead of hanging or crashing.

use std::time::Duration;

use opentelemetry::{KeyValue, global};
use rzero_telemetry::{PrometheusConf, Telemetry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw_request(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the endpoint must answer, not hang");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_metrics_and_rejects_the_rest() {
    let guard = Telemetry::new("prom-test", "1.0.0")
        .env([])
        .without_subscriber()
        .init()
        .expect("init");
    let counter = global::meter("test").u64_counter("orders.created").build();
    counter.add(3, &[KeyValue::new("status", "ok")]);

    let conf = PrometheusConf {
        host: "127.0.0.1".into(),
        port: 0,
        path: "/metrics".into(),
    };
    let port = guard.prometheus().serve(&conf).await.expect("serve");
    let addr = port.local_addr();

    let ok = raw_request(
        addr,
        b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("text/plain; version=0.0.4"), "{ok}");
    assert!(ok.contains("orders_created_total{"), "{ok}");
    assert!(ok.contains("status=\"ok\""), "{ok}");
    assert!(
        ok.contains("service_name=\"prom-test\"") || ok.contains("target_info"),
        "{ok}"
    );

    let missing = raw_request(
        addr,
        b"GET /nope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    assert!(missing.contains("metrics are at /metrics"), "{missing}");

    let post = raw_request(
        addr,
        b"POST /metrics HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");

    let garbage = raw_request(addr, b"\x00\x01 not http at all\r\n\r\n").await;
    assert!(
        garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
        "{garbage}"
    );

    let huge_header = format!(
        "GET /metrics HTTP/1.1\r\nx-big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let big = raw_request(addr, huge_header.as_bytes()).await;
    assert!(big.is_empty() || big.starts_with("HTTP/1.1 431"), "{big}");

    // Still serving after all that.
    let again = raw_request(
        addr,
        b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");

    let taken = guard
        .prometheus()
        .serve(&PrometheusConf {
            port: addr.port(),
            ..conf
        })
        .await;
    let err = taken.expect_err("the port is taken").to_string();
    assert!(err.contains("is the port taken?"), "{err}");
    port.stop().await;
    guard.shutdown().await.expect("shutdown");
}
