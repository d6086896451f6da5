//! P2C with EWMA latency over all endpoints of the target: go-zero's `p2c_ewma`
//! balancer, with rzero-resilience's [`P2c`] doing the math. Each call picks the less
//! loaded of two random endpoints (load = `sqrt(ewma latency) x (in flight + 1)`), and
//! reports its latency and outcome when its status is known, so a slow or failing
//! endpoint gets less traffic.
//!
//! tower's `p2c::Balance` with `PeakEwma` is close, but it measures latency to the
//! response headers (a gRPC success is only known at the trailers), knows no success
//! rate and needs a `Discover` stream; go-zero's algorithm is what this port promises.
//!
//! Endpoints are set live with [`Balance::set_endpoints`]; those that stay keep their
//! connection and statistics. Each endpoint has one lazily connected HTTP/2 channel.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use rzero_resilience::p2c::{P2c, Picked};
use tonic::Code;
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint as TonicEndpoint};
use tower::{BoxError, Service, ServiceExt};

use crate::body::{ObservedBody, OnEnd, observe};
use crate::status::counts_against_target;

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
#[derive(Clone, Copy, Debug)]
pub struct ChannelSettings {
    /// HTTP/2 keep-alive ping interval; `None` sends none.
    pub keepalive: Option<Duration>,
    /// How long a connection attempt may take.
    pub connect_timeout: Duration,
}

/// The balancing service: picks an endpoint per call.
#[derive(Clone, Debug)]
pub struct Balance {
    p2c: P2c<Endpoint>,
    settings: ChannelSettings,
    target: Arc<str>,
}

/// Reports a call's outcome to the balancer.
pub struct PickEnd(Picked<Endpoint>);

impl OnEnd for PickEnd {
    fn on_end(self, code: Option<Code>) {
        match code {
            Some(code) => self.0.done(!counts_against_target(code)),
            // Dropped: the latency so far still counts, the outcome does not.
            None => drop(self.0),
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
            settings,
            target: target.into(),
        }
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

    fn channel(&self, addr: &str) -> Result<Channel, tonic::transport::Error> {
        let uri = if addr.contains("://") {
            addr.to_owned()
        } else {
            format!("http://{addr}")
        };
        let mut endpoint = TonicEndpoint::from_shared(uri)?
            .tcp_nodelay(true)
            .connect_timeout(self.settings.connect_timeout);
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
        Box::pin(async move {
            match channel.oneshot(req).await {
                Ok(response) => Ok(observe(response, PickEnd(picked))),
                // A transport failure is a gRPC status for every layer above alike:
                // tonic's own `grpc-timeout` guard is DEADLINE_EXCEEDED, the rest
                // UNAVAILABLE.
                Err(e) => {
                    picked.done(false);
                    let status = if timed_out(&e) {
                        tonic::Status::deadline_exceeded(
                            "deadline exceeded: the call took longer than its grpc-timeout",
                        )
                    } else {
                        tonic::Status::unavailable(format!(
                            "cannot reach `{addr}`: {e}; is the server up?"
                        ))
                    };
                    Ok(status.into_http())
                }
            }
        })
    }
}
