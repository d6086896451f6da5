//! `DELETE /api/v1/items/:id` (deleteItem): the route's logic.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;

use crate::svc::ServiceContext;

/// `DELETE /api/v1/items/:id` (deleteItem).
pub async fn delete_item(ctx: &ServiceContext, req: crate::types::UpdateReq) -> Result<(), Error> {
    let _ = (ctx, req);
    Err(Error::not_implemented(
        "deleteItem has no logic yet: fill in src/logic/shop_items/delete_item.rs",
    ))
}
