//! The service context (goctl's `internal/svc`): what every handler shares. rzeroctl
//! wrote this file once; the order-rpc client is ours.

use order_rpc::client::{OrderClient, connect_order};
use rzero::telemetry::TelemetryGuard;

use crate::config::Config;

/// Built once at start, shared by every request (handlers get it as `State`).
pub struct ServiceContext {
    /// The loaded config.
    pub config: Config,
    /// order-rpc: traced, balanced and behind a breaker.
    pub order_rpc: OrderClient,
}

impl ServiceContext {
    /// The context for `config`, its order-rpc client traced with `guard`.
    pub async fn new(config: &Config, guard: &TelemetryGuard) -> Result<Self, crate::BoxError> {
        Ok(ServiceContext {
            config: config.clone(),
            order_rpc: connect_order(&config.order_rpc, guard).await?,
        })
    }
}

/// order-rpc's failure as the HTTP answer: INVALID_ARGUMENT 400, NOT_FOUND 404,
/// FAILED_PRECONDITION 400, UNAVAILABLE 503, ..., with order-rpc's message (written to be
/// shown: it names no query or address).
pub fn from_status(status: tonic::Status) -> rzero::rest::Error {
    let msg = if status.message().is_empty() {
        format!("order-rpc answered {:?}", status.code())
    } else {
        status.message().to_owned()
    };
    rzero::rest::Error::from_grpc_code(status.code() as i32, msg)
}
