//! How calls are spread over the endpoints of the target (`Balancer.Kind`):
//!
//! - `p2c_ewma` (default): P2C with EWMA latency, go-zero's `p2c_ewma` balancer, with
//!   rzero-resilience's [`P2c`] doing the math;
//! - `consistent_hash`: go-zero's `consistent_hash` balancer, the [`ring`] over the
//!   endpoints keyed by a request value (the metadata key `Balancer.HashKey`, or a
//!   [`HashKey`] the call carries), so a key's calls land on one server as long as it
//!   is there; a call with no key falls back to P2C.
//!
//! P2C: each call picks the less loaded of two random endpoints (load =
//! `sqrt(ewma latency) x (in flight + 1)`), and reports its latency and outcome when its
//! status is known, so a slow or failing endpoint gets less traffic.
//!
//! tower's `p2c::Balance` with `PeakEwma` is close, but it measures latency to the
//! response headers (a gRPC success is only known at the trailers), knows no success
//! rate and needs a `Discover` stream; go-zero's algorithm is what this port promises.
//!
//! Endpoints are set live with [`Balance::set_endpoints`]; those that stay keep their
//! connection and statistics (and, hashed, their keys). Each endpoint has one lazily
//! connected HTTP/2 channel, over TLS when the client has a `Tls` section.

mod config;
pub mod ring;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderName, Request, Response};
use rzero_resilience::p2c::{P2c, Picked};
use tonic::Code;
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint as TonicEndpoint};
use tower::{BoxError, Service, ServiceExt};

use crate::body::{ObservedBody, OnEnd, observe};
use crate::status::counts_against_target;
use crate::tls::ClientTls;
pub use config::{BalancerConf, BalancerKind};
use ring::Ring;

/// One endpoint: its address and channel. Equal by address.
#[derive(Clone, Debug)]
pub struct Endpoint {
    addr: Arc<str>,
    channel: Channel,
}

impl PartialEq for Endpoint {
    fn eq(&self, other: &Self) -> bool {
        self.addr == other.addr
    }
}

impl Endpoint {
    /// The `host:port` of the endpoint.
    pub fn addr(&self) -> &str {
        &self.addr
    }
}

/// Connection settings of every endpoint's channel.
#[derive(Clone, Debug)]
pub struct ChannelSettings {
    /// HTTP/2 keep-alive ping interval; `None` sends none.
    pub keepalive: Option<Duration>,
    /// How long a connection attempt may take (the TLS handshake included).
    pub connect_timeout: Duration,
    /// TLS to every endpoint; `None` is plaintext.
    pub tls: Option<ClientTls>,
}

/// The key a call is hashed by under `consistent_hash`, set per call in the request's
/// extensions (`request.extensions_mut().insert(HashKey::new("user-42"))`); it wins
/// over the `Balancer.HashKey` metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashKey(pub Arc<str>);

impl HashKey {
    /// A key from any string.
    pub fn new(key: impl Into<Arc<str>>) -> Self {
        HashKey(key.into())
    }
}

/// The balancing service: picks an endpoint per call.
///
/// Cloned with every clone of its client (once a request, in a handler's state): every
/// field is a reference count, the TLS settings included.
#[derive(Clone, Debug)]
pub struct Balance {
    p2c: P2c<Endpoint>,
    hashing: Option<Arc<Hashing>>,
    settings: Arc<ChannelSettings>,
    target: Arc<str>,
}

/// `consistent_hash`'s state: where the key is read, and the ring now.
#[derive(Debug)]
struct Hashing {
    header: Option<HeaderName>,
    replicas: usize,
    ring: RwLock<Arc<Ring<Endpoint>>>,
}

/// Reports a call's outcome to the balancer (P2C's statistics; a hashed pick has none).
pub struct PickEnd(Option<Picked<Endpoint>>);

impl OnEnd for PickEnd {
    fn on_end(self, code: Option<Code>) {
        match (self.0, code) {
            (Some(picked), Some(code)) => picked.done(!counts_against_target(code)),
            // Dropped: the latency so far still counts, the outcome does not.
            (picked, None) => drop(picked),
            (None, Some(_)) => {}
        }
    }
}

// === impl Balance ===

impl Balance {
    /// A balancer with no endpoint yet, for `target` (named in errors).
    pub fn new(target: &str, settings: ChannelSettings) -> Self {
        Self::with_p2c(target, settings, P2c::new())
    }

    /// The same on a given [`P2c`] (tests seed it and drive its clock).
    pub fn with_p2c(target: &str, settings: ChannelSettings, p2c: P2c<Endpoint>) -> Self {
        Balance {
            p2c,
            hashing: None,
            settings: Arc::new(settings),
            target: target.into(),
        }
    }

    /// Spreads calls by consistent hashing of the metadata value under `header` (or a
    /// call's [`HashKey`]), with `replicas` virtual nodes per endpoint; calls with no
    /// key still go through P2C.
    pub fn consistent_hash(mut self, header: Option<HeaderName>, replicas: usize) -> Self {
        let ring = Ring::new(self.p2c.endpoints(), replicas, |e: &Endpoint| &e.addr);
        self.hashing = Some(Arc::new(Hashing {
            header,
            replicas,
            ring: RwLock::new(Arc::new(ring)),
        }));
        self
    }

    /// The endpoint `key` hashes to, under `consistent_hash`; `None` without
    /// endpoints or when the balancer is P2C.
    pub fn pick_hashed(&self, key: &[u8]) -> Option<Endpoint> {
        let hashing = self.hashing.as_ref()?;
        let ring = hashing.ring.read().unwrap_or_else(|e| e.into_inner());
        ring.get(key).cloned()
    }

    /// The call's hash key: its [`HashKey`] extension, else the configured metadata.
    fn hash_key<'r>(&self, req: &'r Request<Body>) -> Option<&'r [u8]> {
        let hashing = self.hashing.as_ref()?;
        if let Some(k) = req.extensions().get::<HashKey>() {
            return Some(k.0.as_bytes());
        }
        let header = hashing.header.as_ref()?;
        req.headers().get(header).map(|v| v.as_bytes())
    }

    /// Replaces the endpoints; those that stay keep their channel and statistics.
    /// Addresses that are not valid URIs are skipped with a warning.
    pub fn set_endpoints(&self, addrs: &[String]) {
        let current = self.p2c.endpoints();
        let mut next = Vec::with_capacity(addrs.len());
        for addr in addrs {
            if let Some(e) = current.iter().find(|e| &*e.addr == addr.as_str()) {
                next.push(e.clone());
                continue;
            }
            match self.channel(addr) {
                Ok(channel) => next.push(Endpoint {
                    addr: addr.as_str().into(),
                    channel,
                }),
                Err(e) => tracing::warn!(target = %self.target, %addr, "skipping endpoint: {e}"),
            }
        }
        tracing::debug!(target = %self.target, endpoints = ?addrs, "endpoints updated");
        if let Some(h) = &self.hashing {
            let ring = Ring::new(next.clone(), h.replicas, |e: &Endpoint| &e.addr);
            *h.ring.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(ring);
        }
        self.p2c.set_endpoints(next);
    }

    /// The endpoints now.
    pub fn endpoints(&self) -> Vec<String> {
        self.p2c
            .endpoints()
            .iter()
            .map(|e| e.addr.to_string())
            .collect()
    }

    /// The balancer's statistics, for metrics and tests.
    pub fn p2c(&self) -> &P2c<Endpoint> {
        &self.p2c
    }

    fn channel(&self, addr: &str) -> Result<Channel, BoxError> {
        let tls = self.settings.tls.as_ref();
        let uri = match addr.split_once("://") {
            // tonic speaks TLS to `https://` URIs only.
            Some((_, rest)) if tls.is_some() => format!("https://{rest}"),
            Some(_) => addr.to_owned(),
            None if tls.is_some() => format!("https://{addr}"),
            None => format!("http://{addr}"),
        };
        let mut endpoint = TonicEndpoint::from_shared(uri)?
            .tcp_nodelay(true)
            .connect_timeout(self.settings.connect_timeout);
        if let Some(tls) = tls {
            endpoint = tls.apply(endpoint)?;
        }
        if let Some(k) = self.settings.keepalive {
            endpoint = endpoint
                .http2_keep_alive_interval(k)
                .keep_alive_while_idle(true);
        }
        Ok(endpoint.connect_lazy())
    }
}

/// True when `e` is tonic's channel giving up at the request's `grpc-timeout`.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        if err.is::<tonic::TimeoutExpired>() {
            return true;
        }
        source = err.source();
    }
    false
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Service<Request<Body>> for Balance {
    type Response = Response<ObservedBody<Body, PickEnd>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness is per endpoint, known only once one is picked.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if let Some(endpoint) = self.hash_key(&req).and_then(|k| self.pick_hashed(k)) {
            let tls = self.settings.tls.is_some();
            return Box::pin(send(
                endpoint.addr,
                endpoint.channel,
                req,
                PickEnd(None),
                tls,
            ));
        }
        let Some(picked) = self.p2c.pick() else {
            let status = tonic::Status::unavailable(format!(
                "no endpoint for target `{}`: none configured or discovered yet; check Endpoints, Etcd or Target",
                self.target
            ));
            return Box::pin(std::future::ready(Ok(status.into_http())));
        };
        let Some((addr, channel)) = picked.key().map(|e| (e.addr.clone(), e.channel.clone()))
        else {
            return Box::pin(std::future::ready(Ok(tonic::Status::unavailable(
                "endpoint vanished",
            )
            .into_http())));
        };
        let tls = self.settings.tls.is_some();
        Box::pin(send(addr, channel, req, PickEnd(Some(picked)), tls))
    }
}

/// Sends `req` on `channel`; a transport failure is a gRPC status for every layer
/// above alike: tonic's own `grpc-timeout` guard is DEADLINE_EXCEEDED, the rest
/// UNAVAILABLE, with the cause (a refused TLS handshake says why) in the message.
async fn send(
    addr: Arc<str>,
    channel: Channel,
    req: Request<Body>,
    end: PickEnd,
    tls: bool,
) -> Result<Response<ObservedBody<Body, PickEnd>>, BoxError> {
    match channel.oneshot(req).await {
        Ok(response) => Ok(observe(response, end)),
        Err(e) => {
            if let Some(picked) = end.0 {
                picked.done(false);
            }
            let status = if timed_out(&e) {
                tonic::Status::deadline_exceeded(
                    "deadline exceeded: the call took longer than its grpc-timeout",
                )
            } else {
                tonic::Status::unavailable(format!(
                    "cannot reach `{addr}`: {}; is the server up{}?",
                    rzero_telemetry::tls::error_chain(&e),
                    if tls || is_tls_error(&e) {
                        TLS_HINT
                    } else {
                        ""
                    }
                ))
            };
            Ok(status.into_http())
        }
    }
}

/// Where to look when a TLS connection fails: a server that requires client
/// certificates closes the connection on a client without one (TLS 1.3 sends its alert
/// after the client's handshake is done), which reads as a plain "connection closed".
const TLS_HINT: &str = ", and do its certificate and this client's Tls section match \
                        (CACertFile, ServerName; CertFile/KeyFile when the server requires \
                        client certificates)";

/// True when a rustls error is in `e`'s chain.
fn is_tls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        // tokio-rustls wraps rustls' error in an io::Error, whose `source` skips it.
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        if err.is::<rustls::Error>() || inner.is_some_and(|i| i.is::<rustls::Error>()) {
            return true;
        }
        source = err.source();
    }
    false
}
