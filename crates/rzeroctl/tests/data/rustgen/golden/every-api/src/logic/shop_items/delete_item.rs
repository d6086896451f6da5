//! `DELETE /api/v1/items/:id` (deleteItem): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `DELETE /api/v1/items/:id` (deleteItem).
pub async fn delete_item(
    svc: ServiceContext,
    req: crate::types::UpdateReq,
) -> Result<(), Error> {
    let _ = (svc, req);
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "deleteItem has no logic yet: fill in src/logic/shop_items/delete_item.rs",
        ),
    )
}
