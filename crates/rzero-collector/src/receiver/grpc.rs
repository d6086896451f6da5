//! OTLP/gRPC: the three collector services of opentelemetry-proto, gzip accepted.
//!
//! Not the generated servers: those decode with prost inside the codec, before any code
//! of ours runs, and a small request can decode to a gigabyte. Here the codec hands over
//! the (decompressed, size-limited) bytes; the [`Guard`] checks the token and pre-scans
//! them; only then does prost decode. tonic still does the framing, compression and
//! message size limit (`tonic::server::Grpc`), and the routes are tonic's (an axum
//! router under the hood, which is why they are written as axum handlers).

use std::marker::PhantomData;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::{Buf, Bytes};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tonic::Status;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, UnaryService};

use super::Receiver;
use super::scan::Signal;

const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// The routes of the three services.
pub(crate) fn routes(receiver: Receiver) -> tonic::service::Routes {
    let router = axum::Router::new()
        .route(TRACES, post(traces))
        .route(METRICS, post(metrics))
        .route(LOGS, post(logs))
        .fallback(|| async {
            Status::unimplemented("this collector serves the OTLP trace, metrics and logs services")
                .into_http::<axum::body::Body>()
        })
        .with_state(receiver);
    tonic::service::Routes::from(router)
}

/// Bytes in (tonic has already removed the framing and gzip), a prost message out.
struct RawCodec<R>(PhantomData<R>);

struct RawDecoder;

struct ProstEncoder<R>(PhantomData<R>);

impl<R: Message + Send + 'static> Codec for RawCodec<R> {
    type Encode = R;
    type Decode = Bytes;
    type Encoder = ProstEncoder<R>;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawDecoder
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n)))
    }
}

impl<R: Message> Encoder for ProstEncoder<R> {
    type Item = R;
    type Error = Status;

    fn encode(&mut self, item: R, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("cannot encode the answer: {e}")))
    }
}

/// One export call: admit, decode, hand to the sink.
struct Export<R> {
    receiver: Receiver,
    signal: Signal,
    answer: PhantomData<R>,
}

impl<R: Message + Default + Send + 'static> UnaryService<Bytes> for Export<R>
where
    Receiver: Handles<R>,
{
    type Response = R;
    type Future = std::future::Ready<Result<tonic::Response<R>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let body = request.into_inner();
        let result = self
            .receiver
            .guard
            .admit(self.signal, &body, false)
            .map_err(|r| r.into_status())
            .and_then(|admitted| {
                let size = admitted.scan.decoded_bytes;
                let answer = self.receiver.handle(&body, size);
                drop(admitted);
                answer
            });
        std::future::ready(result.map(tonic::Response::new))
    }
}

/// Decodes a request body for the answer type `R` and ingests it.
pub(crate) trait Handles<R> {
    fn handle(&self, body: &[u8], size: u64) -> Result<R, Status>;
}

fn decode<M: Message + Default>(body: &[u8]) -> Result<M, Status> {
    M::decode(body)
        .map_err(|e| Status::invalid_argument(format!("the payload does not decode: {e}")))
}

impl Handles<ExportTraceServiceResponse> for Receiver {
    fn handle(&self, body: &[u8], size: u64) -> Result<ExportTraceServiceResponse, Status> {
        let req: ExportTraceServiceRequest = decode(body)?;
        Ok(trace_response(self.traces(req, size)))
    }
}

impl Handles<ExportMetricsServiceResponse> for Receiver {
    fn handle(&self, body: &[u8], size: u64) -> Result<ExportMetricsServiceResponse, Status> {
        let req: ExportMetricsServiceRequest = decode(body)?;
        self.sink.metrics(req, size);
        Ok(ExportMetricsServiceResponse {
            partial_success: None,
        })
    }
}

impl Handles<ExportLogsServiceResponse> for Receiver {
    fn handle(&self, body: &[u8], size: u64) -> Result<ExportLogsServiceResponse, Status> {
        let req: ExportLogsServiceRequest = decode(body)?;
        Ok(logs_response(self.sink.logs(req, size)))
    }
}

async fn serve<R: Message + Default + Send + 'static>(
    receiver: Receiver,
    signal: Signal,
    request: Request,
) -> Response
where
    Receiver: Handles<R>,
{
    // The token is checked before the body is read (and inflated).
    let header = request.headers().get(axum::http::header::AUTHORIZATION);
    if let Err(refused) = receiver.guard.authorize(header.map(|h| h.as_bytes())) {
        return refused.into_status().into_http::<axum::body::Body>();
    }
    let max = receiver.max_body_bytes;
    let mut grpc = Grpc::new(RawCodec::<R>(PhantomData))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    let export = Export::<R> {
        receiver,
        signal,
        answer: PhantomData,
    };
    grpc.unary(export, request)
        .await
        .map(axum::body::Body::new)
        .into_response()
}

async fn traces(State(r): State<Receiver>, request: Request) -> Response {
    serve::<ExportTraceServiceResponse>(r, Signal::Traces, request).await
}

async fn metrics(State(r): State<Receiver>, request: Request) -> Response {
    serve::<ExportMetricsServiceResponse>(r, Signal::Metrics, request).await
}

async fn logs(State(r): State<Receiver>, request: Request) -> Response {
    serve::<ExportLogsServiceResponse>(r, Signal::Logs, request).await
}

/// Full success, or a partial success saying how many spans were refused and why.
pub(crate) fn trace_response(rejected: i64) -> ExportTraceServiceResponse {
    ExportTraceServiceResponse {
        partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: rejected,
            error_message: "spans with an invalid trace or span id, beyond the per-trace \
                            limit or over the byte budget were not stored"
                .to_owned(),
        }),
    }
}

/// Full success, or a partial success saying how many log records were refused.
pub(crate) fn logs_response(rejected: i64) -> ExportLogsServiceResponse {
    ExportLogsServiceResponse {
        partial_success: (rejected > 0).then(|| ExportLogsPartialSuccess {
            rejected_log_records: rejected,
            error_message: "log records over the store's byte budget were not stored".to_owned(),
        }),
    }
}
