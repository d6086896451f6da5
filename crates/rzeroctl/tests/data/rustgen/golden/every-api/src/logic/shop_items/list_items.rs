//! `GET /api/v1/items` (ListItems): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `GET /api/v1/items` (ListItems).
///
/// List items
pub async fn list_items(
    svc: ServiceContext,
    req: crate::types::ListReq,
) -> Result<crate::types::ListResp, Error> {
    let _ = (svc, req);
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "ListItems has no logic yet: fill in src/logic/shop_items/list_items.rs",
        ),
    )
}
