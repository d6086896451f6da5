//! `POST /api/v1/items/bulk` (bulk): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `POST /api/v1/items/bulk` (bulk).
pub async fn bulk(
    svc: ServiceContext,
    req: crate::types::UpdateReq,
) -> Result<Vec<crate::types::UpdateResp>, Error> {
    let _ = (svc, req);
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "bulk has no logic yet: fill in src/logic/shop_items/bulk.rs",
        ),
    )
}
