//! From a resolved `.api` to the files of its service: the contexts the templates under
//! `templates/api/` and `templates/service/` render, and who owns each file.

use std::collections::BTreeMap;

use serde::Serialize;

use super::GenError;
use crate::api::spec::{BodyRef, Group, Route, Spec};
use crate::cargo::{RzeroSource, versions_map};
use crate::files::{Existing, GenFile};
use crate::render::{render, render_rust, shouty, snake, snake_ident};

/// A route with everything its files need.
struct Plan<'a> {
    group: &'a Group,
    route: &'a Route,
    /// The module the group's handlers and logic live in (`None`: the top).
    module: Option<String>,
    func: String,
}

impl Plan<'_> {
    fn file_stem(&self) -> &str {
        self.func.trim_start_matches("r#")
    }

    fn logic_path(&self) -> String {
        match &self.module {
            Some(m) => format!(
                "src/logic/{}/{}.rs",
                m.trim_start_matches("r#"),
                self.file_stem()
            ),
            None => format!("src/logic/{}.rs", self.file_stem()),
        }
    }

    fn full_path(&self) -> String {
        let p = format!("{}{}", self.group.prefix(), self.route.path);
        if p.len() > 1 {
            p.trim_end_matches('/').to_owned()
        } else {
            p
        }
    }

    fn title(&self) -> String {
        format!(
            "`{} {}` ({})",
            self.route.method.to_uppercase(),
            self.full_path(),
            self.route.handler
        )
    }

    fn qualified(&self, root: &str) -> String {
        match &self.module {
            Some(m) => format!("{root}::{m}::{}", self.func),
            None => format!("{root}::{}", self.func),
        }
    }
}

#[derive(Serialize)]
struct HandlerCtx {
    title: String,
    func: String,
    extractor: &'static str,
    request: Option<String>,
    response: Option<String>,
    logic_path: String,
    /// `@server(sse: true)`: answers a stream of events, `response` is one event.
    sse: bool,
}

#[derive(Serialize)]
struct RouteCtx {
    method: String,
    path: String,
    handler_path: String,
}

#[derive(Serialize)]
struct GroupCtx {
    prefix: String,
    jwt: Option<String>,
    timeout_ms: Option<u128>,
    max_bytes: Option<u64>,
    sse: bool,
    middlewares: Vec<String>,
    routes: Vec<RouteCtx>,
}

#[derive(Serialize)]
struct JwtCtx {
    key: String,
    env: String,
}

fn body_type(b: &BodyRef) -> String {
    let base = match b.name.as_str() {
        n if crate::api::ast::BASE_TYPES.contains(&n) => match n {
            "string" => "String".to_owned(),
            "bool" => "bool".to_owned(),
            "float32" => "f32".to_owned(),
            "float64" => "f64".to_owned(),
            "any" => "serde_json::Value".to_owned(),
            _ => "i64".to_owned(),
        },
        n => format!("crate::types::{}", crate::render::pascal(n)),
    };
    if b.slice {
        format!("Vec<{base}>")
    } else {
        base
    }
}

fn sorted_unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = items.map(str::to_owned).collect();
    v.sort();
    v.dedup();
    v
}

/// Every file of the service for `spec`, rendered; `api_file` is how the `.api` is named
/// in the docs.
pub(super) fn files(
    spec: &Spec,
    rzero: &RzeroSource,
    api_file: &str,
    existing: Existing,
) -> Result<Vec<GenFile>, GenError> {
    let err = GenError;
    let name = spec.service.name.clone();
    let plans: Vec<Plan<'_>> = spec
        .service
        .routes()
        .map(|(group, route)| Plan {
            group,
            route,
            module: group.group().map(snake_ident),
            func: snake_ident(&route.handler),
        })
        .collect();
    let jwt_keys = sorted_unique(spec.service.groups.iter().filter_map(|g| g.jwt()));
    let middlewares = sorted_unique(spec.service.groups.iter().flat_map(|g| g.middlewares()));
    let lib = snake(&name);
    let stem = name.clone();
    let base = serde_json::json!({
        "name": name,
        "crate_name": name,
        "bin": name,
        "lib": lib,
        "stem": stem,
        "api_file": api_file,
        "section": "rest",
        "conf_type": "RestConf",
        "conf_keys": "`Name`, `Host`, `Port`, `Timeout`, `OpenTelemetry`, `Log`, `Middlewares`, ...",
        "sharer": "handler",
        "call": "request (handlers get it as `State`)",
        "env": shouty(&name),
        "v": versions_map(),
        "rzero_dependency": rzero.dependency(&["rest"]),
        "middlewares": !middlewares.is_empty(),
        "existing": existing,
    });
    let with = |extra: serde_json::Value| {
        let mut ctx = base.clone();
        if let (Some(o), serde_json::Value::Object(e)) = (ctx.as_object_mut(), extra) {
            o.extend(e);
        }
        ctx
    };

    let mut out = Vec::new();
    out.push(GenFile::user(
        "Cargo.toml",
        render("api/Cargo.toml.tpl", &base).map_err(err)?,
    ));
    let jwt: Vec<JwtCtx> = jwt_keys
        .iter()
        .map(|k| JwtCtx {
            key: k.clone(),
            env: format!("{}_SECRET", shouty(k)),
        })
        .collect();
    out.push(GenFile::user(
        format!("etc/{stem}.yaml"),
        render("api/etc.yaml.tpl", with(serde_json::json!({ "jwt": jwt }))).map_err(err)?,
    ));
    let fields: Vec<_> = jwt_keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "doc": format!("`{k}`: the JWT settings of `@server(jwt: {k})` groups."),
                "key": k,
                "name": snake_ident(k),
                "ty": "JwtConf",
            })
        })
        .collect();
    let mut uses = vec!["rzero::rest::RestConf"];
    if !jwt_keys.is_empty() {
        uses.insert(0, "rzero::rest::jwt::JwtConf");
    }
    out.push(GenFile::user(
        "src/config.rs",
        render_rust(
            "service/config.rs.tpl",
            with(serde_json::json!({ "uses": uses, "fields": fields })),
        )
        .map_err(err)?,
    ));
    out.push(GenFile::user(
        "src/svc.rs",
        render_rust("service/svc.rs.tpl", &base).map_err(err)?,
    ));
    out.push(GenFile::generated(
        "src/main.rs",
        &render_rust("service/main.rs.tpl", &base).map_err(err)?,
    ));
    out.push(GenFile::generated(
        "src/lib.rs",
        &render_rust("api/lib.rs.tpl", &base).map_err(err)?,
    ));
    let types = super::types::context(spec)?;
    out.push(GenFile::generated(
        "src/types.rs",
        &render_rust("api/types.rs.tpl", &types).map_err(err)?,
    ));
    out.push(GenFile::generated(
        "src/routes.rs",
        &render_rust("api/routes.rs.tpl", routes_ctx(spec, &plans)).map_err(err)?,
    ));
    if !middlewares.is_empty() {
        let list: Vec<_> = middlewares
            .iter()
            .map(|m| serde_json::json!({ "module": snake_ident(m) }))
            .collect();
        out.push(GenFile::generated(
            "src/middleware/mod.rs",
            &render_rust(
                "api/middleware_mod.rs.tpl",
                serde_json::json!({ "middlewares": list }),
            )
            .map_err(err)?,
        ));
        for m in &middlewares {
            let func = snake_ident(m);
            out.push(GenFile::user(
                format!("src/middleware/{}.rs", func.trim_start_matches("r#")),
                render_rust(
                    "api/middleware.rs.tpl",
                    serde_json::json!({ "name": m, "func": func }),
                )
                .map_err(err)?,
            ));
        }
    }
    handlers_and_logic(&plans, &mut out)?;
    Ok(out)
}

fn routes_ctx(spec: &Spec, plans: &[Plan<'_>]) -> serde_json::Value {
    let mut groups = Vec::new();
    for g in &spec.service.groups {
        let routes = plans
            .iter()
            .filter(|p| std::ptr::eq(p.group, g))
            .map(|p| RouteCtx {
                method: p.route.method.to_lowercase(),
                path: p.route.path.clone(),
                handler_path: p
                    .qualified("handler")
                    .trim_start_matches("handler::")
                    .to_owned(),
            })
            .collect();
        groups.push(GroupCtx {
            prefix: g.prefix(),
            jwt: g.jwt().map(snake_ident),
            timeout_ms: g.timeout().map(|t| t.as_millis()),
            max_bytes: g.max_bytes(),
            sse: g.sse(),
            middlewares: g.middlewares().into_iter().map(snake_ident).collect(),
            routes,
        });
    }
    let notes: Vec<String> = spec
        .service
        .groups
        .iter()
        .filter(|g| g.signature())
        .map(|g| {
            format!(
                "Note: `@server(signature: true)` on group `{}` is not supported by rzero and is ignored.",
                g.group().unwrap_or("")
            )
        })
        .collect();
    serde_json::json!({
        "groups": groups,
        "notes": notes,
        "uses_duration": spec.service.groups.iter().any(|g| g.timeout().is_some()),
    })
}

fn handlers_and_logic(plans: &[Plan<'_>], out: &mut Vec<GenFile>) -> Result<(), GenError> {
    let err = GenError;
    // module -> (handlers, logic functions)
    let mut modules: BTreeMap<Option<String>, (Vec<HandlerCtx>, Vec<serde_json::Value>)> =
        BTreeMap::new();
    for p in plans {
        let entry = modules.entry(p.module.clone()).or_default();
        let (extractor, request) = match p.route.request.as_ref() {
            Some(b) if b.name.is_empty() => ("Parsed", None),
            Some(b) if crate::api::ast::BASE_TYPES.contains(&b.name.as_str()) => {
                ("Json", Some(body_type(b)))
            }
            Some(b) => ("Parsed", Some(body_type(b))),
            None => ("Parsed", None),
        };
        let sse = p.group.sse();
        let response = p
            .route
            .response
            .as_ref()
            .filter(|b| !b.name.is_empty())
            .map(body_type)
            // An SSE route without a response type sends any JSON.
            .or_else(|| sse.then(|| "serde_json::Value".to_owned()));
        entry.0.push(HandlerCtx {
            title: p.title(),
            func: p.func.clone(),
            extractor,
            request: request.clone(),
            response: response.clone(),
            logic_path: p.qualified("crate::logic"),
            sse,
        });
        entry
            .1
            .push(serde_json::json!({ "file": p.file_stem(), "func": p.func }));
        let todo = format!(
            "{} has no logic yet: fill in {}",
            p.route.handler,
            p.logic_path()
        );
        out.push(GenFile::user(
            p.logic_path(),
            render_rust(
                if sse {
                    "api/sse_logic.rs.tpl"
                } else {
                    "api/logic.rs.tpl"
                },
                serde_json::json!({
                    "title": p.title(),
                    "summary": p.route.summary(),
                    "func": p.func,
                    "request": request,
                    "response": response,
                    "todo": todo,
                }),
            )
            .map_err(err)?,
        ));
    }
    let imports = |handlers: &[HandlerCtx]| {
        let mut v = Vec::new();
        if handlers.iter().any(|h| !h.sse) {
            v.push("Error");
        }
        if handlers.iter().any(|h| {
            (h.response.is_some() && !h.sse) || (h.request.is_some() && h.extractor == "Json")
        }) {
            v.push("Json");
        }
        if handlers
            .iter()
            .any(|h| h.request.is_some() && h.extractor == "Parsed")
        {
            v.push("Parsed");
        }
        v.push("State");
        v
    };
    let named: Vec<String> = modules.keys().flatten().cloned().collect();
    let root = modules.get(&None);
    out.push(GenFile::generated(
        "src/handler/mod.rs",
        &render_rust(
            "api/handler_mod.rs.tpl",
            serde_json::json!({
                "modules": named,
                "root": root.is_some(),
                "handlers": root.map(|r| &r.0),
                "imports": root.map(|r| imports(&r.0)).unwrap_or_default(),
            }),
        )
        .map_err(err)?,
    ));
    out.push(GenFile::generated(
        "src/logic/mod.rs",
        &render_rust(
            "api/logic_mod.rs.tpl",
            serde_json::json!({
                "doc": "The routes' logic: one file per route, yours to fill.",
                "modules": named,
                "functions": root.map(|r| r.1.clone()).unwrap_or_default(),
            }),
        )
        .map_err(err)?,
    ));
    for (module, (handlers, logic)) in &modules {
        let Some(m) = module else { continue };
        let bare = m.trim_start_matches("r#");
        out.push(GenFile::generated(
            format!("src/handler/{bare}.rs"),
            &render_rust(
                "api/handler_group.rs.tpl",
                serde_json::json!({ "group": bare, "handlers": handlers, "imports": imports(handlers) }),
            )
            .map_err(err)?,
        ));
        out.push(GenFile::generated(
            format!("src/logic/{bare}/mod.rs"),
            &render_rust(
                "api/logic_mod.rs.tpl",
                serde_json::json!({
                    "doc": format!("Logic of the group `{bare}`."),
                    "modules": Vec::<String>::new(),
                    "functions": logic,
                }),
            )
            .map_err(err)?,
        ));
    }
    Ok(())
}
