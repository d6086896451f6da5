//! `HEAD /` (health2): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `HEAD /` (health2).
pub async fn health2(svc: ServiceContext) -> Result<(), Error> {
    let _ = svc;
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "health2 has no logic yet: fill in src/logic/health2.rs",
        ),
    )
}
