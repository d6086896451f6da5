//! `stream.v1.Ticker/Now`: your code.
//!
//! rzeroctl wrote this file once and never touches it again.

use tonic::{Request, Response, Status};

use crate::pb;
use crate::svc::ServiceContext;

/// `rpc Now(google.protobuf.Empty) returns (Tick)`.
///
/// Replace the body with your logic; `ctx` holds the config and what you add to the
/// service context.
pub async fn now(
    ctx: &ServiceContext,
    request: Request<()>,
) -> Result<Response<pb::stream::v1::Tick>, Status> {
    let _ = (ctx, request);
    Err(Status::unimplemented(
        "stream.v1.Ticker/Now has no logic yet: edit src/logic/ticker/now.rs",
    ))
}
