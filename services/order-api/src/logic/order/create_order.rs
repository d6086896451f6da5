//! `POST /api/v1/orders` (CreateOrder): order-rpc creates the order; the
//! `Idempotency-Key` header goes with it, so a retried create returns the first order.

use order_rpc::pb::order::CreateOrderRequest;
use rzero::rest::Error;

use crate::svc::{ServiceContext, from_status};
use crate::types::{CreateOrderReq, CreateOrderResp};

/// `POST /api/v1/orders` (CreateOrder).
pub async fn create_order(
    ctx: &ServiceContext,
    req: CreateOrderReq,
) -> Result<CreateOrderResp, Error> {
    let resp = ctx
        .order_rpc
        .clone()
        .create_order(CreateOrderRequest {
            user_id: req.user_id,
            product_id: req.product_id,
            amount: req.amount,
            idempotency_key: req.idempotency_key,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    Ok(CreateOrderResp {
        order_id: resp.order_id,
        status: resp.status,
        created_at: resp.created_at,
    })
}
