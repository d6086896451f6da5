//! {{ doc }}
{% for m in modules %}

pub mod {{ m }};
{% endfor %}
{% for f in functions %}

mod {{ f.file }};
pub use {{ f.file }}::{{ f.func }};
{% endfor %}
