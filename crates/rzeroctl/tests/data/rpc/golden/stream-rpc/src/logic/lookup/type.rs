//! `stream.v1.Lookup/Type`: your code.
//!
//! rzeroctl wrote this file once and never touches it again.

use tonic::{Request, Response, Status};

use crate::pb;
use crate::svc::ServiceContext;

/// `rpc Type(common.Id) returns (common.Id)`.
///
/// Replace the body with your logic; `ctx` holds the config and what you add to the
/// service context.
pub async fn r#type(
    ctx: &ServiceContext,
    request: Request<pb::common::Id>,
) -> Result<Response<pb::common::Id>, Status> {
    let _ = (ctx, request);
    Err(Status::unimplemented(
        "stream.v1.Lookup/Type has no logic yet: edit src/logic/lookup/type.rs",
    ))
}
