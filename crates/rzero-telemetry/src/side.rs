//! The side port: a small HTTP/1.1 server for what a service serves beside its API (the
//! Prometheus scrape port, rzero-service's DevServer), one accept loop and one connection
//! policy for both.
//!
//! Bounded like a port that may be reached by mistake: at most `max_connections` open
//! (more are closed on accept), a deadline on the request head, a lifetime per connection;
//! a failed accept (out of file descriptors, most often) is logged and retried after a
//! pause that doubles from 5 ms to 1 s, instead of ending the port. On stop it takes no new
//! connection, tells the handlers ([`Stopping`]), and gives open connections `stop_wait`.
//! hyper's own server has no accept loop nor connection cap, hence this module.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// What a side port answers a request with.
pub type Answer = Response<Full<Bytes>>;

/// The handler of a side port: every request, with the port's stop signal.
pub type Handler = Arc<
    dyn Fn(Request<Incoming>, Stopping) -> Pin<Box<dyn Future<Output = Answer> + Send>>
        + Send
        + Sync,
>;

/// How a side port treats its connections.
#[derive(Clone, Copy, Debug)]
pub struct SideLimits {
    /// What the logs call the port (`Prometheus`, `DevServer`).
    pub name: &'static str,
    /// Connections served at once; more are closed on accept.
    pub max_connections: usize,
    /// Time to send the request head.
    pub header_read_timeout: Duration,
    /// The longest a connection lives: a client that holds one longer is stuck or hostile.
    pub connection_lifetime: Duration,
    /// How long open connections get to finish once the port stops.
    pub stop_wait: Duration,
}

/// A running side port. Dropping it aborts it; [`stop`](Self::stop) ends it gracefully.
#[derive(Debug)]
pub struct SidePort {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// Fires once the port stops: what a long answer (a CPU profile) waits on besides its timer.
#[derive(Clone, Debug)]
pub struct Stopping(watch::Receiver<bool>);

// === impl SidePort ===

impl SidePort {
    /// Serves `listener` with `handler` until stopped or dropped.
    pub fn serve(
        listener: TcpListener,
        limits: SideLimits,
        handler: Handler,
    ) -> std::io::Result<SidePort> {
        let addr = listener.local_addr()?;
        let (stop, stopping) = watch::channel(false);
        let listener = Arc::new(listener);
        let accept = move || {
            let listener = listener.clone();
            async move { listener.accept().await.map(|(stream, _)| stream) }
        };
        let task = tokio::spawn(accept_loop(accept, limits, handler, Stopping(stopping)));
        Ok(SidePort {
            addr,
            stop,
            task: Some(task),
        })
    }

    /// The address it listens on (the real port when the port asked for was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, tells the handlers, and waits at most `stop_wait` for the
    /// connections in flight.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            // The accept loop bounds its own wait; this only reaps it.
            let _ = task.await;
        }
    }
}

impl Drop for SidePort {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

// === impl Stopping ===

impl Stopping {
    /// Resolves once the port stops (or is gone).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// The first pause after a failed accept.
const ACCEPT_PAUSE: Duration = Duration::from_millis(5);

/// Takes connections from `accept` (the listener's, or a failing one in the tests) until
/// the port stops.
async fn accept_loop<F, Fut>(
    mut accept: F,
    limits: SideLimits,
    handler: Handler,
    stopping: Stopping,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::io::Result<TcpStream>>,
{
    let mut conns = JoinSet::new();
    let mut pause = ACCEPT_PAUSE;
    loop {
        tokio::select! {
            accepted = accept() => match accepted {
                Ok(stream) => {
                    pause = ACCEPT_PAUSE;
                    if conns.len() >= limits.max_connections {
                        tracing::debug!(port = limits.name, max = limits.max_connections, "side port: connections at the cap; closing a new one");
                        continue;
                    }
                    conns.spawn(connection(stream, limits, handler.clone(), stopping.clone()));
                }
                Err(e) => {
                    tracing::warn!(port = limits.name, error = %e, ?pause, "side port: accept failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            () = stopping.clone().wait() => break,
        }
    }
    drop(accept);
    let _ = tokio::time::timeout(limits.stop_wait, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    // Dropping the set aborts what is left.
}

async fn connection(stream: TcpStream, limits: SideLimits, handler: Handler, stopping: Stopping) {
    let service = {
        let stopping = stopping.clone();
        service_fn(move |req| {
            let answer = handler(req, stopping.clone());
            async move { Ok::<_, Infallible>(answer.await) }
        })
    };
    let conn = http1::Builder::new()
        .header_read_timeout(limits.header_read_timeout)
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = &mut conn => return,
        () = stopping.wait() => {}
        () = tokio::time::sleep(limits.connection_lifetime) => return,
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn limits() -> SideLimits {
        SideLimits {
            name: "test",
            max_connections: 2,
            header_read_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(30),
            stop_wait: Duration::from_millis(200),
        }
    }

    fn hello() -> Handler {
        Arc::new(|_req, _stopping| Box::pin(async { Response::new(Full::new(Bytes::from("hi"))) }))
    }

    async fn get(addr: SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut out = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out)).await;
        out
    }

    /// Three failed accepts (as when the process is out of file descriptors), then a
    /// real connection: it is still served.
    #[tokio::test]
    async fn the_port_keeps_accepting_after_accept_errors() {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.expect("bind"));
        let addr = listener.local_addr().expect("addr");
        let failures = Arc::new(AtomicUsize::new(0));
        let f = failures.clone();
        let accept = move || {
            let (listener, f) = (listener.clone(), f.clone());
            async move {
                if f.fetch_add(1, Ordering::SeqCst) < 3 {
                    return Err(std::io::Error::other("Too many open files"));
                }
                listener.accept().await.map(|(s, _)| s)
            }
        };
        let (_stop, stopping) = watch::channel(false);
        let task = tokio::spawn(accept_loop(accept, limits(), hello(), Stopping(stopping)));
        let answer = get(addr).await;
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("hi"),
            "{answer}"
        );
        assert!(failures.load(Ordering::SeqCst) > 3);
        task.abort();
    }

    /// Past the cap a connection is closed at once; after stop nothing is accepted.
    #[tokio::test]
    async fn connections_are_capped_and_stop_ends_the_port() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = SidePort::serve(listener, limits(), hello()).expect("serve");
        let addr = port.local_addr();
        // Two idle connections hold the two places.
        let _a = TcpStream::connect(addr).await.expect("a");
        let _b = TcpStream::connect(addr).await.expect("b");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(get(addr).await, "", "the third is closed unanswered");
        drop((_a, _b));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(get(addr).await.ends_with("hi"));
        port.stop().await;
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "stopped: nothing listens"
        );
    }
}
