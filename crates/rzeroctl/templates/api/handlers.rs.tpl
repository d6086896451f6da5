use std::sync::Arc;

use rzero::rest::{ {{- imports | join(", ") -}} };

use crate::svc::ServiceContext;
{% for h in handlers %}
{% if h.sse %}

/// {{ h.title | comment }}: server-sent events, one per value the logic sends.
pub async fn {{ h.func }}(
    State(ctx): State<Arc<ServiceContext>>,
{% if h.request %}
    {{ h.extractor }}(req): {{ h.extractor }}<{{ h.request }}>,
{% endif %}
) -> rzero::rest::sse::Events {
    rzero::rest::sse::events(move |client| async move {
        {{ h.logic_path }}(&ctx{% if h.request %}, req{% endif %}, client).await
    })
}
{% else %}

/// {{ h.title | comment }}.
pub async fn {{ h.func }}(
    State(ctx): State<Arc<ServiceContext>>,
{% if h.request %}
    {{ h.extractor }}(req): {{ h.extractor }}<{{ h.request }}>,
{% endif %}
) -> Result<{% if h.response %}Json<{{ h.response }}>{% else %}(){% endif %}, Error> {
    {{ h.logic_path }}(&ctx{% if h.request %}, req{% endif %}).await{% if h.response %}.map(Json){% endif %}

}
{% endif %}
{% endfor %}
