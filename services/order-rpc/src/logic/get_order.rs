//! `order.Order/GetOrder`: the order, cache-aside (the cache, then the database); an id
//! that is in neither is NOT_FOUND and is remembered briefly, so a flood of bad ids does
//! not reach the database.

use rzero::stores::StoreError;
use rzero::telemetry::step;
use tonic::{Request, Response, Status};

use crate::pb::order::{GetOrderRequest, GetOrderResponse};
use crate::svc::{ServiceContext, store_status};

/// `rpc GetOrder(GetOrderRequest) returns (GetOrderResponse)`.
pub async fn get_order(
    ctx: &ServiceContext,
    request: Request<GetOrderRequest>,
) -> Result<Response<GetOrderResponse>, Status> {
    let id = request.into_inner().order_id;
    if id <= 0 {
        return Err(Status::invalid_argument(format!(
            "order_id must be positive, got {id}"
        )));
    }
    let kind = |s: &Status| match s.code() {
        tonic::Code::NotFound => "not_found",
        _ => "database",
    };
    let order = step(&ctx.tracer, "FindOrder", kind, async {
        ctx.orders.find_one(id).await.map_err(|e| match e {
            StoreError::NotFound => Status::not_found(format!("order {id} does not exist")),
            other => store_status(other, "orders"),
        })
    })
    .await?;
    Ok(Response::new(GetOrderResponse {
        order_id: order.id,
        user_id: order.user_id,
        product_id: order.product_id,
        amount: order.amount(),
        status: order.status,
        created_at: order.created_at,
    }))
}
