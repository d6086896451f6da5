//! `stream.v1.Ticker/Subscribe`: your code.
//!
//! rzeroctl wrote this file once and never touches it again.

use tonic::{Request, Response, Status};

use crate::pb;
use crate::svc::ServiceContext;

/// `rpc Subscribe(Watch) returns (stream Tick)`.
///
/// Replace the body with your logic; `ctx` holds the config and what you add to the
/// service context.
pub async fn subscribe(
    ctx: &ServiceContext,
    request: Request<pb::stream::v1::Watch>,
) -> Result<Response<crate::BoxStream<pb::stream::v1::Tick>>, Status> {
    let _ = (ctx, request);
    Err(Status::unimplemented(
        "stream.v1.Ticker/Subscribe has no logic yet: edit src/logic/ticker/subscribe.rs",
    ))
}
