//! One file per rpc: the service's own code. rzeroctl creates the file of an rpc that is
//! new and never touches an existing one; this list follows the proto.
{% if multi %}
{% for s in services %}

/// `{{ s.full_name }}`.
pub mod {{ s.module }} {
{% for m in s.modules %}
    pub mod {{ m }};
{% endfor %}
}
{% endfor %}
{% else %}

{% for m in modules %}
pub mod {{ m }};
{% endfor %}
{% endif %}
