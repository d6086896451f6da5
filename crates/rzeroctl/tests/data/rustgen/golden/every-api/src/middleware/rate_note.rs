//! `@server(middleware: RateNote)`: runs around every route of the groups that name it,
//! inside rzero's tracing, limits and JWT. Written once by rzeroctl; yours to fill.
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
/// Work before the route goes before `next.run`, work after it after.
pub async fn rate_note(req: Request, next: Next) -> Response {
    next.run(req).await
}
