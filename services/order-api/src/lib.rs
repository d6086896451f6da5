//! order-api: the order system's HTTP gateway (the guide's `order.api`).
//!
//! The binary runs with the embedded config (order-rpc on 127.0.0.1:8080, telemetry to
//! localhost:4317); `order-api -f etc/order-api.etcd.yaml` runs as the guide deploys it.
//! Layout as goctl generates it: [`config`] (the YAML), [`types`] (the contract), [`svc`]
//! (shared clients), [`logic`] (the work), and the routes in [`server`].

pub mod config;
pub mod logic;
pub mod svc;
pub mod types;

use order_proto::order::order_client::OrderClient;
use rzero_rest::{Group, Route, Server};
use rzero_rpc::RpcClient;
use rzero_telemetry::TelemetryGuard;

use crate::svc::ServiceContext;

/// The gateway for `config`, traced by `guard`, ready to serve.
pub async fn server(
    config: config::Config,
    guard: TelemetryGuard,
) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
    let order_rpc = RpcClient::builder(config.order_rpc.clone())
        .telemetry(&guard)
        .build()
        .await?;
    let svc = ServiceContext {
        order_rpc: OrderClient::new(order_rpc),
    };
    let (create, get) = (svc.clone(), svc);
    Ok(Server::new(config.rest)
        .telemetry(guard)
        .group(Group::new().prefix("/api/v1").routes([
            Route::post("/orders", move |req| {
                logic::create_order(create.clone(), req)
            }),
            Route::get("/orders/:order_id", move |req| {
                logic::get_order(get.clone(), req)
            }),
        ])))
}
