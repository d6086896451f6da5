//! The tonic services: each rpc calls its function in [`crate::logic`], which is yours
//! to edit.

use std::sync::Arc;

use tonic::{Request, Response, Status{% if client_streaming %}, Streaming{% endif %}};

use crate::logic;
{% if uses_pb %}
use crate::pb;
{% endif %}
use crate::svc::ServiceContext;
{% for s in services %}

/// `{{ s.full_name }}`: each rpc calls its logic function.
#[derive(Clone)]
pub struct {{ s.server }} {
    ctx: Arc<ServiceContext>,
}

impl {{ s.server }} {
    /// The service over the shared context.
    pub fn new(ctx: Arc<ServiceContext>) -> Self {
        {{ s.server }} { ctx }
    }
}

#[tonic::async_trait]
impl {{ s.package_path }}::{{ s.module_stem }}_server::{{ s.trait_name }} for {{ s.server }} {
{% for m in s.methods %}
{% if m.server_streaming %}
    type {{ m.proto_name }}Stream = crate::BoxStream<{{ m.output }}>;

{% endif %}
    async fn {{ m.fn_name }}(&self, request: {{ m.request }}) -> Result<Response<{{ m.response }}>, Status> {
        logic::{{ m.logic_module }}(&self.ctx, request).await
    }
{% if not loop.last %}

{% endif %}
{% endfor %}
}
{% endfor %}
