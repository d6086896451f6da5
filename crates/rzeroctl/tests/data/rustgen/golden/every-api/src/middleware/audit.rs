//! `@server(middleware: Audit)`: runs around every route of the groups that
//! name it, inside rzero's tracing, limits and JWT. rzeroctl wrote this file once and
//! never touches it again.

use rzero::rest::axum::extract::Request;
use rzero::rest::axum::middleware::Next;
use rzero::rest::axum::response::Response;

/// Work before the route goes before `next.run`, work after it after.
pub async fn audit(req: Request, next: Next) -> Response {
    next.run(req).await
}
