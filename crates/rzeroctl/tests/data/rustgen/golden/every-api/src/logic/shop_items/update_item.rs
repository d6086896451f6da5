//! `PUT /api/v1/items/:id` (updateItem): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `PUT /api/v1/items/:id` (updateItem).
///
/// Update an item
pub async fn update_item(
    svc: ServiceContext,
    req: crate::types::UpdateReq,
) -> Result<crate::types::UpdateResp, Error> {
    let _ = (svc, req);
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "updateItem has no logic yet: fill in src/logic/shop_items/update_item.rs",
        ),
    )
}
