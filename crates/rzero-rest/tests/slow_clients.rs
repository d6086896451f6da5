//! Slow and idle clients over real TCP on loopback: they lose their own connections and
//! requests, never anyone else's. A head sent a byte at a time is closed after
//! `ReadHeaderTimeout`; a body sent too slowly is a 408 that the route's breaker does not
//! count; idle keep-alive connections are closed after `IdleTimeout` while requests keep
//! being served; `MaxConns` counts sockets, idle ones included.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{send, start, test_conf};
use rzero_rest::parse::Parse;
use rzero_rest::{Json, Parsed, Route, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(serde::Deserialize, serde::Serialize)]
struct Order {
    amount: u64,
}
impl Parse for Order {}

fn orders() -> Route {
    Route::post("/orders", |Parsed(o): Parsed<Order>| async move { Json(o) })
}

/// Reads until the server closes; what it sent, or `None` if it kept the socket open for
/// `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(within, s.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn a_head_sent_a_byte_at_a_time_is_closed_after_read_header_timeout() {
    let mut conf = test_conf();
    conf.read_header_timeout = Duration::from_millis(300);
    let (addr, _stop, _task) = start(Server::new(conf).route(orders())).await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let dribble = async {
        for b in b"GET /orders HTTP/1.1\r\nhost: x\r\nx-slow: "
            .iter()
            .cycle()
        {
            if s.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    // The dribble ends when a write fails: the server closed the socket.
    tokio::time::timeout(Duration::from_secs(10), dribble)
        .await
        .expect("the server closed a head that never completed");
    // Everyone else is served.
    let a = send(addr, "POST", "/orders", "", r#"{"amount":1}"#).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

/// Sends a head announcing 100 bytes of body and 10 of them, then nothing: the socket.
async fn dribbled_body(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /orders HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: 100\r\n\r\n{{\"amount\":"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    s
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn bodies_sent_too_slowly_are_408_and_do_not_open_the_breaker() {
    let mut conf = test_conf();
    conf.timeout = Duration::from_millis(300);
    let (addr, _stop, _task) = start(Server::new(conf).route(orders())).await;
    // Forty clients stall their bodies past the route's Timeout (the issue's scenario).
    let slow: Vec<_> = (0..40)
        .map(|_| {
            tokio::spawn(async move {
                let mut s = dribbled_body(addr).await;
                closed_within(&mut s, Duration::from_secs(10)).await
            })
        })
        .collect();
    for task in slow {
        let answer = task.await.expect("joins").expect("answered and closed");
        assert_eq!(status(&answer), 408, "{answer}");
        assert!(answer.contains("did not arrive"), "{answer}");
    }
    // The breaker saw forty client failures, no backend failure: every good POST passes.
    for _ in 0..20 {
        let a = send(addr, "POST", "/orders", "", r#"{"amount":1}"#).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
}

#[tokio::test]
async fn a_body_slower_than_read_timeout_is_408_even_without_a_route_timeout() {
    let mut conf = test_conf();
    conf.timeout = Duration::ZERO;
    conf.read_timeout = Duration::from_millis(300);
    let (addr, _stop, _task) = start(Server::new(conf).route(orders())).await;
    let mut s = dribbled_body(addr).await;
    let answer = closed_within(&mut s, Duration::from_secs(10))
        .await
        .expect("answered and closed");
    assert_eq!(status(&answer), 408, "{answer}");
    assert!(answer.contains("ReadTimeout"), "{answer}");
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_while_requests_are_served() {
    const IDLE: usize = 2000;
    let mut conf = test_conf();
    conf.idle_timeout = Duration::from_millis(1500);
    let (addr, _stop, _task) = start(Server::new(conf).route(orders())).await;
    // Each connection is served one request, then left open and silent.
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let req = format!("GET /missing HTTP/1.1\r\nhost: {addr}\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.expect("an answer");
        assert!(buf[..n].starts_with(b"HTTP/1.1 404"), "{:?}", &buf[..n]);
        idle.push(s);
    }
    // Meanwhile others are served, each on a fresh connection.
    for _ in 0..20 {
        let a = send(addr, "POST", "/orders", "", r#"{"amount":1}"#).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    // And every idle one is closed by the server (EOF, nothing more sent).
    let closes = idle.into_iter().map(|mut s| {
        tokio::spawn(async move { closed_within(&mut s, Duration::from_secs(20)).await })
    });
    for close in closes {
        let rest = close.await.expect("joins").expect("closed by the server");
        assert_eq!(rest, "");
    }
}

#[tokio::test]
async fn max_conns_counts_sockets_idle_ones_included() {
    let mut conf = test_conf();
    conf.max_conns = 3;
    let (addr, _stop, _task) = start(Server::new(conf).route(orders())).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        // One answered request proves the socket was accepted; then it sits idle.
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let req = format!("GET /missing HTTP/1.1\r\nhost: {addr}\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut buf = [0u8; 512];
        assert!(s.read(&mut buf).await.expect("answer") > 0);
        held.push(s);
    }
    let a = send(addr, "POST", "/orders", "", r#"{"amount":1}"#).await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(a.body.contains("MaxConns"), "{}", a.body);
    // A socket closed frees its place (once the server has seen the close).
    drop(held.pop());
    let mut status = 0;
    for _ in 0..50 {
        status = send(addr, "POST", "/orders", "", r#"{"amount":1}"#)
            .await
            .status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 200);
}

/// The accept loop serves HTTP/2 (prior knowledge, h2c) beside HTTP/1.1 on one port.
#[tokio::test]
async fn http2_is_served_on_the_same_port() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let (addr, _stop, _task) = start(Server::new(test_conf()).route(orders())).await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<axum::body::Bytes>>();
    let req = http::Request::post(format!("http://{addr}/orders"))
        .header("content-type", "application/json")
        .body(Full::from(r#"{"amount":7}"#))
        .expect("request");
    let resp = client.request(req).await.expect("h2 answer");
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], br#"{"amount":7}"#);
}
