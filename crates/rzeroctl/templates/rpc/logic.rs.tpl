//! `{{ full_name }}/{{ proto_name }}`: your code.
//!
//! rzeroctl wrote this file once and never touches it again.

use tonic::{Request, Response, Status{% if client_streaming %}, Streaming{% endif %}};

{% if uses_pb %}
use crate::pb;
{% endif %}
use crate::svc::ServiceContext;

/// `{{ rpc | comment }}`.
///
/// Replace the body with your logic; `ctx` holds the config and what you add to the
/// service context.
pub async fn {{ fn_name }}(ctx: &ServiceContext, request: {{ request }}) -> Result<Response<{{ response }}>, Status> {
    let _ = (ctx, request);
    Err(Status::unimplemented({{ todo | rust_str }}))
}
