//! goctl's checks on loaded files (`SelfCheck` in
//! `tools/goctl/pkg/parser/api/parser/api.go` and the analyzer in `analyzer.go`), and
//! the resolved [`Spec`] they produce.

use std::collections::{HashMap, HashSet};

use super::ast::{self, BASE_TYPES, DataType, Stmt};
use super::load::{ApiError, Loaded, Parsed};
use super::parser::{ParseError, Warning};
use super::spec::{BodyRef, Group, Member, Route, Service, Spec, Tag, Type, TypeDef};
use super::tag::parse_tag;

struct Checker<'a> {
    errors: Vec<ParseError>,
    warnings: Vec<Warning>,
    file: &'a str,
    /// The field being converted: errors on type expressions without a position of
    /// their own point at it.
    field_pos: Option<ast::Pos>,
}

impl<'a> Checker<'a> {
    fn new(file: &'a str) -> Self {
        Checker {
            errors: Vec::new(),
            warnings: Vec::new(),
            file,
            field_pos: None,
        }
    }

    fn warn(&mut self, pos: ast::Pos, message: String) {
        self.warnings.push(Warning {
            file: self.file.to_string(),
            pos,
            message,
        });
    }

    fn err(&mut self, pos: ast::Pos, message: String) {
        let pos = match (pos, self.field_pos) {
            (ast::Pos { line: 0, .. }, Some(field)) => field,
            _ => pos,
        };
        self.errors.push(ParseError {
            file: self.file.to_string(),
            pos,
            message,
        });
    }
}

/// Checks the loaded files (the first is the one asked for) and resolves them.
pub(super) fn resolve(files: &[Parsed]) -> Result<Loaded, ApiError> {
    let mut errors = Vec::new();
    let mut warnings: Vec<Warning> = files
        .iter()
        .flat_map(|f| f.file.warnings.iter().cloned())
        .collect();
    let mut spec = Spec::default();
    let mut declared: HashMap<String, String> = HashMap::new();
    let mut decls = Vec::new();
    let mut services = Vec::new();
    for (index, parsed) in files.iter().enumerate() {
        let mut c = Checker::new(&parsed.name);
        let mut syntax_seen = false;
        let mut info_seen = false;
        for stmt in &parsed.file.stmts {
            match stmt {
                Stmt::Syntax(s) => {
                    if syntax_seen {
                        c.err(s.pos, "duplicate syntax statement".into());
                    }
                    syntax_seen = true;
                    if s.version != "v1" {
                        c.err(
                            s.pos,
                            format!("syntax \"{}\" is not supported; use \"v1\"", s.version),
                        );
                    }
                }
                Stmt::Info(b) => {
                    if info_seen {
                        c.err(b.pos, "duplicate info statement".into());
                    }
                    info_seen = true;
                    let mut keys = HashSet::new();
                    for kv in &b.pairs {
                        if !keys.insert(kv.key.clone()) {
                            c.err(kv.pos, format!("duplicate info key `{}`", kv.key));
                        }
                        if index == 0 {
                            spec.info
                                .push((kv.key.clone(), kv.value.text().to_string()));
                        }
                    }
                }
                Stmt::Import(_) => {}
                Stmt::Type(t) => {
                    for d in &t.decls {
                        let here = format!("{}:{}", parsed.name, d.pos);
                        if let Some(first) = declared.get(&d.name) {
                            c.err(
                                d.pos,
                                format!("duplicate type `{}`: first declared at {first}", d.name),
                            );
                        } else {
                            declared.insert(d.name.clone(), here);
                        }
                        let mut docs = t.comments.leading.clone();
                        docs.extend(d.comments.leading.iter().cloned());
                        decls.push((parsed.name.clone(), d.clone(), docs));
                    }
                }
                Stmt::Service(s) => services.push((parsed.name.clone(), s.clone())),
            }
        }
        errors.extend(c.errors);
    }
    for (file, d, docs) in &decls {
        let mut c = Checker::new(file);
        let ty = convert(&mut c, &declared, &d.ty);
        errors.extend(c.errors);
        warnings.extend(c.warnings);
        spec.types.push(TypeDef {
            name: d.name.clone(),
            ty,
            docs: docs.clone(),
        });
    }
    spec.service = services_of(&mut errors, &declared, &services);
    if errors.is_empty() {
        Ok(Loaded { spec, warnings })
    } else {
        Err(ApiError { errors })
    }
}

/// goctl's analyzer rules for a declared type (`astTypeToSpec`): no `any` (use
/// `interface{}`), map keys of a named or base type, no inline structs inside maps,
/// arrays or slices, no `[...]T`.
fn convert(c: &mut Checker<'_>, declared: &HashMap<String, String>, ty: &DataType) -> Type {
    convert_at(c, declared, ty)
}

fn contains_struct(ty: &DataType) -> bool {
    match ty {
        DataType::Struct(_) => true,
        DataType::Pointer(t) | DataType::Slice(t) | DataType::Array(_, t) => contains_struct(t),
        DataType::Map(k, v) => contains_struct(k) || contains_struct(v),
        DataType::Name(..) | DataType::Any | DataType::Interface => false,
    }
}

fn convert_at(c: &mut Checker<'_>, declared: &HashMap<String, String>, ty: &DataType) -> Type {
    let pos = type_pos(ty);
    match ty {
        DataType::Name(n, pos) => {
            if BASE_TYPES.contains(&n.as_str()) {
                Type::Base(n.clone())
            } else if declared.contains_key(n) {
                Type::Named(n.clone())
            } else {
                c.err(
                    *pos,
                    format!("unresolved type `{n}`: declare it with `type {n} {{ ... }}`"),
                );
                Type::Any
            }
        }
        DataType::Any => {
            c.err(pos, "unsupported any type: write `interface{}`".into());
            Type::Any
        }
        DataType::Interface => Type::Any,
        DataType::Pointer(t) => Type::Pointer(Box::new(convert_at(c, declared, t))),
        DataType::Slice(t) => {
            if contains_struct(t) {
                c.err(
                    pos,
                    "slice elements cannot be an inline struct: declare a named type".into(),
                );
            }
            Type::Slice(Box::new(convert_at(c, declared, t)))
        }
        DataType::Array(n, t) => {
            if n == "..." {
                c.err(
                    pos,
                    "array length `...` is not supported: give the length".into(),
                );
            }
            if contains_struct(t) {
                c.err(
                    pos,
                    "array elements cannot be an inline struct: declare a named type".into(),
                );
            }
            Type::Array(n.clone(), Box::new(convert_at(c, declared, t)))
        }
        DataType::Map(k, v) => {
            if !matches!(**k, DataType::Name(..)) {
                c.err(
                    pos,
                    "a map key must be a base or named type (`map[string]T`)".into(),
                );
            }
            if contains_struct(v) {
                c.err(
                    pos,
                    "map values cannot be an inline struct: declare a named type".into(),
                );
            }
            Type::Map(
                Box::new(convert_at(c, declared, k)),
                Box::new(convert_at(c, declared, v)),
            )
        }
        DataType::Struct(st) => Type::Struct(members(c, declared, st)),
    }
}

/// Where a type expression is, as near as the tree knows (named types know exactly).
fn type_pos(ty: &DataType) -> ast::Pos {
    match ty {
        DataType::Name(_, pos) => *pos,
        DataType::Pointer(t) | DataType::Slice(t) | DataType::Array(_, t) => type_pos(t),
        DataType::Map(k, _) => type_pos(k),
        DataType::Struct(st) => st.fields.first().map_or_else(ast::Pos::default, |f| f.pos),
        DataType::Any | DataType::Interface => ast::Pos::default(),
    }
}

fn members(
    c: &mut Checker<'_>,
    declared: &HashMap<String, String>,
    st: &ast::StructType,
) -> Vec<Member> {
    let mut out = Vec::new();
    for f in &st.fields {
        c.field_pos = Some(f.pos);
        let ty = convert_at(c, declared, &f.ty);
        // goctl keeps any tag; go-zero reads what it can of it (see `api::tag`).
        let tag = f.tag.as_deref().map_or_else(Tag::default, |raw| {
            let (tag, problem) = parse_tag(raw);
            if let Some(p) = problem {
                c.warn(f.pos, p);
            }
            tag
        });
        let mut docs = f.comments.leading.clone();
        docs.extend(f.comments.trailing.clone());
        let names: Vec<Option<String>> = if f.names.is_empty() {
            vec![None]
        } else {
            f.names.iter().cloned().map(Some).collect()
        };
        for name in names {
            out.push(Member {
                name,
                ty: ty.clone(),
                tag: tag.clone(),
                docs: docs.clone(),
            });
        }
    }
    c.field_pos = None;
    out
}

fn services_of(
    errors: &mut Vec<ParseError>,
    declared: &HashMap<String, String>,
    services: &[(String, ast::ServiceStmt)],
) -> Service {
    let mut out = Service::default();
    let mut handlers: HashMap<(String, String), ()> = HashMap::new();
    let mut paths: HashSet<String> = HashSet::new();
    for (file, s) in services {
        let mut c = Checker::new(file);
        if out.name.is_empty() {
            out.name = s.name.clone();
        } else if out.name.trim_end_matches("-api") != s.name.trim_end_matches("-api") {
            c.err(
                s.pos,
                format!(
                    "multiple service names: `{}` and `{}`; an API holds one service",
                    out.name, s.name
                ),
            );
        }
        let mut group = Group {
            annotations: s.server.as_ref().map_or_else(Vec::new, |b| {
                b.pairs
                    .iter()
                    .map(|kv| (kv.key.clone(), kv.value.text().to_string()))
                    .collect()
            }),
            routes: Vec::new(),
        };
        check_annotations(&mut c, s.server.as_ref(), &group);
        let (prefix, gname) = (group.prefix(), group.group().unwrap_or("").to_string());
        for r in &s.routes {
            if handlers
                .insert((gname.clone(), r.handler.to_lowercase()), ())
                .is_some()
            {
                c.err(
                    r.handler_pos,
                    format!("duplicate handler `{}` in group `{gname}`", r.handler),
                );
            }
            let key = format!("[{prefix}]:{} {}", r.method, r.path);
            if !paths.insert(key) {
                c.err(
                    r.path_pos,
                    format!(
                        "duplicate route {} {prefix}{}",
                        r.method.to_uppercase(),
                        r.path
                    ),
                );
            }
            let body = |c: &mut Checker<'_>, b: &Option<ast::Body>, request: bool| {
                let b = b.as_ref().filter(|b| !b.name.is_empty())?;
                let base = BASE_TYPES.contains(&b.name.as_str());
                if !declared.contains_key(&b.name) && !base {
                    c.err(
                        b.pos,
                        format!(
                            "unresolved type `{}`: declare it with `type {} {{ ... }}`",
                            b.name, b.name
                        ),
                    );
                }
                if request && b.slice {
                    c.err(
                        b.pos,
                        format!("request body must be struct, found `{}`", b.render()),
                    );
                }
                Some(BodyRef {
                    name: b.name.clone(),
                    slice: b.slice,
                    pointer: b.pointer,
                })
            };
            let request = body(&mut c, &r.request, true);
            let response = body(&mut c, &r.response, false);
            let doc = match &r.doc {
                Some(ast::Doc::Literal(s)) => vec![("summary".to_string(), s.clone())],
                Some(ast::Doc::Group(b)) => b
                    .pairs
                    .iter()
                    .map(|kv| (kv.key.clone(), kv.value.text().to_string()))
                    .collect(),
                None => Vec::new(),
            };
            group.routes.push(Route {
                handler: r.handler.clone(),
                method: r.method.clone(),
                path: r.path.clone(),
                request,
                response,
                doc,
                comments: r.comments.leading.clone(),
            });
        }
        errors.extend(c.errors);
        out.groups.push(group);
    }
    out
}

fn check_annotations(c: &mut Checker<'_>, block: Option<&ast::KvBlock>, group: &Group) {
    let Some(block) = block else { return };
    for kv in &block.pairs {
        let v = kv.value.text();
        match kv.key.as_str() {
            "timeout" if group.timeout().is_none() => {
                c.err(
                    kv.pos,
                    format!("timeout `{v}` is not a duration; write e.g. 3s or 500ms"),
                );
            }
            "maxBytes" if group.max_bytes().is_none() => {
                c.err(
                    kv.pos,
                    format!("maxBytes `{v}` is not a byte count; write e.g. 1048576"),
                );
            }
            // goctl turns SSE on for `true` only; any other word is a typo to point at,
            // not a silent plain route.
            "sse" if v != "true" && v != "false" => {
                c.err(
                    kv.pos,
                    format!("sse `{v}` is not a boolean; write sse: true (or leave it out)"),
                );
            }
            _ => {}
        }
    }
}
