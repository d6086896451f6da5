//! `POST /echo` (echo): the route's logic.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;

use crate::svc::ServiceContext;

/// `POST /echo` (echo).
pub async fn echo(ctx: &ServiceContext, req: String) -> Result<String, Error> {
    let _ = (ctx, req);
    Err(Error::not_implemented(
        "echo has no logic yet: fill in src/logic/echo.rs",
    ))
}
