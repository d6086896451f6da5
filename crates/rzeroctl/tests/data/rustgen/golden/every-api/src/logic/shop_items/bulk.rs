//! `POST /api/v1/items/bulk` (bulk): the route's logic.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;

use crate::svc::ServiceContext;

/// `POST /api/v1/items/bulk` (bulk).
pub async fn bulk(
    ctx: &ServiceContext,
    req: crate::types::UpdateReq,
) -> Result<Vec<crate::types::UpdateResp>, Error> {
    let _ = (ctx, req);
    Err(Error::not_implemented(
        "bulk has no logic yet: fill in src/logic/shop_items/bulk.rs",
    ))
}
