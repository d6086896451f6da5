//! {{ title | comment }}: the route's logic, a stream of server-sent events.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;
use rzero::rest::sse::Sender;

use crate::svc::ServiceContext;

/// {{ title | comment }}.
{% if summary %}
///
/// {{ summary | comment }}
{% endif %}
///
/// Each value sent on `client` is one event (`data:` and its JSON); the stream ends when
/// this returns, and an `Err` reaches the client as an `error` event. When the client
/// goes away this future is dropped at its next `.await`.
pub async fn {{ func }}(
    ctx: &ServiceContext,
{% if request %}
    req: {{ request }},
{% endif %}
    client: Sender<{{ response }}>,
) -> Result<(), Error> {
    let _ = {% if request %}(ctx, req, client){% else %}(ctx, client){% endif %};
    Err(Error::not_implemented({{ todo | rust_str }}))
}
