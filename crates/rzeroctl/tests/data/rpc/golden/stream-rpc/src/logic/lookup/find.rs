//! `stream.v1.Lookup/Find`: your code.
//!
//! rzeroctl wrote this file once and never touches it again.

use tonic::{Request, Response, Status};

use crate::pb;
use crate::svc::ServiceContext;

/// `rpc Find(common.Id) returns (Watch.Filter)`.
///
/// Replace the body with your logic; `ctx` holds the config and what you add to the
/// service context.
pub async fn find(
    ctx: &ServiceContext,
    request: Request<pb::common::Id>,
) -> Result<Response<pb::stream::v1::watch::Filter>, Status> {
    let _ = (ctx, request);
    Err(Status::unimplemented(
        "stream.v1.Lookup/Find has no logic yet: edit src/logic/lookup/find.rs",
    ))
}
