//! Typed clients for the callers of this crate's services (goctl's `xxxclient`): give the
//! caller's config an `RpcClientConf` section (`Endpoints`, `Etcd` or `Target`) and
//! connect from its service context. Calls are CLIENT spans of the caller's tracer and go
//! through rzero's metrics, breaker, timeout and balancing.

use rzero::rpc::{ClientError, RpcClient, RpcClientConf};
use rzero::telemetry::TelemetryGuard;
{% for s in services %}

/// A `{{ s.full_name }}` client over rzero's channel.
pub type {{ s.trait_name }}Client = crate::{{ s.package_path }}::{{ s.module_stem }}_client::{{ s.trait_name }}Client<RpcClient>;

/// A `{{ s.full_name }}` client for `conf`, traced and measured with `guard`'s tracer and
/// meter.
pub async fn connect_{{ s.snake }}(conf: &RpcClientConf, guard: &TelemetryGuard) -> Result<{{ s.trait_name }}Client, ClientError> {
    let channel = RpcClient::builder(conf.clone()).telemetry(guard).build().await?;
    Ok({{ s.trait_name }}Client::new(channel))
}
{% endfor %}
