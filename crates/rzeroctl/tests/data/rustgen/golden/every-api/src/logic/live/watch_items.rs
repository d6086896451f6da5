//! `GET /api/v1/live/items` (watchItems): the route's logic, a stream of server-sent events.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;
use rzero::rest::sse::Sender;

use crate::svc::ServiceContext;

/// `GET /api/v1/live/items` (watchItems).
///
/// Items as they change
///
/// Each value sent on `client` is one event (`data:` and its JSON); the stream ends when
/// this returns, and an `Err` reaches the client as an `error` event. When the client
/// goes away this future is dropped at its next `.await`.
pub async fn watch_items(
    ctx: &ServiceContext,
    req: crate::types::ListReq,
    client: Sender<crate::types::Item>,
) -> Result<(), Error> {
    let _ = (ctx, req, client);
    Err(Error::not_implemented(
        "watchItems has no logic yet: fill in src/logic/live/watch_items.rs",
    ))
}
