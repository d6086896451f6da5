//! OTLP/HTTP: `POST /v1/traces|metrics|logs` with protobuf or JSON bodies, gzip or not,
//! answered in the request's encoding as the OTLP specification says (200 with an export
//! response, 400 with a `google.rpc.Status` for a payload that does not decode, 413 for
//! a body over the limit or one that would decode to more than a
//! request may (the pre-scan's estimate), 401 for a missing or wrong bearer token when
//! one is set, 503 with `Retry-After` when the decode budget is in use, 415 for an unsupported content type or encoding).

use std::io::Read;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Receiver;
use super::grpc::{logs_response, trace_response};
use super::guard::{Admitted, Refusal};
use super::scan::Signal;

/// `google.rpc.Status`, the error body of OTLP/HTTP (details left out).
#[derive(Clone, PartialEq, Message, Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Protobuf,
    Json,
}

pub(crate) fn router(receiver: Receiver) -> Router {
    let max = receiver.max_body_bytes;
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/metrics", post(metrics))
        .route("/v1/logs", post(logs))
        // The wire limit; the decompressed size is checked again in `decode`.
        .layer(DefaultBodyLimit::max(max))
        // Before the body is read: a wrong token costs no inflating or scanning.
        .layer(axum::middleware::from_fn_with_state(
            receiver.clone(),
            authorize,
        ))
        .with_state(receiver)
}

async fn authorize(
    State(r): State<Receiver>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let header = request.headers().get(header::AUTHORIZATION);
    match r.guard.authorize(header.map(|h| h.as_bytes())) {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            let mut resp = (StatusCode::UNAUTHORIZED, refused.message().to_owned()).into_response();
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"otlp\""),
            );
            resp
        }
    }
}

async fn traces(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    match decode::<ExportTraceServiceRequest>(&r, Signal::Traces, &headers, &body) {
        Ok((req, enc, admitted)) => {
            let rejected = r.traces(req, admitted.scan.decoded_bytes);
            encode(enc, StatusCode::OK, &trace_response(rejected))
        }
        Err(reject) => reject.into_response(),
    }
}

async fn metrics(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    match decode::<ExportMetricsServiceRequest>(&r, Signal::Metrics, &headers, &body) {
        Ok((req, enc, admitted)) => {
            r.sink.metrics(req, admitted.scan.decoded_bytes);
            let ok = ExportMetricsServiceResponse {
                partial_success: None,
            };
            encode(enc, StatusCode::OK, &ok)
        }
        Err(reject) => reject.into_response(),
    }
}

async fn logs(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    match decode::<ExportLogsServiceRequest>(&r, Signal::Logs, &headers, &body) {
        Ok((req, enc, admitted)) => {
            let rejected = r.sink.logs(req, admitted.scan.decoded_bytes);
            encode(enc, StatusCode::OK, &logs_response(rejected))
        }
        Err(reject) => reject.into_response(),
    }
}

fn encode<M: Message + Serialize>(enc: Encoding, status: StatusCode, msg: &M) -> Response {
    let (ctype, body) = match enc {
        Encoding::Protobuf => ("application/x-protobuf", msg.encode_to_vec()),
        Encoding::Json => (
            "application/json",
            serde_json::to_vec(msg).unwrap_or_else(|_| b"{}".to_vec()),
        ),
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp
}

/// A refused request: the HTTP status, the encoding to answer in (plain text when the
/// request's own was not understood) and why.
struct Reject(StatusCode, Option<Encoding>, String);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let Reject(http, enc, message) = self;
        // The gRPC code that goes with the HTTP status: INVALID_ARGUMENT (3) for bad
        // data, as the specification's examples do.
        let code = match http {
            StatusCode::PAYLOAD_TOO_LARGE => 8,
            StatusCode::SERVICE_UNAVAILABLE => 14,
            _ => 3,
        };
        let mut resp = match enc {
            Some(enc) => encode(enc, http, &RpcStatus { code, message }),
            None => (http, message).into_response(),
        };
        if http == StatusCode::SERVICE_UNAVAILABLE {
            // OTLP/HTTP: 503 is retryable; say when.
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

fn refused(r: Refusal, enc: Encoding) -> Reject {
    let status = match &r {
        Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
        Refusal::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Refusal::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        Refusal::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
    };
    Reject(status, Some(enc), r.message().to_owned())
}

fn decode<M: Message + Default + DeserializeOwned>(
    r: &Receiver,
    signal: Signal,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(M, Encoding, Admitted), Reject> {
    let max = r.max_body_bytes;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let enc = match ctype.as_str() {
        "application/x-protobuf" | "application/protobuf" => Encoding::Protobuf,
        "application/json" => Encoding::Json,
        other => {
            let msg = format!(
                "unsupported content type `{other}`: send application/x-protobuf or application/json"
            );
            return Err(Reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, None, msg));
        }
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let inflated;
    let raw: &[u8] = match encoding.as_str() {
        "identity" | "" => body,
        "gzip" => {
            let mut out = Vec::new();
            let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
            let read = flate2::read::GzDecoder::new(body)
                .take(limit)
                .read_to_end(&mut out);
            if let Err(e) = read {
                let msg = format!("bad gzip body: {e}");
                return Err(Reject(StatusCode::BAD_REQUEST, Some(enc), msg));
            }
            if out.len() > max {
                let msg = format!("the body is larger than {max} bytes once decompressed");
                return Err(Reject(StatusCode::PAYLOAD_TOO_LARGE, Some(enc), msg));
            }
            inflated = out;
            &inflated
        }
        other => {
            let msg = format!("unsupported content encoding `{other}`: send gzip or none");
            return Err(Reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, Some(enc), msg));
        }
    };
    // An empty body decodes as an empty protobuf message, but no exporter sends one:
    // it is a broken client, and saying so helps more than a silent 200.
    if raw.is_empty() {
        let msg = "the body is empty: send an export request".to_owned();
        return Err(Reject(StatusCode::BAD_REQUEST, Some(enc), msg));
    }
    let admitted = r
        .guard
        .admit(signal, raw, enc == Encoding::Json)
        .map_err(|e| refused(e, enc))?;
    let parsed = match enc {
        Encoding::Protobuf => M::decode(raw).map_err(|e| e.to_string()),
        Encoding::Json => serde_json::from_slice(raw).map_err(|e| e.to_string()),
    };
    parsed.map(|m| (m, enc, admitted)).map_err(|e| {
        let msg = format!("the payload does not decode: {e}");
        Reject(StatusCode::BAD_REQUEST, Some(enc), msg)
    })
}
