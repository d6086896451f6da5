//! rzero-rest: go-zero's `rest` in Rust, on axum and tower.
//!
//! A gateway is a [`RestConf`] (go-zero's keys) and routes; [`Server`] wires the rest.
//!
//! | module | what |
//! |---|---|
//! | [`server`] | the builder: [`Server`], [`Route`], [`Group`], serving and graceful shutdown |
//! | [`conf`] | [`RestConf`], `Middlewares` switches, `Shutdown` |
//! | [`trace`] | server span per request, W3C context in, `X-Trace-Id` out |
//! | [`metrics`] | `http.server.request.duration`, `http.server.active_requests` |
//! | [`recover`] | a handler's panic becomes a 500 |
//! | [`accesslog`] | one log line per request |
//! | [`sse`] | `@server(sse: true)`: `text/event-stream` routes, traced to their end, ended on drain |
//! | [`timeout`] | per server and per route, 503 and the handler cancelled |
//! | [`limit`] | `MaxConns` (503) and `MaxBytes` (413) |
//! | [`ratelimit`] | `RateLimit:` per route: local bucket, go-zero's Redis token and period limits, 429 + `Retry-After` |
//! | [`cors`] | `Cors: {AllowOrigins}` |
//! | [`tls`] | HTTPS: `CertFile`, `KeyFile`, `CACertFile` (mTLS); HTTP/2 by ALPN |
//! | [`gunzip`] | `Content-Encoding: gzip` request bodies decoded, `MaxBytes` on decoded bytes |
//! | [`compress`] | `Compress: {Enabled, MinBytes}`: gzip answers by `Accept-Encoding` |
//! | [`jwt`] | `@server(jwt: Auth)`: 401 unless a valid token, claims to the handler |
//! | [`respond`] | shedder and breaker refusals answered 503 and counted |
//! | [`parse`] | `httpx.Parse`: path, query, form, headers and JSON into one typed request |
//! | [`error`] | [`Error`]: every error answer is `{"code", "msg"}` |
//! | [`health`] | `/health`, `/ready` |
//! | [`httpc`] | the outbound client: client spans, propagation, timeouts, breaker per host |
#![warn(missing_docs)]

pub mod accesslog;
pub mod compress;
pub mod conf;
pub mod cors;
pub mod error;
pub mod gunzip;
pub mod health;
pub mod httpc;
pub mod jwt;
pub mod limit;
pub mod metrics;
pub mod parse;
pub mod ratelimit;
pub mod recover;
pub mod respond;
pub mod server;
mod slots;
pub mod sse;
pub mod timeout;
pub mod tls;
pub mod trace;

pub use conf::{MiddlewaresConf, RestConf};
pub use error::Error;
pub use parse::{Parse, Parsed};
pub use rzero_service::{ServiceConf, ShutdownConf};
pub use server::{BoundServer, Group, Route, ServeError, Server};

/// The axum this crate serves with, for middleware and extractors of your own, at the
/// version rzero uses (generated middleware files use `rzero::rest::axum`).
pub use axum;
/// Re-exported so handlers answer JSON without depending on axum themselves.
pub use axum::Json;
/// Re-exported: handlers take the server's shared state (the service context) with it.
pub use axum::extract::State;
