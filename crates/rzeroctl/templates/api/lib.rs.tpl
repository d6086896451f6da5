//! {{ name }}: the HTTP service of `{{ api_file }}`, on rzero.
//!
//! Layout (goctl's api layout, in Rust). Files marked *yours* are written once and never
//! rewritten; the others start with "DO NOT EDIT" and follow the .api on every
//! `rzeroctl api rust`:
//! - `etc/*.yaml` and [`config`]: the config file and its keys (*yours*);
//! - [`svc`]: the service context every handler shares (*yours*);
//! - [`types`]: the request and response types of the .api, with their checks;
//! - [`routes`]: the routes, group by group, with their `@server` settings;
//! - [`handler`]: one handler per route: parse, call the logic, answer JSON;
{% if existing.model %}
//! - [`model`]: the tables, from `rzeroctl model` (`*_gen.rs` generated, the rest yours);
{% endif %}
//! - [`logic`]: one file per route, the route's work (each *yours*);
{% if middlewares %}
//! - [`middleware`]: one file per `@server(middleware:)` (each *yours*);
{% endif %}
//! - `src/main.rs`: loads the config, starts telemetry, serves until SIGTERM.

pub mod config;
pub mod handler;
pub mod logic;
{% if existing.model %}
pub mod model;
{% endif %}
{% if middlewares %}
pub mod middleware;
{% endif %}
pub mod routes;
pub mod svc;
pub mod types;

use std::sync::Arc;

use rzero::rest::Server;
use rzero::telemetry::TelemetryGuard;

/// The error of building and running the server.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The server for `config`, its service context built with `guard`'s tracer and meter
/// and every route of the .api; `.serve()` runs it until SIGTERM, then it drains and
/// flushes `guard`.
pub async fn server(
    config: config::Config,
    guard: TelemetryGuard,
) -> Result<Server<Arc<svc::ServiceContext>>, BoxError> {
    let ctx = Arc::new(svc::ServiceContext::new(&config, &guard).await?);
    Ok(routes::server(&config, ctx).telemetry(guard))
}
