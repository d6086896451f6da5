//! `order.Order/CreateOrder`, as the guide draws it: ValidateRequest, ValidateUser (the
//! call to user-rpc under it), ValidateProduct, InsertOrder (the database span) and
//! UpdateCache (the cache span), each a span of its own with its failure on it.
//!
//! A request with an idempotency key returns the order first created with that key
//! (looked up before anything else, and again when the insert loses a race on the key's
//! unique index), so a retry after a timeout or a dropped connection never makes a
//! second row. The insert commits only while the caller's deadline leaves time to
//! answer (`insert_committed`): a create cancelled by its deadline leaves no row behind.

use rzero::stores::StoreError;
use rzero::telemetry::step;
use tonic::{Code, Request, Response, Status};

use crate::model::Orders;
use crate::pb::order::{CreateOrderRequest, CreateOrderResponse};
use crate::svc::{ServiceContext, store_status};

/// The longest idempotency key accepted (the column's width).
pub const MAX_IDEMPOTENCY_KEY: usize = 64;

/// `rpc CreateOrder(CreateOrderRequest) returns (CreateOrderResponse)`.
pub async fn create_order(
    ctx: &ServiceContext,
    request: Request<CreateOrderRequest>,
) -> Result<Response<CreateOrderResponse>, Status> {
    let req = request.into_inner();
    let tracer = &ctx.tracer;
    let new = step(tracer, "ValidateRequest", |_| "validation", async {
        validate(&req)
    })
    .await?;
    if let Some(key) = &new.idempotency_key {
        let found = step(tracer, "FindByIdempotencyKey", store_error, async {
            match ctx.orders.find_one_by_idempotency_key(key).await {
                Ok(order) => Ok(Some(order)),
                Err(StoreError::NotFound) => Ok(None),
                Err(e) => Err(store_status(e, "orders")),
            }
        })
        .await?;
        if let Some(first) = found {
            return same_request(first, &new).map(answer);
        }
    }
    step(
        tracer,
        "ValidateUser",
        user_error,
        validate_user(ctx, req.user_id),
    )
    .await?;
    step(tracer, "ValidateProduct", store_error, async {
        match ctx.products.find_one(req.product_id).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => Err(Status::not_found(format!(
                "product {} does not exist",
                req.product_id
            ))),
            Err(e) => Err(store_status(e, "products")),
        }
    })
    .await?;
    let inserted = step(tracer, "InsertOrder", store_error, async {
        match ctx.orders.insert_committed(&new).await {
            Ok(id) => Ok(Ok(Orders { id, ..new.clone() })),
            // Another attempt with the same key committed first: its order is the answer.
            Err(StoreError::Conflict(_)) if new.idempotency_key.is_some() => Ok(Err(())),
            Err(e) => Err(store_status(e, "orders")),
        }
    })
    .await?;
    let order = match inserted {
        Ok(order) => order,
        Err(()) => {
            let key = new.idempotency_key.as_deref().unwrap_or_default();
            let first = ctx
                .orders
                .find_by_idempotency_key_uncached(key)
                .await
                .map_err(|e| store_status(e, "orders"))?;
            return same_request(first, &new).map(answer);
        }
    };
    // The order is committed: a cache failure only costs the next read a query.
    let _ = step(tracer, "UpdateCache", store_error, async {
        ctx.orders
            .cache(&order)
            .await
            .map_err(|e| store_status(e, "the order cache"))
    })
    .await;
    Ok(answer(order))
}

/// The row to insert, or why the request is not one.
fn validate(req: &CreateOrderRequest) -> Result<Orders, Status> {
    if req.user_id <= 0 || req.product_id <= 0 {
        return Err(Status::invalid_argument(format!(
            "user_id and product_id must be positive, got {} and {}",
            req.user_id, req.product_id
        )));
    }
    let amount_cents = Orders::cents(req.amount).map_err(Status::invalid_argument)?;
    let key = req.idempotency_key.as_str();
    if key.len() > MAX_IDEMPOTENCY_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Status::invalid_argument(format!(
            "the idempotency key must be at most {MAX_IDEMPOTENCY_KEY} printable ASCII \
             characters without spaces (a UUID fits), got {} bytes",
            key.len()
        )));
    }
    Ok(Orders {
        id: 0,
        user_id: req.user_id,
        product_id: req.product_id,
        amount_cents,
        status: "created".to_owned(),
        created_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        idempotency_key: (!key.is_empty()).then(|| key.to_owned()),
    })
}

/// The first order of an idempotency key, if `new` asks for the same thing; a key reused
/// for a different order is the client's mistake, not a retry.
fn same_request(first: Orders, new: &Orders) -> Result<Orders, Status> {
    let same = first.user_id == new.user_id
        && first.product_id == new.product_id
        && first.amount_cents == new.amount_cents;
    if same {
        Ok(first)
    } else {
        Err(Status::failed_precondition(format!(
            "this idempotency key already created order {} with other values: use a new key \
             for a new order",
            first.id
        )))
    }
}

fn answer(order: Orders) -> Response<CreateOrderResponse> {
    Response::new(CreateOrderResponse {
        order_id: order.id,
        status: order.status,
        created_at: order.created_at,
    })
}

async fn validate_user(ctx: &ServiceContext, user_id: i64) -> Result<(), Status> {
    let user = ctx
        .users
        .clone()
        .get_user(pb_user(user_id))
        .await
        .map_err(|s| match s.code() {
            Code::NotFound => Status::not_found(format!("user {user_id} does not exist")),
            Code::InvalidArgument => Status::invalid_argument(s.message().to_owned()),
            _ => Status::unavailable(format!(
                "user-rpc could not validate user {user_id}: retry later"
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

fn pb_user(user_id: i64) -> user_rpc::pb::user::GetUserRequest {
    user_rpc::pb::user::GetUserRequest { user_id }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn req(amount: f64, key: &str) -> CreateOrderRequest {
        CreateOrderRequest {
            user_id: 1,
            product_id: 1,
            amount,
            idempotency_key: key.to_owned(),
        }
    }

    #[test]
    fn an_amount_that_rounds_to_zero_cents_is_invalid() {
        for bad in [1e-9, 0.004, 0.0, -0.0] {
            let e = validate(&req(bad, "")).map(|o| o.amount_cents);
            assert_eq!(e.map_err(|s| s.code()), Err(Code::InvalidArgument), "{bad}");
        }
        assert_eq!(
            validate(&req(0.01, "")).map(|o| o.amount_cents).ok(),
            Some(1)
        );
    }

    #[test]
    fn idempotency_keys_are_bounded_printable_ascii() {
        assert_eq!(
            validate(&req(1.0, "7f1c0b9e-3a7d-4c55-9d63-2f0e6a1b8c44"))
                .ok()
                .and_then(|o| o.idempotency_key)
                .as_deref(),
            Some("7f1c0b9e-3a7d-4c55-9d63-2f0e6a1b8c44")
        );
        assert_eq!(
            validate(&req(1.0, "")).ok().and_then(|o| o.idempotency_key),
            None
        );
        for bad in ["a b", "k\n", "é", &"k".repeat(65)] {
            assert_eq!(
                validate(&req(1.0, bad)).map_err(|s| s.code()).err(),
                Some(Code::InvalidArgument),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_reused_key_with_other_values_is_refused() {
        let first = validate(&req(5.0, "k")).unwrap_or_default();
        let retry = validate(&req(5.0, "k")).unwrap_or_default();
        assert!(same_request(first.clone(), &retry).is_ok());
        let other = validate(&req(6.0, "k")).unwrap_or_default();
        assert_eq!(
            same_request(first, &other).map_err(|s| s.code()).err(),
            Some(Code::FailedPrecondition)
        );
    }
}
