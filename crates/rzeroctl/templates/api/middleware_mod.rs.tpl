//! The `@server(middleware: ...)` functions, one module each.
{% for m in middlewares %}

pub mod {{ m.module }};
{% endfor %}
