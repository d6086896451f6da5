//! The server side of a TLS connection: the handshake, under its deadline, and the plain
//! 400 for a client that speaks HTTP to the HTTPS port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// Marks a request that came over TLS (its `url.scheme` is `https`; an HTTP/1.1 request
/// line carries no scheme of its own).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Https;

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// The answer to plain HTTP on the TLS port; Go answers the same status.
const PLAIN_HTTP: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
content-type: application/json\r\ncontent-length: 81\r\nconnection: close\r\n\r\n\
{\"code\":400,\"msg\":\"this port serves HTTPS: send the request to https:// instead\"}";

/// Runs the server side of handshakes; cheap to clone.
#[derive(Clone)]
pub(crate) struct TlsAcceptor {
    inner: tokio_rustls::TlsAcceptor,
    timeout: Duration,
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TlsAcceptor {
    pub(crate) fn new(config: rustls::ServerConfig, timeout: Duration) -> Self {
        TlsAcceptor {
            inner: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            timeout,
        }
    }

    /// The TLS stream of `tcp`, or `None` when the client did not finish a handshake in
    /// time, failed it (a wrong CA, no client certificate where one is required), or
    /// spoke plain HTTP (answered a 400 first).
    pub(crate) async fn accept(
        &self,
        tcp: TcpStream,
        remote: SocketAddr,
    ) -> Option<TlsStream<TcpStream>> {
        let handshake = async {
            let mut first = [0u8; 1];
            if tcp.peek(&mut first).await.ok()? == 0 {
                return None;
            }
            if first[0] != TLS_HANDSHAKE_RECORD {
                tracing::debug!(%remote, "plain HTTP on the TLS port; answered 400");
                answer_plain(tcp).await;
                return None;
            }
            match self.inner.accept(tcp).await {
                Ok(tls) => Some(tls),
                Err(e) => {
                    tracing::debug!(%remote, error = %e, "TLS handshake failed");
                    None
                }
            }
        };
        match tokio::time::timeout(self.timeout, handshake).await {
            Ok(done) => done,
            Err(_) => {
                tracing::debug!(%remote, timeout = ?self.timeout, "TLS handshake timed out");
                None
            }
        }
    }
}

/// Writes [`PLAIN_HTTP`], then reads what the client sent until it closes, so that the
/// close is not a reset that loses the answer. Bounded by the handshake deadline.
async fn answer_plain(mut tcp: TcpStream) {
    if tcp.write_all(PLAIN_HTTP).await.is_err() || tcp.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 1024];
    while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_answer_is_complete_json() {
        let text = std::str::from_utf8(PLAIN_HTTP).expect("ascii");
        let (_, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(v["code"], 400);
    }
}
