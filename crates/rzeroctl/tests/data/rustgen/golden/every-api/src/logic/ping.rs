//! `GET /ping` (ping): the route's logic.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;

use crate::svc::ServiceContext;

/// `GET /ping` (ping).
pub async fn ping(ctx: &ServiceContext) -> Result<crate::types::PingResp, Error> {
    let _ = ctx;
    Err(Error::not_implemented(
        "ping has no logic yet: fill in src/logic/ping.rs",
    ))
}
