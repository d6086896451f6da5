//! The handlers' work (go-zero's `internal/logic`): call order-rpc and map its answer.
//! A gRPC error becomes the matching HTTP answer (INVALID_ARGUMENT 400, NOT_FOUND 404,
//! UNAVAILABLE 503, ...) with order-rpc's message, which says what to do.

use order_proto::order::{CreateOrderRequest, GetOrderRequest};
use rzero_rest::{Error, Json, Parsed};

use crate::svc::ServiceContext;
use crate::types::{CreateOrderReq, CreateOrderResp, GetOrderReq, GetOrderResp};

fn from_status(status: tonic::Status) -> Error {
    let msg = if status.message().is_empty() {
        format!("order-rpc answered {:?}", status.code())
    } else {
        status.message().to_owned()
    };
    Error::from_grpc_code(status.code() as i32, msg)
}

/// `POST /api/v1/orders`.
pub async fn create_order(
    svc: ServiceContext,
    Parsed(req): Parsed<CreateOrderReq>,
) -> Result<Json<CreateOrderResp>, Error> {
    let mut rpc = svc.order_rpc;
    let resp = rpc
        .create_order(CreateOrderRequest {
            user_id: req.user_id,
            product_id: req.product_id,
            amount: req.amount,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    Ok(Json(CreateOrderResp {
        order_id: resp.order_id,
        status: resp.status,
        created_at: resp.created_at,
    }))
}

/// `GET /api/v1/orders/:order_id`.
pub async fn get_order(
    svc: ServiceContext,
    Parsed(req): Parsed<GetOrderReq>,
) -> Result<Json<GetOrderResp>, Error> {
    let mut rpc = svc.order_rpc;
    let o = rpc
        .get_order(GetOrderRequest {
            order_id: req.order_id,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    Ok(Json(GetOrderResp {
        order_id: o.order_id,
        user_id: o.user_id,
        product_id: o.product_id,
        amount: o.amount,
        status: o.status,
        created_at: o.created_at,
    }))
}
