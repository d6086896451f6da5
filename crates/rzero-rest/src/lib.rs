//! rzero-rest: go-zero's `rest` in Rust, on axum and tower.
//!
//! Built so far: [`trace`], the server-span middleware every route gets; [`metrics`], the
//! request duration histogram and active-requests gauge; and [`recover`], which turns a
//! handler's panic into a 500. Still to come (the rest issue): the server builder from
//! `RestConf`, access log,
//! timeouts, limits, CORS, JWT, shedding and breaking wired from config, health and
//! readiness, request parsing, graceful shutdown and the outbound client.
#![warn(missing_docs)]

pub mod metrics;
pub mod recover;
pub mod trace;
