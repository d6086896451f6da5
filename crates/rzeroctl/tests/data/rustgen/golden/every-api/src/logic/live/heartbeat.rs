//! `GET /api/v1/live/heartbeat` (heartbeat): the route's logic, a stream of server-sent events.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;
use rzero::rest::sse::Sender;

use crate::svc::ServiceContext;

/// `GET /api/v1/live/heartbeat` (heartbeat).
///
/// Each value sent on `client` is one event (`data:` and its JSON); the stream ends when
/// this returns, and an `Err` reaches the client as an `error` event. When the client
/// goes away this future is dropped at its next `.await`.
pub async fn heartbeat(
    ctx: &ServiceContext,
    client: Sender<serde_json::Value>,
) -> Result<(), Error> {
    let _ = (ctx, client);
    Err(Error::not_implemented(
        "heartbeat has no logic yet: fill in src/logic/live/heartbeat.rs",
    ))
}
