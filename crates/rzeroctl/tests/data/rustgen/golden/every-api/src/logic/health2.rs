//! `HEAD /` (health2): the route's logic.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;

use crate::svc::ServiceContext;

/// `HEAD /` (health2).
pub async fn health2(ctx: &ServiceContext) -> Result<(), Error> {
    let _ = ctx;
    Err(Error::not_implemented(
        "health2 has no logic yet: fill in src/logic/health2.rs",
    ))
}
