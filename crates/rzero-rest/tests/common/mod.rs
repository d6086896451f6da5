//! Test support: one HTTP/1.1 exchange over a real loopback socket.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[allow(dead_code)]
/// GETs `path` with `headers` (each line ending in `\r\n`); the raw response.
pub(crate) async fn get_raw(addr: SocketAddr, path: &str, headers: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nuser-agent: rzero-test\r\n{headers}connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
        .await
        .expect("an answer within 10 s")
        .expect("read");
    out
}

/// An answer, split.
#[allow(dead_code)]
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: String,
}

#[allow(dead_code)]
impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// A header's value, by lower-case name.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// Sends `method path` with `headers` (each ending in `\r\n`) and `body`; the answer.
#[allow(dead_code)]
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Answer {
    let s = TcpStream::connect(addr).await.expect("connect");
    exchange(s, addr, method, path, headers, body).await
}

/// [`send`] from the loopback address `from` (any of 127.0.0.0/8): a client of its own
/// to a server that tells clients apart by address.
#[allow(dead_code)]
pub(crate) async fn send_from(
    from: &str,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Answer {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("a loopback address"))
        .expect("bind a loopback source");
    let s = socket.connect(addr).await.expect("connect");
    exchange(s, addr, method, path, headers, body).await
}

async fn exchange(
    mut s: TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Answer {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("an answer within 20 s")
        .expect("read");
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Serves `server` on a free loopback port until the returned sender is dropped or used.
#[allow(dead_code)]
pub(crate) async fn start<S: Clone + Send + Sync + 'static>(
    server: rzero_rest::Server<S>,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), rzero_rest::ServeError>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_on(listener, async move {
        let _ = rx.await;
    }));
    (addr, tx, task)
}

/// A config for tests: loopback, no shedding (CPU on a shared machine is noisy), no
/// wrap-up wait on stop.
#[allow(dead_code)]
pub(crate) fn test_conf() -> rzero_rest::RestConf {
    let mut conf = rzero_rest::RestConf::default();
    conf.service.name = "test-api".into();
    conf.host = "127.0.0.1".into();
    conf.cpu_threshold = 0;
    conf.service.shutdown.wrap_up_time = Duration::ZERO;
    conf
}
