//! Typed clients for the callers of this crate's services (goctl's `xxxclient`): give the
//! caller's config an `RpcClientConf` section (`Endpoints`, `Etcd` or `Target`) and build
//! a client from it. Calls get rzero's tracing, metrics, breaker, timeout and balancing.

use rzero::rpc::{ClientError, RpcClient, RpcClientConf};
use rzero::telemetry::TelemetryGuard;
