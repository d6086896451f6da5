//! rzero: a microservice toolkit in the spirit of go-zero, with OpenTelemetry built in.
//!
//! This facade re-exports the toolkit's crates so a service depends on one crate:
//!
//! | module | crate | what it gives |
//! |---|---|---|
//! | [`conf`] | `rzero-conf` | go-zero compatible YAML config loading |
//! | [`telemetry`] | `rzero-telemetry` | traces, metrics and logs over OTLP from config |
#![warn(missing_docs)]

pub use rzero_conf as conf;
#[cfg(feature = "telemetry")]
pub use rzero_telemetry as telemetry;
