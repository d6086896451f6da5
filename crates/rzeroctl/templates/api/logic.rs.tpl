//! {{ title | comment }}: the route's logic.
//!
//! rzeroctl wrote this file once and never touches it again.

use rzero::rest::Error;

use crate::svc::ServiceContext;

/// {{ title | comment }}.
{% if summary %}
///
/// {{ summary | comment }}
{% endif %}
pub async fn {{ func }}(
    ctx: &ServiceContext,
{% if request %}
    req: {{ request }},
{% endif %}
) -> Result<{% if response %}{{ response }}{% else %}(){% endif %}, Error> {
    let _ = {% if request %}(ctx, req){% else %}ctx{% endif %};
    Err(Error::not_implemented({{ todo | rust_str }}))
}
