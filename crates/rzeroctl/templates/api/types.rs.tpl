//! The contract of the .api (goctl's `internal/types`). Types stay in the contract
//! even while no logic uses them yet.
#![allow(dead_code)]

{% if uses_map %}
use std::collections::BTreeMap;

{% endif %}
{% if parse_imports %}
use rzero::rest::parse::{ {{- parse_imports | join(", ") -}} };
{% endif %}
use serde::{Deserialize, Serialize};
{% for t in types %}

{% for d in t.docs %}
/// {{ d | comment }}
{% endfor %}
{% if t.alias %}
pub type {{ t.name }} = {{ t.alias }};
{% else %}
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct {{ t.name }} {
{% for f in t.fields %}
{% for d in f.docs %}
    /// {{ d | comment }}
{% endfor %}
{% if f.serde %}
    #[serde({{ f.serde }})]
{% endif %}
    pub {{ f.name }}: {{ f.ty }},
{% endfor %}
}
{% for d in t.defaults %}

fn {{ d.func }}() -> {{ d.ty }} {
    {{ d.value }}
}
{% endfor %}

impl Parse for {{ t.name }} {
{% if t.path %}
    const PATH: &'static [&'static str] = &[{% for w in t.path %}{{ w | rust_str }}, {% endfor %}];
{% endif %}
{% if t.form %}
    const FORM: &'static [&'static str] = &[{% for w in t.form %}{{ w | rust_str }}, {% endfor %}];
{% endif %}
{% if t.header %}
    const HEADER: &'static [(&'static str, &'static str)] = &[{% for w in t.header %}({{ w | rust_str }}, {{ w | rust_str }}), {% endfor %}];
{% endif %}
{% if t.checks %}

    fn validate(&self) -> Result<(), FieldError> {
{% for c in t.checks %}
{% if c.optional %}
        if let Some(v) = &self.{{ c.field }} {
{% endif %}
{% for k in c.kinds %}
{% if k.range %}
        check::range({{ c.wire | rust_str }}, {{ c.place }}{{ c.cast }}, {{ k.range | rust_str }})?;
{% else %}
        check::options({{ c.wire | rust_str }}, {{ c.text }}, &[{% for o in k.options %}{{ o | rust_str }}, {% endfor %}])?;
{% endif %}
{% endfor %}
{% if c.optional %}
        }
{% endif %}
{% endfor %}
        Ok(())
    }
{% endif %}
}
{% endif %}
{% endfor %}
