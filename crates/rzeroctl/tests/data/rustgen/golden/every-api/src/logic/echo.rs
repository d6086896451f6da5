//! `POST /echo` (echo): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `POST /echo` (echo).
pub async fn echo(svc: ServiceContext, req: String) -> Result<String, Error> {
    let _ = (svc, req);
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "echo has no logic yet: fill in src/logic/echo.rs",
        ),
    )
}
