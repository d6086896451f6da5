//!
//! Layout (goctl's rpc layout, in Rust). Files marked *yours* are written once and never
//! rewritten; the others start with "DO NOT EDIT" and follow the proto on every
//! `rzeroctl rpc protoc`:
//! - `proto/`: the proto and its imports, copied; `build.rs` compiles them into [`pb`];
//! - `etc/*.yaml` and [`config`]: the config file and its keys (*yours*);
//! - [`svc`]: the service context every logic function shares (*yours*);
//! - [`logic`]: one file per rpc (each *yours*);
//! - [`server`]: the tonic services, each rpc calling its logic function;
//! - [`client`]: typed clients for the callers of these services;
//! - `src/main.rs`: loads the config, starts telemetry, serves until SIGTERM.

pub mod client;
pub mod config;
pub mod logic;
pub mod server;
pub mod svc;

use std::pin::Pin;
use std::sync::Arc;

use rzero::rpc::RpcServer;
use rzero::telemetry::TelemetryGuard;
use tonic::codegen::tokio_stream::Stream;

