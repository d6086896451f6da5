//! `GET /ping` (ping): the route's logic. Written once by rzeroctl; yours to fill, never overwritten.
use rzero::rest::Error;
use crate::svc::ServiceContext;
/// `GET /ping` (ping).
pub async fn ping(svc: ServiceContext) -> Result<crate::types::PingResp, Error> {
    let _ = svc;
    Err(
        Error::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "ping has no logic yet: fill in src/logic/ping.rs",
        ),
    )
}
