//! `greet.Greet/Ping`: your code.
//!
//! rzeroctl wrote this file once and never touches it again.

use tonic::{Request, Response, Status};

use crate::pb;
use crate::svc::ServiceContext;

/// `rpc Ping(Request) returns (Response)`.
///
/// Replace the body with your logic; `ctx` holds the config and what you add to the
/// service context.
pub async fn ping(
    ctx: &ServiceContext,
    request: Request<pb::greet::Request>,
) -> Result<Response<pb::greet::Response>, Status> {
    let _ = (ctx, request);
    Err(Status::unimplemented(
        "greet.Greet/Ping has no logic yet: edit src/logic/ping.rs",
    ))
}
