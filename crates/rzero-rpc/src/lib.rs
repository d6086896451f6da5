//! rzero-rpc: go-zero's zrpc in Rust, on tonic and tower. A gRPC service and its callers
//! get tracing, metrics, panic recovery, timeouts, load shedding, circuit breaking, P2C
//! balancing, health and service discovery from their config, with no extra code.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use rzero_rpc::{RpcClient, RpcClientConf, RpcServer, RpcServerConf};
//! # #[derive(Clone)] struct MyService;
//! # impl tonic::server::NamedService for MyService { const NAME: &'static str = "my.Svc"; }
//! # impl tower::Service<http::Request<tonic::body::Body>> for MyService {
//! #     type Response = http::Response<tonic::body::Body>;
//! #     type Error = std::convert::Infallible;
//! #     type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
//! #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> { std::task::Poll::Ready(Ok(())) }
//! #     fn call(&mut self, _: http::Request<tonic::body::Body>) -> Self::Future { std::future::ready(Ok(http::Response::new(tonic::body::Body::empty()))) }
//! # }
//!
//! // Server: `Name`, `ListenOn`, `Timeout`, `CpuThreshold`, `Etcd`, ... from the YAML file.
//! let conf: RpcServerConf = rzero_conf::load("etc/user.yaml")?;
//! let server = RpcServer::new(conf).add_service(MyService).bind().await?;
//! tokio::spawn(server.serve(rzero_telemetry::shutdown_signal()));
//!
//! // Client: `Endpoints`, `Etcd` or `Target`, `Timeout`, ...; hand it to a generated client.
//! let conf = RpcClientConf { endpoints: vec!["127.0.0.1:8081".into()], ..Default::default() };
//! let channel = RpcClient::new(&conf).await?;
//! // let mut user = UserClient::new(channel);
//! # let _ = channel; Ok(()) }
//! ```
//!
//! Map of the crate:
//! - [`conf`]: [`RpcServerConf`] and [`RpcClientConf`], go-zero's keys;
//! - [`server`]: [`RpcServer`], and its interceptors as tower layers: `trace`, `metrics`,
//!   `recover`, `timeout`, `shed`;
//! - [`client`]: [`RpcClient`], and its layers: `trace`, `metrics`, `breaker`, `timeout`,
//!   `balance` (P2C with EWMA latency, or consistent hashing on a request key);
//! - [`discovery`]: where endpoints come from: static lists, etcd (register and resolve),
//!   Kubernetes headless services by DNS;
//! - [`configcenter`]: a typed config value that follows an etcd key (go-zero's config
//!   center), on discovery's etcd client;
//! - [`body`]: the response body wrapper that learns each call's gRPC status, in headers
//!   or in trailers, which every layer that reports an outcome uses;
//! - [`tls`]: TLS and mTLS of server and client (`Tls:` sections);
//! - [`names`]: telemetry names.
#![warn(missing_docs)]

pub mod body;
pub mod client;
pub mod conf;
pub mod configcenter;
pub mod discovery;
mod duration;
pub mod gated;
pub mod names;
pub mod server;
mod span;
pub mod status;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;

pub use client::balance::HashKey;
pub use client::{ClientError, RpcClient};
pub use conf::{RpcClientConf, RpcServerConf};
pub use rzero_service::{ServiceConf, ShutdownConf};
pub use server::{BoundServer, RpcServer, ServeError};
