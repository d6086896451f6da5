//! `/health` (liveness: the process answers) and `/ready` (readiness: false while
//! starting and while draining), outside every middleware so probes are never shed,
//! broken, timed out or traced.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;

use crate::error::Error;

/// Liveness path.
pub const HEALTH_PATH: &str = "/health";
/// Readiness path.
pub const READY_PATH: &str = "/ready";

/// The flag `/ready` reports, shared with the server's lifecycle.
pub use rzero_service::Readiness;

fn ok_json(status: &'static str) -> Response {
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "application/json")],
        format!("{{\"status\":\"{status}\"}}"),
    )
        .into_response()
}

/// The two probe routes.
pub(crate) fn routes(readiness: Readiness) -> Router {
    Router::new()
        .route(HEALTH_PATH, get(|| async { ok_json("ok") }))
        .route(
            READY_PATH,
            get(move || {
                let ready = readiness.is_ready();
                async move {
                    if ready {
                        ok_json("ready")
                    } else {
                        Error::unavailable("not ready: starting or draining").into_response()
                    }
                }
            }),
        )
}
