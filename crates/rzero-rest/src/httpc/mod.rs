//! The outbound HTTP client (go-zero's `httpc`) for services that call other HTTP APIs.
//!
//! Each request is a CLIENT span (`METHOD`, with `http.request.method`, `url.full`,
//! `server.address`, `server.port`, `http.response.status_code`, `error.type`) under the
//! current context, whose trace context and baggage are injected into the headers with
//! the global propagator, so the callee continues the caller's trace. Each request has a
//! timeout (connect, head and body together) and each `host:port` its own adaptive
//! breaker: errors and 5xx answers count against the host, and an open breaker fails the
//! call at once.
//!
//! `http://` and `https://`: TLS is rustls with ring (the process's one provider),
//! HTTP/2 or HTTP/1.1 by ALPN, servers verified against the system's trust store
//! ([`Client::new`]) or a given CA, with an optional client certificate
//! ([`Client::with_tls`] and [`ClientTlsConf`]). The timeout covers the handshake too.
//! A certificate the client does not trust fails with [`HttpcError::Tls`], which says so.

mod error;

use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute as semconv;
use rzero_resilience::breaker::{BreakerConfig, BreakerSet};
use rzero_telemetry::propagation::HeaderInjector;

pub use crate::tls::{ClientTlsConf, TlsConfError};
pub use error::HttpcError;

/// Default limit of a response body read by [`Client::send`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 10 << 20;

/// A traced HTTP client with a timeout and a breaker per host; cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: HyperClient<HttpsConnector<HttpConnector>, Body>,
    tracer: std::sync::Arc<BoxedTracer>,
    breakers: BreakerSet<String>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .field("hosts", &self.breakers.len())
            .finish()
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new(Duration::from_secs(3))
    }
}

impl Client {
    /// A client whose requests time out after `timeout`, tracing with the global
    /// provider; `https://` servers are verified against the system's trust store.
    pub fn new(timeout: Duration) -> Self {
        Client::with_config(timeout, crate::tls::client::system_config())
    }

    /// A client whose `https://` servers are verified as `tls` says (a CA file instead
    /// of the system's store, a client certificate for servers that require one).
    /// Fails when a file named there is missing or is not what its key says.
    pub fn with_tls(timeout: Duration, tls: &ClientTlsConf) -> Result<Self, TlsConfError> {
        Ok(Client::with_config(timeout, tls.client_config()?))
    }

    fn with_config(timeout: Duration, tls: rustls::ClientConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        // The TLS connector checks the scheme itself; this one must let https through.
        connector.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2() // ALPN offers h2, then http/1.1
            .wrap_connector(connector);
        Client {
            http: HyperClient::builder(TokioExecutor::new()).build(connector),
            tracer: std::sync::Arc::new(global::tracer(rzero_telemetry::SCOPE)),
            breakers: BreakerSet::new(BreakerConfig::default()),
            timeout,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Response bodies larger than `limit` fail with [`HttpcError::TooLarge`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The breakers, one per `host:port`, e.g. to read their history.
    pub fn breakers(&self) -> &BreakerSet<String> {
        &self.breakers
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Result<Response<Bytes>, HttpcError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| HttpcError::InvalidUrl(url.to_owned()))?;
        let req = Request::get(uri)
            .body(Body::empty())
            .map_err(|e| HttpcError::InvalidUrl(e.to_string()))?;
        self.send(req).await
    }

    /// `POST url` with `body` as JSON.
    pub async fn post_json<T: serde::Serialize>(
        &self,
        url: &str,
        body: &T,
    ) -> Result<Response<Bytes>, HttpcError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| HttpcError::InvalidUrl(url.to_owned()))?;
        let json = serde_json::to_vec(body).map_err(|e| HttpcError::Body(e.to_string()))?;
        let req = Request::post(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(json))
            .map_err(|e| HttpcError::InvalidUrl(e.to_string()))?;
        self.send(req).await
    }

    /// Sends `req` and reads the whole answer, traced, under the timeout and the host's
    /// breaker. A 5xx is returned as a response (and counted against the host).
    pub async fn send(&self, mut req: Request<Body>) -> Result<Response<Bytes>, HttpcError> {
        let uri = req.uri().clone();
        let full = url_full(&uri);
        let default_port = match uri.scheme_str() {
            Some("http") => 80,
            Some("https") => 443,
            _ => {
                return Err(HttpcError::InvalidUrl(format!(
                    "{full}: only http:// and https:// URLs are supported"
                )));
            }
        };
        let host = uri.host().unwrap_or_default().to_owned();
        let port = uri.port_u16().unwrap_or(default_port);
        let key = format!("{host}:{port}");
        let method = req.method().as_str().to_owned();

        let parent = Context::current();
        let builder = self
            .tracer
            .span_builder(method.clone())
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new(semconv::HTTP_REQUEST_METHOD, method),
                KeyValue::new(semconv::URL_FULL, full),
                KeyValue::new(semconv::SERVER_ADDRESS, host),
                KeyValue::new(semconv::SERVER_PORT, i64::from(port)),
            ]);
        let span = self.tracer.build_with_context(builder, &parent);
        let cx = parent.with_span(span);
        rzero_telemetry::propagation::inject(&cx, &mut HeaderInjector(req.headers_mut()));

        let breaker = self.breakers.get(&key);
        let result = match breaker.allow() {
            Err(_) => Err(HttpcError::BreakerOpen { host: key }),
            Ok(promise) => {
                let result = tokio::time::timeout(self.timeout, self.exchange(req)).await;
                let result = result.unwrap_or(Err(HttpcError::Timeout(self.timeout)));
                match &result {
                    Ok(resp) if !resp.status().is_server_error() => promise.accept(),
                    _ => promise.reject(),
                }
                result
            }
        };
        let span = cx.span();
        match &result {
            Ok(resp) => {
                let status = resp.status();
                span.set_attribute(KeyValue::new(
                    semconv::HTTP_RESPONSE_STATUS_CODE,
                    i64::from(status.as_u16()),
                ));
                // Client spans fail on 4xx and 5xx (the semantic conventions' rule).
                if status.is_client_error() || status.is_server_error() {
                    span.set_attribute(KeyValue::new(
                        semconv::ERROR_TYPE,
                        status.as_u16().to_string(),
                    ));
                    span.set_status(Status::error(status.canonical_reason().unwrap_or("error")));
                }
            }
            Err(e) => {
                span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, e.kind()));
                span.set_status(Status::error(e.to_string()));
            }
        }
        span.end();
        result
    }

    async fn exchange(&self, req: Request<Body>) -> Result<Response<Bytes>, HttpcError> {
        let resp = self.http.request(req).await.map_err(HttpcError::connect)?;
        let (parts, body) = resp.into_parts();
        let bytes = Limited::new(body, self.max_response_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    HttpcError::TooLarge(self.max_response_bytes)
                } else {
                    HttpcError::Body(e.to_string())
                }
            })?
            .to_bytes();
        Ok(Response::from_parts(parts, bytes))
    }
}

/// Query parameters whose values the semantic conventions say to redact in `url.full`
/// (pre-signed URLs carry credentials there).
const SENSITIVE_QUERY: [&str; 4] = ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// `uri` as `url.full` may carry it: credentials in the userinfo become
/// `REDACTED:REDACTED@` and the values of [`SENSITIVE_QUERY`] parameters `REDACTED`, as
/// the HTTP semantic conventions require. Also what error messages show.
pub(crate) fn url_full(uri: &Uri) -> String {
    let mut out = String::new();
    if let Some(scheme) = uri.scheme_str() {
        out.push_str(scheme);
        out.push_str("://");
    }
    if let Some(authority) = uri.authority() {
        let authority = authority.as_str();
        match authority.rsplit_once('@') {
            Some((_, host)) => {
                out.push_str("REDACTED:REDACTED@");
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
    }
    out.push_str(uri.path());
    if let Some(query) = uri.query() {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((k, _)) if SENSITIVE_QUERY.contains(&k) => {
                    out.push_str(k);
                    out.push_str("=REDACTED");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_full_has_no_credentials() {
        let full = |s: &str| url_full(&s.parse().expect("uri"));
        assert_eq!(
            full("http://user:pa%40ss@api.local:8080/a?b=1"),
            "http://REDACTED:REDACTED@api.local:8080/a?b=1"
        );
        assert_eq!(
            full("http://h/p?X-Goog-Signature=abc&x=1&sig=s"),
            "http://h/p?X-Goog-Signature=REDACTED&x=1&sig=REDACTED"
        );
        assert_eq!(full("http://h:1/"), "http://h:1/");
    }
}
