//! Handlers of the group `{{ group }}`.

{% include "api/handlers.rs.tpl" %}
