//! `stream.v1.Ticker/Add`: your code.
//!
//! rzeroctl wrote this file once and never touches it again.

use tonic::{Request, Response, Status, Streaming};

use crate::pb;
use crate::svc::ServiceContext;

/// `rpc Add(stream Tick) returns (Sum)`.
///
/// Replace the body with your logic; `ctx` holds the config and what you add to the
/// service context.
pub async fn add(
    ctx: &ServiceContext,
    request: Request<Streaming<pb::stream::v1::Tick>>,
) -> Result<Response<pb::stream::v1::Sum>, Status> {
    let _ = (ctx, request);
    Err(Status::unimplemented(
        "stream.v1.Ticker/Add has no logic yet: edit src/logic/ticker/add.rs",
    ))
}
