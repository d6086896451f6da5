//! `stream.v1.Ticker/Echo`: your code.
//!
//! rzeroctl wrote this file once and never touches it again.

use tonic::{Request, Response, Status, Streaming};

use crate::pb;
use crate::svc::ServiceContext;

/// `rpc Echo(stream Tick) returns (stream Tick)`.
///
/// Replace the body with your logic; `ctx` holds the config and what you add to the
/// service context.
pub async fn echo(
    ctx: &ServiceContext,
    request: Request<Streaming<pb::stream::v1::Tick>>,
) -> Result<Response<crate::BoxStream<pb::stream::v1::Tick>>, Status> {
    let _ = (ctx, request);
    Err(Status::unimplemented(
        "stream.v1.Ticker/Echo has no logic yet: edit src/logic/ticker/echo.rs",
    ))
}
