//! Go types of a `.api` to OpenAPI 3.0 schemas, and a struct's fields by where they
//! travel (path, query, header, form or JSON body), following go-zero's `httpx.Parse`.

use serde_json::{Map, Value, json};

use crate::api::spec::{Member, Source, Spec, TagOpts, Type};

/// How deep embedded structs are inlined before giving up (a cycle through embedding).
const MAX_EMBED_DEPTH: usize = 32;

/// A `$ref` to the component schema of a declared type.
pub(super) fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The schema of a Go base type.
fn base(name: &str) -> Value {
    match name {
        "string" | "error" => json!({"type": "string"}),
        "bool" => json!({"type": "boolean"}),
        "int8" | "int16" | "int32" | "uint8" | "uint16" | "byte" | "rune" => {
            json!({"type": "integer", "format": "int32"})
        }
        "int" | "int64" | "uint" | "uint32" | "uint64" | "uintptr" => {
            json!({"type": "integer", "format": "int64"})
        }
        "float32" => json!({"type": "number", "format": "float"}),
        "float64" => json!({"type": "number", "format": "double"}),
        // complex64/128 have no JSON form; anything is accepted.
        _ => json!({}),
    }
}

/// The schema of a type expression; declared types are `$ref`s.
pub(super) fn of(spec: &Spec, ty: &Type) -> Value {
    match ty {
        Type::Base(n) => base(n),
        Type::Named(n) => reference(n),
        Type::Any => json!({}),
        // OpenAPI 3.0 ignores keys beside `$ref`, hence `allOf` to say nullable.
        Type::Pointer(t) => match of(spec, t) {
            Value::Object(mut m) if !m.contains_key("$ref") => {
                m.insert("nullable".into(), Value::Bool(true));
                Value::Object(m)
            }
            other => json!({"allOf": [other], "nullable": true}),
        },
        Type::Slice(t) => json!({"type": "array", "items": of(spec, t)}),
        Type::Array(n, t) => {
            let mut s = json!({"type": "array", "items": of(spec, t)});
            if let (Ok(n), Value::Object(m)) = (n.parse::<u64>(), &mut s) {
                m.insert("minItems".into(), n.into());
                m.insert("maxItems".into(), n.into());
            }
            s
        }
        Type::Map(_, v) => json!({"type": "object", "additionalProperties": of(spec, v)}),
        Type::Struct(members) => object(spec, &fields(spec, members), None),
    }
}

/// A field of a struct, embedded structs flattened: where it travels and its options.
pub(super) struct FieldInfo<'a> {
    /// Where it comes from (`None`: an untagged field, JSON under its Go name).
    pub(super) source: Option<Source>,
    /// The tag's options; `name` is the name on the wire.
    pub(super) opts: TagOpts,
    /// The member.
    pub(super) member: &'a Member,
}

impl FieldInfo<'_> {
    /// Whether a request must carry it.
    pub(super) fn required(&self) -> bool {
        !(self.opts.optional || self.opts.omitempty || self.opts.default.is_some())
    }

    /// Whether it is part of a JSON object.
    pub(super) fn is_json(&self) -> bool {
        matches!(self.source, None | Some(Source::Json))
    }
}

/// The fields of `members` in order, embedded structs without a tag name inlined.
pub(super) fn fields<'a>(spec: &'a Spec, members: &'a [Member]) -> Vec<FieldInfo<'a>> {
    let mut out = Vec::new();
    collect(spec, members, 0, &mut out);
    out
}

fn collect<'a>(spec: &'a Spec, members: &'a [Member], depth: usize, out: &mut Vec<FieldInfo<'a>>) {
    for m in members {
        let (source, opts) = match m.tag.source() {
            Some((s, o)) => (Some(s), o),
            None => (
                None,
                TagOpts {
                    name: m.name.clone().unwrap_or_default(),
                    ..TagOpts::default()
                },
            ),
        };
        if m.name.is_none() && opts.name.is_empty() {
            if let Some(inner) = embedded(spec, &m.ty).filter(|_| depth < MAX_EMBED_DEPTH) {
                collect(spec, inner, depth + 1, out);
            }
            continue;
        }
        let mut opts = opts;
        if opts.name.is_empty() {
            opts.name = m
                .name
                .clone()
                .or_else(|| type_name(&m.ty))
                .unwrap_or_default();
        }
        if opts.name == "-" || opts.name.is_empty() {
            continue;
        }
        out.push(FieldInfo {
            source,
            opts,
            member: m,
        });
    }
}

/// The fields of an embedded `T` or `*T`.
fn embedded<'a>(spec: &'a Spec, ty: &'a Type) -> Option<&'a [Member]> {
    match ty {
        Type::Named(n) => match &spec.find_type(n)?.ty {
            Type::Struct(m) => Some(m),
            other => embedded(spec, other),
        },
        Type::Pointer(t) => embedded(spec, t),
        Type::Struct(m) => Some(m),
        _ => None,
    }
}

/// The name Go gives an embedded field: its type's name.
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Named(n) | Type::Base(n) => Some(n.clone()),
        Type::Pointer(t) => type_name(t),
        _ => None,
    }
}

/// A field's schema: its type plus default, enum, range and description.
pub(super) fn field(spec: &Spec, f: &FieldInfo<'_>) -> Value {
    let mut s = of(spec, &f.member.ty);
    let Value::Object(m) = &mut s else { return s };
    let kind = m
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let constrained = !m.contains_key("$ref") && !m.contains_key("allOf");
    if let Some(d) = &f.opts.default {
        m.insert("default".into(), typed(&kind, d));
    }
    if constrained && !f.opts.options.is_empty() {
        let values = f.opts.options.iter().map(|o| typed(&kind, o)).collect();
        m.insert("enum".into(), Value::Array(values));
    }
    if let Some(r) = f.opts.range.as_deref().filter(|_| constrained) {
        range(m, r);
    }
    let docs = description(&f.member.docs);
    if !docs.is_empty() && constrained {
        m.insert("description".into(), docs.into());
    }
    s
}

/// An object schema of the given fields; `keep` selects which (JSON ones by default).
pub(super) fn object(spec: &Spec, fields: &[FieldInfo<'_>], keep: Option<Source>) -> Value {
    let (mut props, mut required) = (Map::new(), Vec::new());
    for f in fields {
        let wanted = match keep {
            None => f.is_json(),
            Some(s) => f.source == Some(s),
        };
        if !wanted || props.contains_key(&f.opts.name) {
            continue;
        }
        props.insert(f.opts.name.clone(), field(spec, f));
        if f.required() {
            required.push(Value::String(f.opts.name.clone()));
        }
    }
    let mut o = Map::new();
    o.insert("type".into(), "object".into());
    o.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        o.insert("required".into(), Value::Array(required));
    }
    Value::Object(o)
}

/// A tag value as the schema's type: `default=1` on an int is the number 1.
fn typed(kind: &str, v: &str) -> Value {
    let parsed = match kind {
        "integer" => v.parse::<i64>().ok().map(Value::from),
        "number" => v
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
        "boolean" => v.parse::<bool>().ok().map(Value::Bool),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(v.to_string()))
}

/// go-zero's `range=[a:b]`, `(a:b]`, `[a:]`: inclusive with `[`/`]`, exclusive with `(`/`)`.
fn range(m: &mut Map<String, Value>, r: &str) {
    let r = r.trim();
    let (Some(open), Some(close)) = (r.chars().next(), r.chars().last()) else {
        return;
    };
    let inner = r.get(1..r.len().saturating_sub(1)).unwrap_or("");
    let Some((lo, hi)) = inner.split_once(':') else {
        return;
    };
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
    };
    let int = |s: &str| s.trim().parse::<i64>().ok().map(serde_json::Number::from);
    let bound = |s: &str| int(s).or_else(|| num(s));
    if let Some(lo) = bound(lo) {
        m.insert("minimum".into(), Value::Number(lo));
        if open == '(' {
            m.insert("exclusiveMinimum".into(), Value::Bool(true));
        }
    }
    if let Some(hi) = bound(hi) {
        m.insert("maximum".into(), Value::Number(hi));
        if close == ')' {
            m.insert("exclusiveMaximum".into(), Value::Bool(true));
        }
    }
}

/// Comments as prose: markers stripped, lines joined.
pub(super) fn description(docs: &[String]) -> String {
    docs.iter()
        .map(|d| {
            let d = d.trim();
            let d = d.strip_prefix("//").unwrap_or(d);
            let d = d
                .strip_prefix("/*")
                .and_then(|d| d.strip_suffix("*/"))
                .unwrap_or(d);
            d.trim().to_string()
        })
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}
