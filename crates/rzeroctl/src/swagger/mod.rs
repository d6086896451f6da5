//! `rzeroctl api swagger`: an OpenAPI 3.0.3 document from a `.api` (goctl's
//! `api swagger`, which writes Swagger 2.0; OpenAPI 3 is what tools read today).
//!
//! One operation per route: path = group prefix + route path with `:id` as `{id}`,
//! `operationId` the handler, `@doc` as summary/description, the group as tag.
//! Request fields go where go-zero's `httpx.Parse` reads them ([`schema`]): `path`
//! tags are path parameters, `header` tags headers, `form` tags the query string for
//! GET/HEAD/DELETE and a form body otherwise, `json` tags (and untagged fields) the
//! JSON body. Every declared type is a component schema. `jwt` groups get a bearer
//! security scheme. Keys are emitted in a fixed order, so the output is reproducible.

mod schema;
mod yaml;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::api::spec::{BodyRef, Group, Route, Source, Spec};

/// `rzeroctl api swagger` options.
#[derive(Debug, clap::Args)]
pub struct SwaggerArgs {
    /// The `.api` file.
    #[arg(long, value_name = "FILE")]
    pub api: PathBuf,
    /// Where to write the document.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The file's name (default: the `.api` file's); `.json` or `.yaml` is added.
    #[arg(long, value_name = "NAME")]
    pub filename: Option<String>,
    /// Write YAML instead of JSON.
    #[arg(long)]
    pub yaml: bool,
}

/// Runs `rzeroctl api swagger`.
pub fn run(args: &SwaggerArgs) -> Result<(), crate::CmdError> {
    let spec = crate::api::load(&args.api)?;
    let doc = document(&spec);
    let ext = if args.yaml { "yaml" } else { "json" };
    let stem = match &args.filename {
        Some(f) => f.trim_end_matches(&format!(".{ext}")).to_string(),
        None => args
            .api
            .file_stem()
            .map_or_else(|| "api".to_string(), |s| s.to_string_lossy().into_owned()),
    };
    let text = if args.yaml {
        yaml::to_string(&doc)
    } else {
        serde_json::to_string_pretty(&doc)? + "\n"
    };
    std::fs::create_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    let path = args.dir.join(format!("{stem}.{ext}"));
    write_if_changed(&path, &text)?;
    println!("{}", path.display());
    Ok(())
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), crate::CmdError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// The OpenAPI 3.0.3 document of `spec`.
pub fn document(spec: &Spec) -> Value {
    let mut paths = Map::new();
    let mut schemes = Map::new();
    let mut tags = BTreeSet::new();
    let mut op_ids = BTreeSet::new();
    for (group, route) in spec.service.routes() {
        let path = openapi_path(&format!("{}{}", group.prefix(), route.path));
        let mut op = operation(spec, group, route);
        let id = unique_id(&mut op_ids, group, &route.handler);
        op.insert("operationId".into(), id.into());
        if let Some(g) = group.group() {
            tags.insert(g.to_string());
        }
        if let Some(jwt) = group.jwt() {
            schemes.insert(
                jwt.to_string(),
                json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}),
            );
        }
        let item = paths.entry(path).or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(route.method.to_lowercase(), Value::Object(op));
        }
    }
    let mut components = Map::new();
    let mut schemas = Map::new();
    for t in &spec.types {
        let mut s = schema::of(spec, &t.ty);
        let docs = schema::description(&t.docs);
        if let Value::Object(m) = &mut s
            && !docs.is_empty()
            && !m.contains_key("$ref")
        {
            m.insert("description".into(), docs.into());
        }
        schemas.insert(t.name.clone(), s);
    }
    components.insert("schemas".into(), Value::Object(schemas));
    if !schemes.is_empty() {
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }
    let mut doc = Map::new();
    doc.insert("openapi".into(), "3.0.3".into());
    doc.insert("info".into(), info(spec));
    let servers = servers(spec);
    if !servers.is_empty() {
        doc.insert("servers".into(), Value::Array(servers));
    }
    if !tags.is_empty() {
        let tags = tags.into_iter().map(|t| json!({ "name": t })).collect();
        doc.insert("tags".into(), Value::Array(tags));
    }
    doc.insert("paths".into(), Value::Object(paths));
    doc.insert("components".into(), Value::Object(components));
    Value::Object(doc)
}

fn info(spec: &Spec) -> Value {
    let mut info = Map::new();
    let title = spec.info("title").filter(|t| !t.is_empty());
    let fallback = if spec.service.name.is_empty() {
        "API"
    } else {
        &spec.service.name
    };
    info.insert("title".into(), title.unwrap_or(fallback).into());
    if let Some(d) = spec.info("desc").or_else(|| spec.info("description")) {
        info.insert("description".into(), d.into());
    }
    let version = spec
        .info("version")
        .filter(|v| !v.is_empty())
        .unwrap_or("1.0.0");
    info.insert("version".into(), version.into());
    let mut contact = Map::new();
    if let Some(a) = spec.info("author") {
        contact.insert("name".into(), a.into());
    }
    if let Some(e) = spec.info("email").filter(|e| e.contains('@')) {
        contact.insert("email".into(), e.into());
    }
    if !contact.is_empty() {
        info.insert("contact".into(), Value::Object(contact));
    }
    Value::Object(info)
}

/// goctl's `host`, `basePath` and `schemes` info keys as OpenAPI servers.
fn servers(spec: &Spec) -> Vec<Value> {
    let host = spec.info("host").filter(|h| !h.is_empty());
    let base = spec.info("basePath").unwrap_or("");
    let Some(host) = host else {
        return if base.is_empty() {
            Vec::new()
        } else {
            vec![json!({ "url": base })]
        };
    };
    let schemes = spec.info("schemes").unwrap_or("http");
    schemes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| json!({ "url": format!("{s}://{host}{base}") }))
        .collect()
}

/// `/a/:id` as `/a/{id}`.
fn openapi_path(path: &str) -> String {
    let p: Vec<String> = path
        .split('/')
        .map(|s| {
            s.strip_prefix(':')
                .map_or_else(|| s.to_string(), |n| format!("{{{n}}}"))
        })
        .collect();
    let p = p.join("/");
    if p.is_empty() { "/".into() } else { p }
}

/// The handler's name, or `group_handler` when another group took it.
fn unique_id(seen: &mut BTreeSet<String>, group: &Group, handler: &str) -> String {
    let mut id = handler.to_string();
    if seen.contains(&id) {
        id = format!(
            "{}_{handler}",
            group.group().unwrap_or("").replace('/', "_")
        );
        let base = id.clone();
        let mut n = 2;
        while seen.contains(&id) {
            id = format!("{base}{n}");
            n += 1;
        }
    }
    seen.insert(id.clone());
    id
}

fn body_schema(spec: &Spec, b: &BodyRef) -> Value {
    let one = if spec.find_type(&b.name).is_some() {
        schema::reference(&b.name)
    } else {
        schema::of(spec, &crate::api::spec::Type::Base(b.name.clone()))
    };
    if b.slice {
        json!({"type": "array", "items": one})
    } else {
        one
    }
}

fn operation(spec: &Spec, group: &Group, route: &Route) -> Map<String, Value> {
    let mut op = Map::new();
    if let Some(g) = group.group() {
        op.insert("tags".into(), json!([g]));
    }
    if let Some(s) = route.summary() {
        op.insert("summary".into(), s.into());
    }
    let desc = route
        .doc
        .iter()
        .find(|(k, _)| k == "description")
        .map(|(_, v)| v.as_str());
    if let Some(d) = desc {
        op.insert("description".into(), d.into());
    }
    let (params, body) = request(spec, route);
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = body {
        op.insert("requestBody".into(), body);
    }
    let ok = match route.response.as_ref().filter(|b| !b.name.is_empty()) {
        Some(b) => {
            json!({"description": "OK", "content": {"application/json": {"schema": body_schema(spec, b)}}})
        }
        None => json!({"description": "OK"}),
    };
    op.insert("responses".into(), json!({ "200": ok }));
    if let Some(jwt) = group.jwt() {
        op.insert("security".into(), json!([{ jwt: [] }]));
    }
    op
}

/// The route's parameters and request body, from its request type's tags.
fn request(spec: &Spec, route: &Route) -> (Vec<Value>, Option<Value>) {
    let in_path = route.path_params();
    let query_form = matches!(route.method.as_str(), "get" | "head" | "delete");
    let members = route
        .request
        .as_ref()
        .and_then(|b| spec.find_type(&b.name))
        .and_then(|t| match &t.ty {
            crate::api::spec::Type::Struct(m) => Some(m.as_slice()),
            _ => None,
        })
        .unwrap_or(&[]);
    let fields = schema::fields(spec, members);
    let mut params = Vec::new();
    let mut declared = BTreeSet::new();
    for f in &fields {
        let (place, required) = match f.source {
            Some(Source::Path) if in_path.contains(&f.opts.name.as_str()) => ("path", true),
            Some(Source::Form) if query_form => ("query", f.required()),
            Some(Source::Header) => ("header", f.required()),
            _ => continue,
        };
        if !declared.insert((place, f.opts.name.clone())) {
            continue;
        }
        let mut p = json!({"name": f.opts.name, "in": place, "required": required, "schema": schema::field(spec, f)});
        let docs = schema::description(&f.member.docs);
        if let (Value::Object(m), false) = (&mut p, docs.is_empty()) {
            m.insert("description".into(), docs.into());
        }
        params.push(p);
    }
    // OpenAPI requires every `{param}` of the path to be declared.
    for name in in_path {
        if !declared.contains(&("path", name.to_string())) {
            params.push(
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
    }
    let mut content = Map::new();
    if fields.iter().any(|f| f.is_json()) {
        let only_json = fields.iter().all(|f| f.is_json());
        let schema = match &route.request {
            Some(b) if only_json => body_schema(spec, b),
            _ => schema::object(spec, &fields, None),
        };
        content.insert("application/json".into(), json!({ "schema": schema }));
    }
    if !query_form && fields.iter().any(|f| f.source == Some(Source::Form)) {
        let schema = schema::object(spec, &fields, Some(Source::Form));
        content.insert(
            "application/x-www-form-urlencoded".into(),
            json!({ "schema": schema }),
        );
    }
    let body = (!content.is_empty()).then(|| json!({"required": true, "content": content}));
    (params, body)
}
