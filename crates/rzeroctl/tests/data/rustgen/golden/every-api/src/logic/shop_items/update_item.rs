//! `PUT /api/v1/items/:id` (updateItem): the route's logic.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;

use crate::svc::ServiceContext;

/// `PUT /api/v1/items/:id` (updateItem).
///
/// Update an item
pub async fn update_item(
    ctx: &ServiceContext,
    req: crate::types::UpdateReq,
) -> Result<crate::types::UpdateResp, Error> {
    let _ = (ctx, req);
    Err(Error::not_implemented(
        "updateItem has no logic yet: fill in src/logic/shop_items/update_item.rs",
    ))
}
