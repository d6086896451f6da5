//! The accept loop: hyper-util's server (HTTP/1.1 and HTTP/2 on one port) with the
//! timeouts `axum::serve` does not have, and `MaxConns` counted in sockets.
//!
//! Each accepted socket takes a permit; past `MaxConns` the socket is answered a canned
//! 503 (if its buffer takes it) and closed at once, never queued. Each connection runs in
//! its own task with a [`ConnState`] watch that closes it when idle or when its head
//! dribbles (see [`super::watch`]), and every request body gets `ReadTimeout`
//! ([`crate::limit::read`]). On drain the listener closes, idle connections close, and
//! busy ones finish their requests (hyper's graceful shutdown), all within
//! `Shutdown.WaitTime`, which the [`rzero_service::Lifecycle`] enforces.
//!
//! With TLS ([`crate::tls`]) each socket's handshake runs in the connection's own task,
//! under its deadline and holding its `MaxConns` permit; the timeouts above then apply to
//! the decrypted stream exactly as to a plain one. A socket over `MaxConns` on a TLS port
//! is closed unanswered: a plain 503 would be noise to a TLS client.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::watch::{ConnState, InFlight, Watched};
use crate::conf::RestConf;
use crate::error::Refusal;
use crate::respond::Refusals;
use crate::tls::{Https, TlsAcceptor};

/// What the accept loop enforces, from `RestConf`.
#[derive(Clone, Debug)]
pub(crate) struct ConnLimits {
    /// Sockets open at once; `None`: no cap.
    pub(crate) max_conns: Option<usize>,
    pub(crate) read_header_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) refusals: Refusals,
    /// Set when the port speaks TLS.
    pub(crate) tls: Option<TlsAcceptor>,
}

impl ConnLimits {
    pub(crate) fn from_conf(conf: &RestConf, refusals: Refusals) -> Self {
        ConnLimits {
            max_conns: (conf.middlewares.max_conns && conf.max_conns > 0)
                .then_some(conf.max_conns.min(Semaphore::MAX_PERMITS)),
            read_header_timeout: conf.read_header_timeout,
            read_timeout: conf.read_timeout,
            write_timeout: conf.write_timeout,
            idle_timeout: conf.idle_timeout,
            refusals,
            tls: None,
        }
    }
}

/// The answer to a socket over `MaxConns`, written without waiting.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\ncontent-length: 87\r\nconnection: close\r\n\r\n\
{\"code\":503,\"msg\":\"server is at its limit of open connections (MaxConns); retry later\"}";

/// Accepts on `listener` until `drain` resolves, then lets the connections finish.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    drain: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's header timer is off: `ConnState` keeps it, with Go's meaning (see `watch`).
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let permits = limits.max_conns.map(|n| Arc::new(Semaphore::new(n)));
    let lingering = Arc::new(Semaphore::new(LINGERING));
    let graceful = GracefulShutdown::new();
    let mut backoff = Backoff::default();
    tokio::pin!(drain);
    loop {
        let (tcp, remote) = tokio::select! {
            () = &mut drain => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff.reset();
                    accepted
                }
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, most often: log, wait, keep accepting.
                    let wait = backoff.next();
                    tracing::warn!(error = %e, ?wait, "accept failed; retrying");
                    tokio::select! {
                        () = &mut drain => break,
                        () = tokio::time::sleep(wait) => continue,
                    }
                }
            },
        };
        let permit = match &permits {
            Some(p) => match p.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) if limits.tls.is_some() => {
                    limits.refusals.count(Refusal::MaxConns);
                    continue;
                }
                Err(_) => {
                    refuse(tcp, &limits.refusals, &lingering);
                    continue;
                }
            },
            None => None,
        };
        // TCP_NODELAY: an answer written in two parts must not wait for a delayed ACK.
        let _ = tcp.set_nodelay(true);
        let conn = Conn {
            builder: builder.clone(),
            watcher: graceful.watcher(),
            router: router.clone(),
            remote,
            limits: limits.clone(),
        };
        match limits.tls.clone() {
            None => {
                tokio::spawn(async move {
                    let _permit = permit;
                    conn.run(tcp, false).await;
                });
            }
            Some(tls) => {
                tokio::spawn(async move {
                    let _permit = permit;
                    if let Some(stream) = tls.accept(tcp, remote).await {
                        conn.run(stream, true).await;
                    }
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// What one connection's task needs.
struct Conn {
    builder: Arc<auto::Builder<TokioExecutor>>,
    watcher: Watcher,
    router: Router,
    remote: SocketAddr,
    limits: ConnLimits,
}

impl Conn {
    /// Serves `io` (the socket, or the TLS stream over it) until it closes, expires, or
    /// the drain ends it.
    async fn run<I>(self, io: I, https: bool)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Conn {
            builder,
            watcher,
            router,
            remote,
            limits,
        } = self;
        let state = ConnState::new();
        let io = TokioIo::new(Watched::new(io, state.clone(), limits.write_timeout));
        let svc = hyper::service::service_fn({
            let (state, read_timeout) = (state.clone(), limits.read_timeout);
            move |req| {
                handle(
                    router.clone(),
                    state.start(),
                    remote,
                    read_timeout,
                    https,
                    req,
                )
            }
        });
        let conn = watcher.watch(builder.serve_connection_with_upgrades(io, svc).into_owned());
        tokio::select! {
            done = conn => if let Err(e) = done {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            },
            why = state.expired(limits.idle_timeout, limits.read_header_timeout) => {
                tracing::debug!(%remote, ?why, "connection closed");
            }
        }
    }
}

/// One request: its body timed, the caller's address for the access log and span, and
/// the connection busy until the answer's body is gone.
///
/// The answer goes to hyper as `Guarded` itself, not boxed again into a `Body`: hyper
/// takes any body type, and the router's answer is already one box.
async fn handle(
    router: Router,
    in_flight: InFlight,
    remote: SocketAddr,
    read_timeout: Duration,
    https: bool,
    req: Request<Incoming>,
) -> Result<Response<Guarded>, std::convert::Infallible> {
    let mut req = crate::limit::read::timed(req, read_timeout);
    req.extensions_mut().insert(ConnectInfo(remote));
    if https {
        req.extensions_mut().insert(Https);
    }
    let resp = router.oneshot(req).await?;
    Ok(resp.map(|body| Guarded {
        body,
        _in_flight: in_flight,
    }))
}

pin_project_lite::pin_project! {
    /// An answer's body that keeps its connection busy until it is dropped.
    struct Guarded {
        #[pin]
        body: Body,
        _in_flight: InFlight,
    }
}

impl http_body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Refused sockets answered in full (written, then the client's request read and
/// dropped, so that the close is not a reset that loses the answer) at once; past that,
/// a refusal costs one non-blocking write.
const LINGERING: usize = 64;

fn refuse(mut tcp: TcpStream, refusals: &Refusals, lingering: &Arc<Semaphore>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    refusals.count(Refusal::MaxConns);
    let Ok(permit) = lingering.clone().try_acquire_owned() else {
        let _ = tcp.try_write(REFUSED);
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let answer = async {
            tcp.write_all(REFUSED).await?;
            tcp.shutdown().await?;
            let mut sink = [0u8; 1024];
            while tcp.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
    });
}

/// Errors of one connection (reset before it was accepted), not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// 5 ms doubling to 1 s between failed accepts.
#[derive(Debug)]
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(Duration::from_millis(5))
    }
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(1));
        wait
    }

    fn reset(&mut self) {
        *self = Backoff::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_answer() {
        let text = std::str::from_utf8(REFUSED).expect("ascii");
        let (_, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(v["code"], 503);
    }

    #[test]
    fn backoff_doubles_to_a_second_and_resets() {
        let mut b = Backoff::default();
        let waits: Vec<_> = (0..10).map(|_| b.next().as_millis()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.next().as_millis(), 5);
    }
}
