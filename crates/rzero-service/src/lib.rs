//! rzero-service: what the HTTP gateway (rzero-rest) and the gRPC server (rzero-rpc) share,
//! as go-zero's `core/service` is shared by `rest` and `zrpc`.
//!
//! - [`ServiceConf`]: the section both servers flatten into their own (`Name`, `Mode`,
//!   `Log`, `Telemetry`/`OpenTelemetry`, `Prometheus`, `DevServer`, `Shutdown`) and the one
//!   [`ServiceConf::init_telemetry`];
//! - [`Lifecycle`]: the one graceful-stop sequence (readiness off, wrap-up, drain, flush)
//!   and the owner of what a server starts beside itself (the telemetry guard, the
//!   Prometheus listener, the CPU sampler);
//! - [`Readiness`]: the flag `/ready` and `grpc.health.v1` report;
//! - [`shedding`]: the adaptive shedder from `CpuThreshold`, with its sampler;
//! - [`per_thread`]: a server's middleware stack cloned once per thread rather than once
//!   per request (axum's routes and hyper's connections clone what they serve per call);
//! - [`devserver`]: go-zero's `DevServer` diagnostics port (health, metrics, CPU
//!   profiles), which the lifecycle starts and stops.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use rzero_service::{Lifecycle, ServiceConf};
//!
//! let conf: ServiceConf = rzero_conf::Loader::new().load_str("a.yaml", "Name: demo\n")?;
//! let life = Lifecycle::new(&conf);
//! let ready = life.readiness();
//! // A server: serves until `drain` resolves, then stops accepting and finishes what is
//! // in flight. Here the stop signal has already come.
//! life.run(
//!     |drain| async move {
//!         drain.await;
//!         Ok::<(), Box<dyn std::error::Error>>(())
//!     },
//!     async {},
//!     async { /* deregister, report NOT_SERVING */ },
//! )
//! .await?;
//! assert!(!ready.is_ready());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod conf;
pub mod devserver;
mod lifecycle;
pub mod per_thread;
mod readiness;
pub mod shedding;

pub use conf::{ServiceConf, ShutdownConf};
pub use lifecycle::{Drain, Lifecycle, StartError};
pub use readiness::Readiness;
