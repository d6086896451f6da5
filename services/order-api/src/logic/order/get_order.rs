//! `GET /api/v1/orders/:order_id` (GetOrder): order-rpc reads it, cache first.

use order_rpc::pb::order::GetOrderRequest;
use rzero::rest::Error;

use crate::svc::{ServiceContext, from_status};
use crate::types::{GetOrderReq, GetOrderResp};

/// `GET /api/v1/orders/:order_id` (GetOrder).
pub async fn get_order(ctx: &ServiceContext, req: GetOrderReq) -> Result<GetOrderResp, Error> {
    let o = ctx
        .order_rpc
        .clone()
        .get_order(GetOrderRequest {
            order_id: req.order_id,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    Ok(GetOrderResp {
        order_id: o.order_id,
        user_id: o.user_id,
        product_id: o.product_id,
        amount: o.amount,
        status: o.status,
        created_at: o.created_at,
    })
}
