//! `src/types.rs` of a generated service (goctl's `internal/types`): one serde struct
//! per `.api` type, its tags mapped to rzero's request parsing ([`rzero_rest::parse`]:
//! where a field comes from, `optional`, `default=`, `options=`, `range=`).
//!
//! Go to Rust: `string` String, `int`/`int64` i64, `int32` i32 (and the other sized
//! ints), `uint` u64, `byte`/`uint8` u8, `rune` i32, `float64` f64, `float32` f32,
//! `bool`, `[]T` and `[N]T` Vec<T>, `map[K]V` BTreeMap (stable JSON order), `*T`
//! Option<T> (boxed for declared types, so recursive types compile),
//! `interface{}` serde_json::Value; an embedded struct's fields are inlined; an inline
//! struct field becomes its own struct named `ParentField`.

use serde::Serialize;

use super::GenError;
use crate::api::spec::{Member, Source, Spec, TagOpts, Type};
use crate::render::{ident, pascal, rust_str, snake};

/// Names a declared type may not take: they would shadow what the generated code uses.
const RESERVED: [&str; 12] = [
    "String",
    "Vec",
    "Option",
    "Result",
    "Box",
    "Default",
    "Error",
    "Json",
    "Parsed",
    "ServiceContext",
    "BTreeMap",
    "Value",
];

/// What `templates/api/types.rs.tpl` renders.
#[derive(Debug, Default, Serialize)]
pub(super) struct TypesCtx {
    types: Vec<TypeCtx>,
    uses_map: bool,
    parse_imports: Vec<&'static str>,
}

#[derive(Debug, Default, Serialize)]
struct TypeCtx {
    name: String,
    docs: Vec<String>,
    /// `Some`: a type alias to this Rust type.
    alias: Option<String>,
    fields: Vec<FieldCtx>,
    defaults: Vec<DefaultCtx>,
    path: Vec<String>,
    form: Vec<String>,
    header: Vec<String>,
    checks: Vec<CheckCtx>,
}

#[derive(Debug, Serialize)]
struct FieldCtx {
    name: String,
    ty: String,
    docs: Vec<String>,
    /// The inside of `#[serde(...)]`, empty for none.
    serde: String,
}

#[derive(Debug, Serialize)]
struct DefaultCtx {
    func: String,
    ty: String,
    value: String,
}

#[derive(Debug, Serialize)]
struct CheckCtx {
    wire: String,
    field: String,
    optional: bool,
    /// The value as a number (`self.x` or `*v`).
    place: String,
    /// ` as f64` unless it is one.
    cast: &'static str,
    /// The value as `&str`.
    text: String,
    kinds: Vec<CheckKind>,
}

#[derive(Debug, Serialize)]
struct CheckKind {
    range: Option<String>,
    options: Vec<String>,
}

struct Out {
    types: Vec<TypeCtx>,
    /// Members of the declared struct types, for inlining embedded ones.
    members: std::collections::HashMap<String, Vec<Member>>,
    /// Inline structs still to emit: (name, members).
    pending: Vec<(String, Vec<Member>)>,
    uses_map: bool,
}

/// The context of the whole `types.rs`.
pub(super) fn context(spec: &Spec) -> Result<TypesCtx, GenError> {
    let mut out = Out {
        members: spec
            .types
            .iter()
            .filter_map(|t| match &t.ty {
                Type::Struct(m) => Some((t.name.clone(), m.clone())),
                _ => None,
            })
            .collect(),
        types: Vec::new(),
        pending: Vec::new(),
        uses_map: false,
    };
    for t in &spec.types {
        let name = pascal(&t.name);
        if RESERVED.contains(&name.as_str()) {
            return Err(GenError(format!(
                "type `{}` would shadow Rust's or rzero's `{name}` in the generated code; rename it in the .api",
                t.name
            )));
        }
        let mut docs: Vec<String> = t.docs.iter().map(|d| doc_text(d)).collect();
        if docs.is_empty() {
            docs.push(format!("`{}` in the .api.", t.name));
        }
        match &t.ty {
            Type::Struct(members) => emit_struct(&mut out, &name, docs, members)?,
            other => {
                let alias = rust_type(&mut out, &name, "", other)?;
                out.types.push(TypeCtx {
                    name,
                    docs,
                    alias: Some(alias),
                    ..TypeCtx::default()
                });
            }
        }
        while let Some((n, m)) = out.pending.pop() {
            emit_struct(
                &mut out,
                &n,
                vec!["An inline struct of the .api.".into()],
                &m,
            )?;
        }
    }
    let structs = out.types.iter().any(|t| t.alias.is_none());
    let checks = out.types.iter().any(|t| !t.checks.is_empty());
    let mut parse_imports = Vec::new();
    if checks {
        parse_imports.push("FieldError");
    }
    if structs {
        parse_imports.push("Parse");
    }
    if checks {
        parse_imports.push("check");
    }
    Ok(TypesCtx {
        types: out.types,
        uses_map: out.uses_map,
        parse_imports,
    })
}

fn doc_text(comment: &str) -> String {
    comment
        .trim_start_matches("//")
        .trim_start_matches("/*")
        .trim_end_matches("*/")
        .trim()
        .to_owned()
}

struct FieldPlan {
    rust_name: String,
    wire: String,
    ty: String,
    base: Option<String>,
    optional_wrap: bool,
    source: Option<Source>,
    opts: TagOpts,
}

/// Embedded structs (`Paging`, `*Base`) have their fields inlined, as Go's JSON does:
/// one flat object, and every field's source known to `Parse` without serde's flatten.
fn inline_embedded(out: &Out, members: &[Member], depth: u32) -> Vec<Member> {
    let mut flat = Vec::new();
    for m in members {
        let target = match (&m.name, &m.ty) {
            (None, Type::Named(n)) => Some(n),
            (None, Type::Pointer(inner)) => match &**inner {
                Type::Named(n) => Some(n),
                _ => None,
            },
            _ => None,
        };
        match target.and_then(|n| out.members.get(n)) {
            Some(inner) if depth < 16 => flat.extend(inline_embedded(out, inner, depth + 1)),
            _ => flat.push(m.clone()),
        }
    }
    flat
}

fn emit_struct(
    out: &mut Out,
    name: &str,
    docs: Vec<String>,
    members: &[Member],
) -> Result<(), GenError> {
    let members = &inline_embedded(out, members, 0);
    let mut plans = Vec::new();
    for m in members {
        plans.push(plan(out, name, m)?);
    }
    let mut t = TypeCtx {
        name: name.to_owned(),
        docs,
        ..TypeCtx::default()
    };
    for (p, m) in plans.iter().zip(members) {
        let mut docs: Vec<String> = m.docs.iter().map(|d| doc_text(d)).collect();
        if !m.tag.raw.is_empty() {
            docs.push(format!("`{}`", m.tag.raw.replace('`', "'")));
        }
        let mut attrs = Vec::new();
        if p.opts.name == "-" {
            attrs.push("skip".to_owned());
        } else {
            if p.wire != p.rust_name.trim_start_matches("r#") {
                attrs.push(format!("rename = {}", rust_str(&p.wire)));
            }
            if let Some(default) = &p.opts.default {
                let func = format!(
                    "default_{}_{}",
                    snake(name),
                    p.rust_name.trim_start_matches("r#")
                );
                t.defaults.push(DefaultCtx {
                    func: func.clone(),
                    ty: p.ty.clone(),
                    value: default_value(p, default, name)?,
                });
                attrs.push(format!("default = {}", rust_str(&func)));
            } else if p.opts.optional || p.optional_wrap {
                attrs.push("default".into());
            }
            if p.optional_wrap && p.opts.omitempty {
                attrs.push("skip_serializing_if = \"Option::is_none\"".into());
            }
        }
        t.fields.push(FieldCtx {
            name: p.rust_name.clone(),
            ty: p.ty.clone(),
            docs,
            serde: attrs.join(", "),
        });
    }
    parse_parts(&mut t, &plans);
    out.types.push(t);
    Ok(())
}

fn plan(out: &mut Out, parent: &str, m: &Member) -> Result<FieldPlan, GenError> {
    let (source, opts) = m
        .tag
        .source()
        .map_or((None, TagOpts::default()), |(s, o)| (Some(s), o));
    // An embedded type that is not a struct (an alias) is a field named after it.
    let go_name = match &m.name {
        Some(n) => n.clone(),
        None => embedded_name(&m.ty),
    };
    let wire = if opts.name.is_empty() || opts.name == "-" {
        go_name.clone()
    } else {
        opts.name.clone()
    };
    let rust_name = ident(&snake(&go_name));
    let ty = rust_type(out, parent, &go_name, &m.ty)?;
    let (base, optional_wrap) = match &m.ty {
        Type::Base(b) => (Some(b.clone()), false),
        Type::Pointer(inner) => match &**inner {
            Type::Base(b) => (Some(b.clone()), true),
            _ => (None, true),
        },
        _ => (None, false),
    };
    Ok(FieldPlan {
        rust_name,
        wire,
        ty,
        base,
        optional_wrap,
        source,
        opts,
    })
}

fn embedded_name(ty: &Type) -> String {
    match ty {
        Type::Named(n) | Type::Base(n) => n.clone(),
        Type::Pointer(t) => embedded_name(t),
        _ => "embedded".into(),
    }
}

/// The Rust type of `ty`; inline structs are queued as `ParentField`.
fn rust_type(out: &mut Out, parent: &str, field: &str, ty: &Type) -> Result<String, GenError> {
    Ok(match ty {
        Type::Base(b) => base_type(b)?.to_string(),
        Type::Named(n) => pascal(n),
        Type::Any => "serde_json::Value".into(),
        Type::Pointer(t) => match &**t {
            Type::Named(_) | Type::Struct(_) => {
                format!("Option<Box<{}>>", rust_type(out, parent, field, t)?)
            }
            other => format!("Option<{}>", rust_type(out, parent, field, other)?),
        },
        Type::Slice(t) | Type::Array(_, t) => format!("Vec<{}>", rust_type(out, parent, field, t)?),
        Type::Map(k, v) => {
            out.uses_map = true;
            format!(
                "BTreeMap<{}, {}>",
                rust_type(out, parent, field, k)?,
                rust_type(out, parent, field, v)?
            )
        }
        Type::Struct(members) => {
            let name = format!("{parent}{}", pascal(field));
            out.pending.push((name.clone(), members.clone()));
            name
        }
    })
}

fn base_type(go: &str) -> Result<&'static str, GenError> {
    Ok(match go {
        "string" | "error" => "String",
        "bool" => "bool",
        "int" | "int64" => "i64",
        "int8" => "i8",
        "int16" => "i16",
        "int32" | "rune" => "i32",
        "uint" | "uint64" | "uintptr" => "u64",
        "uint8" | "byte" => "u8",
        "uint16" => "u16",
        "uint32" => "u32",
        "float64" => "f64",
        "float32" => "f32",
        other => {
            return Err(GenError(format!(
                "Go type `{other}` has no JSON form and is not supported; use float64 or string"
            )));
        }
    })
}

fn is_number(go: &str) -> bool {
    !matches!(go, "string" | "error" | "bool")
}

fn default_value(p: &FieldPlan, default: &str, parent: &str) -> Result<String, GenError> {
    let bad = || {
        GenError(format!(
            "`default={default}` on {parent}.{} does not fit its type {}",
            p.wire, p.ty
        ))
    };
    let base = p.base.as_deref().ok_or_else(bad)?;
    let lit = match base {
        "string" | "error" => format!("{}.to_owned()", rust_str(default)),
        "bool" => default.parse::<bool>().map_err(|_| bad())?.to_string(),
        "float32" | "float64" => {
            let v: f64 = default.parse().map_err(|_| bad())?;
            format!("{v:?}")
        }
        _ => {
            let v: i128 = default.parse().map_err(|_| bad())?;
            if base.starts_with('u') && v < 0 {
                return Err(bad());
            }
            v.to_string()
        }
    };
    Ok(if p.optional_wrap {
        format!("Some({lit})")
    } else {
        lit
    })
}

/// `impl Parse`'s parts: the path/form/header field lists and the `options=`/`range=`
/// checks.
fn parse_parts(t: &mut TypeCtx, plans: &[FieldPlan]) {
    let list = |s: Source| -> Vec<String> {
        plans
            .iter()
            .filter(|p| p.source == Some(s) && p.opts.name != "-")
            .map(|p| p.wire.clone())
            .collect()
    };
    t.path = list(Source::Path);
    t.form = list(Source::Form);
    t.header = list(Source::Header);
    for p in plans {
        let Some(base) = p.base.as_deref() else {
            continue;
        };
        let mut kinds = Vec::new();
        if let Some(range) = &p.opts.range
            && is_number(base)
        {
            kinds.push(CheckKind {
                range: Some(range.clone()),
                options: Vec::new(),
            });
        }
        if !p.opts.options.is_empty() {
            kinds.push(CheckKind {
                range: None,
                options: p.opts.options.clone(),
            });
        }
        if kinds.is_empty() {
            continue;
        }
        // `place` reads the value as a number, `text` borrows it as text.
        let (place, text) = match (p.optional_wrap, base == "string") {
            (true, true) => ("*v".to_owned(), "v".to_owned()),
            (true, false) => ("*v".to_owned(), "&v.to_string()".to_owned()),
            (false, true) => (
                format!("self.{}", p.rust_name),
                format!("&self.{}", p.rust_name),
            ),
            (false, false) => (
                format!("self.{}", p.rust_name),
                format!("&self.{}.to_string()", p.rust_name),
            ),
        };
        t.checks.push(CheckCtx {
            wire: p.wire.clone(),
            field: p.rust_name.clone(),
            optional: p.optional_wrap,
            place,
            cast: if base == "float64" { "" } else { " as f64" },
            text,
            kinds,
        });
    }
}
