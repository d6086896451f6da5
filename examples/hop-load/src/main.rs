//! The gRPC load targets of `cargo xtask bench-side`, and its gRPC load client.
//!
//! The hop: `GET /hop` makes one unary `echo.Echo/Say` call over loopback to the gRPC
//! server in the same process (so the process's CPU time covers both sides of the hop)
//! and answers the reply as JSON. The echo: the gRPC server alone. Each is served three
//! ways: plain axum and tonic (`plain`), rzero's `Server` with its default middleware
//! calling through an `RpcClient` into an `RpcServer` with its default interceptors, all
//! on one telemetry setup exporting over OTLP to `OTEL_EXPORTER_OTLP_ENDPOINT` (`rzero`;
//! `RZERO_SAMPLER` sets the sampling ratio, default 1.0), and the hand-written tracing
//! glue (`glue`, 100%; see [`glue`]).
//!
//! ```text
//! hop-load hop-plain 127.0.0.1:9001 127.0.0.1:9101
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 hop-load hop-rzero 127.0.0.1:9002 127.0.0.1:9102
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 hop-load hop-glue 127.0.0.1:9003 127.0.0.1:9103
//! hop-load echo-plain 127.0.0.1:9104        # echo-rzero, echo-glue alike
//! hop-load client 127.0.0.1:9104 64 5       # 64 calls in flight for 5 s, then one line
//! hop-load client 127.0.0.1:9104 1 600 1000 # 1000 sequential calls (at most 600 s)
//! ```
//!
//! Every server stops on Ctrl-C (SIGINT), flushing its spans first.

mod client;
mod glue;
mod plain;
mod rzero;

use std::net::SocketAddr;

use axum::Json;
use http::StatusCode;
use serde::Serialize;
use tonic::{Request, Response, Status};

#[allow(clippy::all, missing_docs, unreachable_pub)]
mod pb {
    tonic::include_proto!("echo");
}

use pb::{EchoReply, EchoRequest};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The echo service every mode serves: the message back, nothing else.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Echo;

#[tonic::async_trait]
impl pb::echo_server::Echo for Echo {
    async fn say(&self, req: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        Ok(Response::new(EchoReply {
            message: req.into_inner().message,
            server: String::new(),
        }))
    }

    type StreamStream = tokio_stream::Empty<Result<EchoReply, Status>>;

    async fn stream(
        &self,
        _: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Ok(Response::new(tokio_stream::empty()))
    }
}

/// The call every hop and every load client makes.
pub(crate) fn request() -> EchoRequest {
    EchoRequest {
        message: "hello".into(),
        ..EchoRequest::default()
    }
}

/// The JSON answer of `GET /hop`.
#[derive(Serialize)]
pub(crate) struct Hop {
    message: String,
}

/// The hop's answer in the plain and glue modes: the reply as JSON, a failed call as
/// 502 with its message (rzero mode maps the status with its own error table).
pub(crate) fn answer(
    reply: Result<Response<EchoReply>, Status>,
) -> Result<Json<Hop>, (StatusCode, String)> {
    match reply {
        Ok(r) => Ok(Json(Hop {
            message: r.into_inner().message,
        })),
        Err(s) => Err((StatusCode::BAD_GATEWAY, s.message().to_owned())),
    }
}

const USAGE: &str = "usage: hop-load hop-plain|hop-rzero|hop-glue <http-addr> <grpc-addr> \
                     | echo-plain|echo-rzero|echo-glue <grpc-addr> \
                     | client <grpc-addr> <concurrency> <secs> [calls]";

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> Result<&str, BoxError> {
        args.get(i).map(String::as_str).ok_or_else(|| USAGE.into())
    };
    let grpc = |i: usize| -> Result<SocketAddr, BoxError> {
        let a = arg(i)?;
        a.parse()
            .map_err(|e| format!("gRPC address `{a}`: {e}; {USAGE}").into())
    };
    let mode = arg(0)?;
    if mode != "client" {
        println!("hop-load {mode} listening on {}", args[1..].join(" "));
    }
    match mode {
        "hop-plain" => plain::hop(arg(1)?, grpc(2)?).await,
        "hop-rzero" => rzero::hop(arg(1)?, grpc(2)?).await,
        "hop-glue" => glue::hop(arg(1)?, grpc(2)?).await,
        "echo-plain" => plain::echo(grpc(1)?).await,
        "echo-rzero" => rzero::echo(grpc(1)?).await,
        "echo-glue" => glue::echo(grpc(1)?).await,
        "client" => {
            let concurrency = arg(2)?
                .parse()
                .map_err(|e| format!("concurrency: {e}; {USAGE}"))?;
            let secs = arg(3)?
                .parse()
                .map_err(|e| format!("seconds: {e}; {USAGE}"))?;
            let calls = match args.get(4) {
                Some(n) => Some(n.parse().map_err(|e| format!("calls: {e}; {USAGE}"))?),
                None => None,
            };
            client::run(grpc(1)?, concurrency, secs, calls).await
        }
        other => Err(format!("mode `{other}`; {USAGE}").into()),
    }
}
