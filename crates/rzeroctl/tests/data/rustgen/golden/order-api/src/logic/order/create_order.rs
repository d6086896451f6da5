//! `POST /api/v1/orders` (CreateOrder): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `POST /api/v1/orders` (CreateOrder).
pub async fn create_order(
    svc: ServiceContext,
    req: crate::types::CreateOrderReq,
) -> Result<crate::types::CreateOrderResp, Error> {
    let _ = (svc, req);
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "CreateOrder has no logic yet: fill in src/logic/order/create_order.rs",
        ),
    )
}
