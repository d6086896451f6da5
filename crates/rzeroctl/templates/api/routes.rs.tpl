//! The routes of the .api, group by group (goctl's `handler/routes.go`).

use std::sync::Arc;
{% if uses_duration %}
use std::time::Duration;
{% endif %}

use rzero::rest::{Group, Route, Server};

use crate::config::Config;
use crate::handler;
use crate::svc::ServiceContext;

/// The server for `config` with every route of the .api; its handlers share `ctx`.
{% for n in notes %}
///
/// {{ n | comment }}
{% endfor %}
pub fn server(config: &Config, ctx: Arc<ServiceContext>) -> Server<Arc<ServiceContext>> {
    Server::with_state(config.rest.clone(), ctx)
{% for g in groups %}
        .group(
            Group::new()
{% if g.prefix %}
                .prefix({{ g.prefix | rust_str }})
{% endif %}
{% if g.jwt %}
                .jwt(&config.{{ g.jwt }})
{% endif %}
{% if g.timeout_ms is not none %}
                .timeout(Duration::from_millis({{ g.timeout_ms }}))
{% endif %}
{% if g.max_bytes is not none %}
                .max_bytes({{ g.max_bytes }})
{% endif %}
{% if g.sse %}
                .sse()
{% endif %}
{% for m in g.middlewares %}
                .layer(rzero::rest::axum::middleware::from_fn(crate::middleware::{{ m }}::{{ m }}))
{% endfor %}
                .routes([
{% for r in g.routes %}
                    Route::{{ r.method }}({{ r.path | rust_str }}, handler::{{ r.handler_path }}),
{% endfor %}
                ]),
        )
{% endfor %}
}
