//! One handler per route: parse the request, call the route's logic, answer JSON.
{% for m in modules %}

pub mod {{ m }};
{% endfor %}
{% if root %}

{% include "api/handlers.rs.tpl" %}
{% endif %}
