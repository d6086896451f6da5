//! `order.Order`: CreateOrder and GetOrder, each step a span of its own so a trace shows
//! ValidateUser (with the call to user-rpc under it), ValidateProduct, InsertOrder (the
//! database span) and UpdateCache (the cache span), as the guide draws it.
//!
//! Errors map to gRPC codes here, once: a bad request is INVALID_ARGUMENT, an unknown
//! user, product or order NOT_FOUND, a dependency that is down UNAVAILABLE.

use std::future::Future;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Status as SpanStatus, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use order_proto::order::order_server::Order;
use order_proto::order::{
    CreateOrderRequest, CreateOrderResponse, GetOrderRequest, GetOrderResponse,
};
use order_proto::user::GetUserRequest;
use order_proto::user::user_client::UserClient;
use rzero_rpc::RpcClient;
use rzero_stores::StoreError;
use rzero_stores::cache::CachedConn;
use tonic::{Code, Request, Response, Status};

use crate::model;

/// The largest amount one order may carry, in currency units.
pub const MAX_AMOUNT: f64 = 1_000_000.0;

/// The service: the order database behind its cache, and user-rpc.
#[derive(Clone, Debug)]
pub struct OrderService {
    conn: CachedConn,
    users: UserClient<RpcClient>,
    tracer: SdkTracer,
}

impl OrderService {
    /// The service; `tracer` makes the step spans.
    pub fn new(conn: CachedConn, users: UserClient<RpcClient>, tracer: SdkTracer) -> Self {
        OrderService {
            conn,
            users,
            tracer,
        }
    }

    /// Runs `work` inside a span `name`, child of the current span; a failure is on it,
    /// with status Error and `error.type` from `kind`.
    async fn step<T>(
        &self,
        name: &'static str,
        kind: fn(&Status) -> &'static str,
        work: impl Future<Output = Result<T, Status>>,
    ) -> Result<T, Status> {
        let parent = Context::current();
        let span = self.tracer.start_with_context(name, &parent);
        let cx = parent.with_span(span);
        let out = work.with_context(cx.clone()).await;
        if let Err(status) = &out {
            let span = cx.span();
            span.set_attribute(KeyValue::new("error.type", kind(status)));
            span.set_status(SpanStatus::error(status.message().to_owned()));
        }
        cx.span().end();
        out
    }

    async fn validate_user(&self, user_id: i64) -> Result<(), Status> {
        let mut users = self.users.clone();
        let user = users
            .get_user(GetUserRequest { user_id })
            .await
            .map_err(|s| match s.code() {
                Code::NotFound => Status::not_found(format!("user {user_id} does not exist")),
                Code::InvalidArgument => Status::invalid_argument(s.message().to_owned()),
                _ => Status::unavailable(format!(
                    "user-rpc could not validate user {user_id}, retry later: {}",
                    s.message()
                )),
            })?
            .into_inner();
        if user.status != "active" {
            return Err(Status::invalid_argument(format!(
                "user {user_id} is {}: only active users can order",
                user.status
            )));
        }
        Ok(())
    }

    async fn validate_product(&self, product_id: i64) -> Result<(), Status> {
        match model::product_exists(&self.conn, product_id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Status::not_found(format!(
                "product {product_id} does not exist"
            ))),
            Err(e) => Err(store_status(e, "products")),
        }
    }
}

/// `error.type` of a failed call to user-rpc: the user's fault, or the call's.
fn user_error(status: &Status) -> &'static str {
    match status.code() {
        Code::NotFound => "not_found",
        Code::InvalidArgument => "validation",
        _ => "rpc",
    }
}

/// `error.type` of a failed database or cache step.
fn store_error(status: &Status) -> &'static str {
    match status.code() {
        Code::NotFound => "not_found",
        _ => "database",
    }
}

/// `error.type` of a request that fails validation.
fn validation_error(_: &Status) -> &'static str {
    "validation"
}

/// A store failure as a gRPC status.
pub fn store_status(e: StoreError, what: &str) -> Status {
    match e {
        StoreError::NotFound => Status::not_found(format!("{what} not found")),
        StoreError::Unavailable(m) => {
            Status::unavailable(format!("order database unavailable, retry later: {m}"))
        }
        StoreError::Conflict(m) => Status::already_exists(m),
        other => Status::internal(format!("{what}: {other}")),
    }
}

/// `amount` in cents, or why it is not a valid amount.
pub fn amount_cents(amount: f64) -> Result<i64, Status> {
    if !amount.is_finite() || amount <= 0.0 || amount > MAX_AMOUNT {
        return Err(Status::invalid_argument(format!(
            "amount must be in (0, {MAX_AMOUNT}], got {amount}"
        )));
    }
    let cents = (amount * 100.0).round();
    if (amount * 100.0 - cents).abs() > 1e-6 {
        return Err(Status::invalid_argument(format!(
            "amount must have at most two decimals, got {amount}"
        )));
    }
    Ok(cents as i64)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[tonic::async_trait]
impl Order for OrderService {
    async fn create_order(
        &self,
        request: Request<CreateOrderRequest>,
    ) -> Result<Response<CreateOrderResponse>, Status> {
        let req = request.into_inner();
        let cents = self
            .step("ValidateRequest", validation_error, async {
                if req.user_id <= 0 || req.product_id <= 0 {
                    return Err(Status::invalid_argument(format!(
                        "user_id and product_id must be positive, got {} and {}",
                        req.user_id, req.product_id
                    )));
                }
                amount_cents(req.amount)
            })
            .await?;
        self.step("ValidateUser", user_error, self.validate_user(req.user_id))
            .await?;
        self.step(
            "ValidateProduct",
            store_error,
            self.validate_product(req.product_id),
        )
        .await?;
        let order = self
            .step("InsertOrder", store_error, async {
                model::insert_order(&self.conn, req.user_id, req.product_id, cents, unix_now())
                    .await
                    .map_err(|e| store_status(e, "orders"))
            })
            .await?;
        // The order is committed: a cache failure only costs the next read a query.
        let _ = self
            .step("UpdateCache", store_error, async {
                self.conn
                    .set_cache(&model::order_key(order.id), &order)
                    .await
                    .map_err(|e| store_status(e, "order cache"))
            })
            .await;
        Ok(Response::new(CreateOrderResponse {
            order_id: order.id,
            status: order.status,
            created_at: order.created_at,
        }))
    }

    async fn get_order(
        &self,
        request: Request<GetOrderRequest>,
    ) -> Result<Response<GetOrderResponse>, Status> {
        let id = request.into_inner().order_id;
        if id <= 0 {
            return Err(Status::invalid_argument(format!(
                "order_id must be positive, got {id}"
            )));
        }
        let order = self
            .step("FindOrder", store_error, async {
                model::find_order(&self.conn, id)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => {
                            Status::not_found(format!("order {id} does not exist"))
                        }
                        other => store_status(other, "orders"),
                    })
            })
            .await?;
        Ok(Response::new(GetOrderResponse {
            order_id: order.id,
            user_id: order.user_id,
            product_id: order.product_id,
            amount: order.amount_cents as f64 / 100.0,
            status: order.status,
            created_at: order.created_at,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_cents() {
        assert_eq!(amount_cents(99.99).ok(), Some(9999));
        assert_eq!(amount_cents(0.01).ok(), Some(1));
        assert_eq!(amount_cents(1_000_000.0).ok(), Some(100_000_000));
        for bad in [0.0, -1.0, 0.001, 1e7, f64::NAN, f64::INFINITY] {
            assert_eq!(
                amount_cents(bad).map_err(|s| s.code()),
                Err(Code::InvalidArgument),
                "{bad}"
            );
        }
    }
}
