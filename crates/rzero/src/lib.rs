//! rzero: a microservice toolkit in the spirit of go-zero, with OpenTelemetry built in.
//!
//! This facade re-exports the toolkit's crates so a service depends on one crate:
//!
//! | module | crate | what it gives |
//! |---|---|---|
//! | [`conf`] | `rzero-conf` | go-zero compatible YAML config loading |
//! | [`telemetry`] | `rzero-telemetry` | traces, metrics and logs over OTLP from config |
//! | [`resilience`] | `rzero-resilience` | adaptive breaker, load shedder, P2C balancer |
//! | [`service`] | `rzero-service` | the section and lifecycle both servers share, and the `DevServer` port (CPU profiles with the `pprof` feature) |
//! | [`rest`] | `rzero-rest` | the HTTP gateway server with its middleware, and `httpc` |
//! | [`rpc`] | `rzero-rpc` | the gRPC server and client: interceptors, breaker, P2C, discovery |
//! | [`stores`] | `rzero-stores` | SQL (MySQL, SQLite) and Redis, traced; cache-aside |
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, Serialize)]
//! #[serde(rename_all = "PascalCase")]
//! struct Config {
//!     name: String,
//!     #[serde(default)]
//!     open_telemetry: rzero::telemetry::TelemetryConf,
//! }
//!
//! let yaml = "Name: order-api\nOpenTelemetry:\n  Endpoint: localhost:4317\n";
//! let c: Config = rzero::conf::Loader::new().load_str("order-api.yaml", yaml).unwrap();
//! assert_eq!(c.open_telemetry.endpoint, "localhost:4317");
//! ```
#![warn(missing_docs)]

pub use rzero_conf as conf;
#[cfg(feature = "resilience")]
pub use rzero_resilience as resilience;
#[cfg(feature = "rest")]
pub use rzero_rest as rest;
#[cfg(feature = "rpc")]
pub use rzero_rpc as rpc;
#[cfg(feature = "service")]
pub use rzero_service as service;
#[cfg(feature = "stores")]
pub use rzero_stores as stores;
#[cfg(feature = "telemetry")]
pub use rzero_telemetry as telemetry;
