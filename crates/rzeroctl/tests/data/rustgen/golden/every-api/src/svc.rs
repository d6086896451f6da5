//! The service context (goctl's `internal/svc`): what every handler shares. Add
//! your database pools, caches and clients to [`ServiceContext`] and build them in
//! [`ServiceContext::new`], with `guard`'s tracer and meter so their calls are traced.
//! rzeroctl wrote this file once and never touches it again.

use rzero::telemetry::TelemetryGuard;

use crate::config::Config;

/// Built once at start, shared by every request (handlers get it as `State`).
pub struct ServiceContext {
    /// The loaded config.
    pub config: Config,
}

impl ServiceContext {
    /// The context for `config`: open pools and connect clients here (a traced RPC
    /// client: `some_rpc::client::connect_x(&config.x_rpc, guard)`).
    pub async fn new(config: &Config, _guard: &TelemetryGuard) -> Result<Self, crate::BoxError> {
        Ok(ServiceContext {
            config: config.clone(),
        })
    }
}
