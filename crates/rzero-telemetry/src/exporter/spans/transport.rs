//! Sends an encoded `ExportTraceServiceRequest`: OTLP/gRPC over tonic (the request bytes
//! go out as they are, through a pass-through codec) or OTLP/HTTP with protobuf bodies
//! over hyper (TLS with the process's one crypto provider, as [`super::super::https`]).
//!
//! Both run on the export thread's own current-thread runtime (see [`super::worker`]).
//! Transient failures (gRPC UNAVAILABLE, HTTP 429/502/503/504, a connection that could
//! not be made) are retried with a doubling backoff from 100 ms while the export's
//! deadline allows, as the SDK's OTLP exporters do; anything else fails the batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes};
use http::{Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint};

use crate::config::Protocol;
use crate::error::TelemetryError;
use crate::settings::ExportTarget;

const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What [`Transport::connect`] needs, checked at start (bad endpoints, headers and TLS
/// files fail `init`, not every export).
pub(crate) enum Plan {
    Grpc {
        // Boxed: an `Endpoint` is large, and a plan is made once.
        endpoint: Box<Endpoint>,
        metadata: MetadataMap,
    },
    Http {
        uri: Uri,
        headers: http::HeaderMap,
        tls: Option<TlsConnector>,
    },
}

/// A live connection to the collector, owned by the export thread.
pub(crate) enum Transport {
    Grpc {
        grpc: tonic::client::Grpc<Channel>,
        metadata: MetadataMap,
    },
    Http {
        plan: HttpPlan,
        conn: Option<SendRequest<Full<Bytes>>>,
    },
}

pub(crate) struct HttpPlan {
    uri: Uri,
    headers: http::HeaderMap,
    tls: Option<TlsConnector>,
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    retry: bool,
    reason: String,
}

// === impl Plan ===

impl Plan {
    /// Checks `target` the way the SDK's exporter builders do.
    pub(crate) fn new(target: &ExportTarget) -> Result<Plan, TelemetryError> {
        let fail = |reason: String| TelemetryError::Exporter {
            signal: "traces",
            endpoint: target.endpoint.clone(),
            reason,
        };
        let https = super::super::check_scheme(target)?;
        match target.protocol {
            Protocol::Grpc => {
                let mut endpoint = Endpoint::from_shared(target.endpoint.clone())
                    .map_err(|e| fail(e.to_string()))?
                    .timeout(target.timeout);
                if https {
                    endpoint = endpoint
                        .tls_config(super::super::grpc_tls(target)?)
                        .map_err(|e| fail(e.to_string()))?;
                }
                let metadata = super::super::metadata(target)?;
                Ok(Plan::Grpc {
                    endpoint: Box::new(endpoint),
                    metadata,
                })
            }
            Protocol::HttpProtobuf => {
                let uri: Uri = target
                    .endpoint
                    .parse()
                    .map_err(|e: http::uri::InvalidUri| fail(e.to_string()))?;
                if uri.host().is_none() {
                    return Err(fail("the endpoint has no host".into()));
                }
                let mut headers = http::HeaderMap::new();
                for (k, v) in super::super::checked_headers(target)? {
                    let name = http::HeaderName::from_bytes(k.as_bytes())
                        .map_err(|e| fail(e.to_string()))?;
                    let value = http::HeaderValue::from_str(&v).map_err(|e| fail(e.to_string()))?;
                    headers.insert(name, value);
                }
                headers.insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/x-protobuf"),
                );
                if let Some(a) = uri.authority() {
                    let host =
                        http::HeaderValue::from_str(a.as_str()).map_err(|e| fail(e.to_string()))?;
                    headers.insert(http::header::HOST, host);
                }
                let tls = if https {
                    let config = super::super::https::client_config(&target.tls)?;
                    Some(TlsConnector::from(Arc::new(config)))
                } else {
                    None
                };
                Ok(Plan::Http { uri, headers, tls })
            }
        }
    }
}

// === impl Transport ===

impl Transport {
    /// Opens the transport lazily; call inside the export thread's runtime.
    pub(crate) fn connect(plan: Plan) -> Transport {
        match plan {
            Plan::Grpc { endpoint, metadata } => Transport::Grpc {
                grpc: tonic::client::Grpc::new(endpoint.connect_lazy()),
                metadata,
            },
            Plan::Http { uri, headers, tls } => Transport::Http {
                plan: HttpPlan { uri, headers, tls },
                conn: None,
            },
        }
    }

    /// Sends `body`, retrying transient failures until `deadline`.
    pub(crate) async fn send(&mut self, body: Bytes, deadline: Instant) -> Result<(), String> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("the export deadline passed before the collector answered".into());
            }
            let attempt = tokio::time::timeout(left, self.attempt(body.clone(), left)).await;
            let failure = match attempt {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(f)) => f,
                Err(_) => {
                    self.reset();
                    return Err(format!("no answer within the export timeout {left:?}"));
                }
            };
            let retry_at = Instant::now() + backoff;
            if !failure.retry || retry_at >= deadline {
                return Err(failure.reason);
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }

    async fn attempt(&mut self, body: Bytes, left: Duration) -> Result<(), Failure> {
        match self {
            Transport::Grpc { grpc, metadata } => {
                grpc.ready().await.map_err(|e| Failure {
                    retry: true,
                    reason: format!("cannot reach the collector: {e}"),
                })?;
                let mut request = tonic::Request::new(body);
                *request.metadata_mut() = metadata.clone();
                request.set_timeout(left);
                let path = http::uri::PathAndQuery::from_static(EXPORT_PATH);
                match grpc.unary(request, path, RawCodec).await {
                    Ok(_) => Ok(()),
                    Err(status) => Err(Failure {
                        retry: matches!(status.code(), tonic::Code::Unavailable),
                        reason: format!("the collector answered {status}"),
                    }),
                }
            }
            Transport::Http { plan, conn } => {
                let result = http_attempt(plan, conn, body).await;
                if result.is_err() {
                    *conn = None;
                }
                result
            }
        }
    }

    /// Forgets a connection that may be stuck (after a timeout).
    fn reset(&mut self) {
        if let Transport::Http { conn, .. } = self {
            *conn = None;
        }
    }
}

/// One POST on the kept connection, opening one when there is none.
async fn http_attempt(
    plan: &HttpPlan,
    conn: &mut Option<SendRequest<Full<Bytes>>>,
    body: Bytes,
) -> Result<(), Failure> {
    if conn.as_ref().is_none_or(|c| c.is_closed()) {
        *conn = Some(http_connect(plan).await.map_err(|reason| Failure {
            retry: true,
            reason,
        })?);
    }
    let Some(sender) = conn.as_mut() else {
        return Err(Failure {
            retry: true,
            reason: "no connection".into(),
        });
    };
    let lost = |e: hyper::Error| Failure {
        retry: true,
        reason: format!("the connection to the collector failed: {e}"),
    };
    sender.ready().await.map_err(lost)?;
    let path = plan.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = Request::post(path)
        .body(Full::new(body))
        .map_err(|e| Failure {
            retry: false,
            reason: e.to_string(),
        })?;
    *request.headers_mut() = plan.headers.clone();
    let response = sender.send_request(request).await.map_err(lost)?;
    let status = response.status();
    // Read the body to the end so the connection can carry the next export.
    let _ = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await;
    if status.is_success() {
        return Ok(());
    }
    Err(Failure {
        retry: matches!(status.as_u16(), 429 | 502 | 503 | 504),
        reason: format!("the collector answered HTTP {status}"),
    })
}

async fn http_connect(plan: &HttpPlan) -> Result<SendRequest<Full<Bytes>>, String> {
    let host = plan.uri.host().unwrap_or_default();
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = plan
        .uri
        .port_u16()
        .unwrap_or(if plan.tls.is_some() { 443 } else { 80 });
    let cannot = |e: &dyn std::fmt::Display| format!("cannot connect to {host}:{port}: {e}");
    let tcp = tokio::net::TcpStream::connect((bare.as_str(), port))
        .await
        .map_err(|e| cannot(&e))?;
    tcp.set_nodelay(true).map_err(|e| cannot(&e))?;
    match &plan.tls {
        Some(connector) => {
            let name = ServerName::try_from(bare).map_err(|e| cannot(&e))?;
            let tls = connector.connect(name, tcp).await.map_err(|e| cannot(&e))?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(|e| cannot(&e))?;
            tokio::spawn(conn);
            Ok(sender)
        }
        None => {
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                .await
                .map_err(|e| cannot(&e))?;
            tokio::spawn(conn);
            Ok(sender)
        }
    }
}

// === impl RawCodec ===

/// A gRPC codec whose messages are already-encoded protobuf: requests go out as they
/// are, and the response (an `ExportTraceServiceResponse`) is read and dropped.
#[derive(Clone, Copy, Debug, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ();
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = ();
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        let n = src.remaining();
        src.advance(n);
        Ok(Some(()))
    }
}
