//! The HTTP contract, `order.api` beside this crate (go-zero's `internal/types`): snake_case
//! JSON, ids and amounts checked as the `.api` tags would be.

use rzero_rest::parse::{FieldError, Parse, check};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/orders` body.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct CreateOrderReq {
    /// `json:"user_id,range=(0:]"`
    pub user_id: i64,
    /// `json:"product_id,range=(0:]"`
    pub product_id: i64,
    /// `json:"amount,range=(0:1000000]"`, at most two decimals (cents).
    pub amount: f64,
}

impl Parse for CreateOrderReq {
    fn validate(&self) -> Result<(), FieldError> {
        check::range("user_id", self.user_id as f64, "(0:]")?;
        check::range("product_id", self.product_id as f64, "(0:]")?;
        check::range("amount", self.amount, "(0:1000000]")?;
        let cents = self.amount * 100.0;
        if (cents - cents.round()).abs() > 1e-6 {
            return Err(FieldError::new("amount", "must have at most two decimals"));
        }
        Ok(())
    }
}

/// `POST /api/v1/orders` answer.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct CreateOrderResp {
    /// The new order's id, from the database.
    pub order_id: i64,
    /// `created`.
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// `GET /api/v1/orders/:order_id` request.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct GetOrderReq {
    /// `path:"order_id,range=(0:]"`
    pub order_id: i64,
}

impl Parse for GetOrderReq {
    const PATH: &'static [&'static str] = &["order_id"];

    fn validate(&self) -> Result<(), FieldError> {
        check::range("order_id", self.order_id as f64, "(0:]")
    }
}

/// `GET /api/v1/orders/:order_id` answer.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct GetOrderResp {
    /// The order's id.
    pub order_id: i64,
    /// Who ordered.
    pub user_id: i64,
    /// What.
    pub product_id: i64,
    /// How much.
    pub amount: f64,
    /// `created`, ...
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
}
