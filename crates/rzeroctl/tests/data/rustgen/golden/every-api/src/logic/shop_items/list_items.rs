//! `GET /api/v1/items` (ListItems): the route's logic.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;

use crate::svc::ServiceContext;

/// `GET /api/v1/items` (ListItems).
///
/// List items
pub async fn list_items(
    ctx: &ServiceContext,
    req: crate::types::ListReq,
) -> Result<crate::types::ListResp, Error> {
    let _ = (ctx, req);
    Err(Error::not_implemented(
        "ListItems has no logic yet: fill in src/logic/shop_items/list_items.rs",
    ))
}
