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

use std::fmt::Write as _;

use super::GenError;
use super::names::{ident, pascal, snake, string_lit};
use crate::api::spec::{Member, Source, Spec, TagOpts, Type};

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

struct Out {
    code: String,
    /// Members of the declared struct types, for inlining embedded ones.
    members: std::collections::HashMap<String, Vec<Member>>,
    /// Inline structs still to emit: (name, members).
    pending: Vec<(String, Vec<Member>)>,
}

/// The whole `types.rs`.
pub(super) fn emit(spec: &Spec) -> Result<String, GenError> {
    let mut out = Out {
        members: spec
            .types
            .iter()
            .filter_map(|t| match &t.ty {
                Type::Struct(m) => Some((t.name.clone(), m.clone())),
                _ => None,
            })
            .collect(),
        code: String::new(),
        pending: Vec::new(),
    };
    for t in &spec.types {
        let name = pascal(&t.name);
        if RESERVED.contains(&name.as_str()) {
            return Err(GenError(format!(
                "type `{}` would shadow Rust's or rzero's `{name}` in the generated code; rename it in the .api",
                t.name
            )));
        }
        for d in &t.docs {
            let _ = writeln!(out.code, "/// {}", doc_text(d));
        }
        if t.docs.is_empty() {
            let _ = writeln!(out.code, "/// `{}` in the .api.", t.name);
        }
        match &t.ty {
            Type::Struct(members) => emit_struct(&mut out, &name, members)?,
            other => {
                let rust = rust_type(&mut out, &name, "", other)?;
                let _ = writeln!(out.code, "pub type {name} = {rust};\n");
            }
        }
        while let Some((n, m)) = out.pending.pop() {
            let _ = writeln!(out.code, "/// An inline struct of the .api.");
            emit_struct(&mut out, &n, &m)?;
        }
    }
    Ok(out.code)
}

fn doc_text(comment: &str) -> String {
    comment
        .trim_start_matches("//")
        .trim_start_matches("/*")
        .trim_end_matches("*/")
        .trim()
        .replace('\n', " ")
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

fn emit_struct(out: &mut Out, name: &str, members: &[Member]) -> Result<(), GenError> {
    let members = &inline_embedded(out, members, 0);
    let mut plans = Vec::new();
    for m in members {
        plans.push(plan(out, name, m)?);
    }
    let _ = writeln!(
        out.code,
        "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct {name} {{"
    );
    let mut defaults = String::new();
    for (p, m) in plans.iter().zip(members) {
        for d in &m.docs {
            let _ = writeln!(out.code, "    /// {}", doc_text(d));
        }
        if !m.tag.raw.is_empty() {
            let _ = writeln!(out.code, "    /// `{}`", m.tag.raw.replace('`', "'"));
        }
        if p.opts.name == "-" {
            let _ = writeln!(out.code, "    #[serde(skip)]");
        } else {
            let mut attrs = Vec::new();
            if p.wire != p.rust_name.trim_start_matches("r#") {
                attrs.push(format!("rename = {}", string_lit(&p.wire)));
            }
            if let Some(default) = &p.opts.default {
                let f = format!(
                    "default_{}_{}",
                    snake(name),
                    p.rust_name.trim_start_matches("r#")
                );
                let value = default_value(p, default, name)?;
                let _ = writeln!(defaults, "fn {f}() -> {} {{\n    {value}\n}}\n", p.ty);
                attrs.push(format!("default = {}", string_lit(&f)));
            } else if p.opts.optional || p.optional_wrap {
                attrs.push("default".into());
            }
            if p.optional_wrap && p.opts.omitempty {
                attrs.push("skip_serializing_if = \"Option::is_none\"".into());
            }
            if !attrs.is_empty() {
                let _ = writeln!(out.code, "    #[serde({})]", attrs.join(", "));
            }
        }
        let _ = writeln!(out.code, "    pub {}: {},", p.rust_name, p.ty);
    }
    let _ = writeln!(out.code, "}}\n");
    out.code.push_str(&defaults);
    emit_parse(out, name, &plans);
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
        Type::Map(k, v) => format!(
            "BTreeMap<{}, {}>",
            rust_type(out, parent, field, k)?,
            rust_type(out, parent, field, v)?
        ),
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
        "string" | "error" => format!("{}.to_string()", string_lit(default)),
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

/// `impl Parse`: the path/form/header field lists and the `options=`/`range=` checks.
fn emit_parse(out: &mut Out, name: &str, plans: &[FieldPlan]) {
    let list = |s: Source| -> Vec<String> {
        plans
            .iter()
            .filter(|p| p.source == Some(s) && p.opts.name != "-")
            .map(|p| string_lit(&p.wire))
            .collect()
    };
    let _ = writeln!(out.code, "impl Parse for {name} {{");
    for (s, c) in [(Source::Path, "PATH"), (Source::Form, "FORM")] {
        let l = list(s);
        if !l.is_empty() {
            let _ = writeln!(
                out.code,
                "    const {c}: &'static [&'static str] = &[{}];",
                l.join(", ")
            );
        }
    }
    let headers: Vec<String> = list(Source::Header)
        .into_iter()
        .map(|w| format!("({w}, {w})"))
        .collect();
    if !headers.is_empty() {
        let _ = writeln!(
            out.code,
            "    const HEADER: &'static [(&'static str, &'static str)] = &[{}];",
            headers.join(", ")
        );
    }
    let mut checks = String::new();
    for p in plans {
        let Some(base) = p.base.as_deref() else {
            continue;
        };
        let wire = string_lit(&p.wire);
        // `place` reads the value, `reference` borrows it.
        let (place, reference) = if p.optional_wrap {
            ("*v".to_string(), "v".to_string())
        } else {
            (
                format!("self.{}", p.rust_name),
                format!("&self.{}", p.rust_name),
            )
        };
        let mut field = String::new();
        if let Some(range) = &p.opts.range
            && is_number(base)
        {
            let _ = writeln!(
                field,
                "check::range({wire}, {place} as f64, {})?;",
                string_lit(range)
            );
        }
        if !p.opts.options.is_empty() {
            let allowed: Vec<String> = p.opts.options.iter().map(|o| string_lit(o)).collect();
            let text = if base == "string" {
                reference
            } else {
                format!("&{place}.to_string()")
            };
            let _ = writeln!(
                field,
                "check::options({wire}, {text}, &[{}])?;",
                allowed.join(", ")
            );
        }
        if field.is_empty() {
            continue;
        }
        if p.optional_wrap {
            let _ = writeln!(
                checks,
                "if let Some(v) = &self.{} {{\n{field}}}",
                p.rust_name
            );
        } else {
            checks.push_str(&field);
        }
    }
    if !checks.is_empty() {
        let _ = writeln!(
            out.code,
            "fn validate(&self) -> Result<(), FieldError> {{\n{checks}Ok(())\n}}"
        );
    }
    let _ = writeln!(out.code, "}}\n");
}
