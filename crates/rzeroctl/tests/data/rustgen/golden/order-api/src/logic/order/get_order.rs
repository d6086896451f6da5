//! `GET /api/v1/orders/:order_id` (GetOrder): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `GET /api/v1/orders/:order_id` (GetOrder).
pub async fn get_order(
    svc: ServiceContext,
    req: crate::types::GetOrderReq,
) -> Result<crate::types::GetOrderResp, Error> {
    let _ = (svc, req);
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "GetOrder has no logic yet: fill in src/logic/order/get_order.rs",
        ),
    )
}
