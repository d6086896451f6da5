//! The files of a generated service, as unformatted code: the crate, config, service
//! context, start-up, routes, one handler per route and its logic stub.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use super::GenError;
use super::names::{ident, pascal, snake, string_lit};
use crate::api::spec::{BodyRef, Group, Route, Spec};
use crate::cargo::{RzeroSource, toml_string, versions};

/// (path, code, user-owned)
type Files = Vec<(PathBuf, String, bool)>;

/// A route with everything its files need.
struct Plan<'a> {
    group: &'a Group,
    route: &'a Route,
    /// The module the group's handlers and logic live in (`None`: the top).
    module: Option<String>,
    func: String,
}

impl Plan<'_> {
    fn logic_path(&self) -> String {
        match &self.module {
            Some(m) => format!("src/logic/{m}/{}.rs", self.func.trim_start_matches("r#")),
            None => format!("src/logic/{}.rs", self.func.trim_start_matches("r#")),
        }
    }

    fn full_path(&self) -> String {
        let p = format!("{}{}", self.group.prefix(), self.route.path);
        if p.len() > 1 {
            p.trim_end_matches('/').to_string()
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
}

fn body_type(b: &BodyRef) -> String {
    let base = match b.name.as_str() {
        n if crate::api::ast::BASE_TYPES.contains(&n) => match n {
            "string" => "String".to_string(),
            "bool" => "bool".to_string(),
            "float32" => "f32".to_string(),
            "float64" => "f64".to_string(),
            "any" => "serde_json::Value".to_string(),
            _ => "i64".to_string(),
        },
        n => format!("crate::types::{}", pascal(n)),
    };
    if b.slice {
        format!("Vec<{base}>")
    } else {
        base
    }
}

pub(super) fn files(spec: &Spec, rzero: &RzeroSource) -> Result<Files, GenError> {
    let name = spec.service.name.clone();
    let mut plans = Vec::new();
    for (group, route) in spec.service.routes() {
        plans.push(Plan {
            group,
            route,
            module: group.group().map(|g| ident(&snake(g))),
            func: ident(&snake(&route.handler)),
        });
    }
    let jwt_keys: Vec<String> = {
        let mut k: Vec<String> = spec
            .service
            .groups
            .iter()
            .filter_map(|g| g.jwt())
            .map(String::from)
            .collect();
        k.sort();
        k.dedup();
        k
    };
    let middlewares: Vec<String> = {
        let mut m: Vec<String> = spec
            .service
            .groups
            .iter()
            .flat_map(|g| g.middlewares())
            .map(String::from)
            .collect();
        m.sort();
        m.dedup();
        m
    };
    let mut out: Files = vec![
        (PathBuf::from("Cargo.toml"), cargo_toml(&name, rzero), true),
        (
            PathBuf::from(format!("etc/{name}.yaml")),
            yaml(&name, &jwt_keys),
            true,
        ),
        (PathBuf::from("src/config.rs"), config_rs(&jwt_keys), true),
        (PathBuf::from("src/svc.rs"), SVC_RS.to_string(), true),
        (
            PathBuf::from("src/main.rs"),
            main_rs(&name, !middlewares.is_empty()),
            false,
        ),
        (
            PathBuf::from("src/types.rs"),
            format!("{TYPES_PRELUDE}{}", super::types::emit(spec)?),
            false,
        ),
        (
            PathBuf::from("src/routes.rs"),
            routes_rs(spec, &plans),
            false,
        ),
    ];
    if !middlewares.is_empty() {
        let mut list =
            String::from("//! The `@server(middleware: ...)` functions, one module each.\n");
        for m in &middlewares {
            let f = ident(&snake(m));
            let _ = writeln!(list, "pub mod {f};");
            out.push((
                PathBuf::from(format!("src/middleware/{}.rs", f.trim_start_matches("r#"))),
                middleware_rs(m, &f),
                true,
            ));
        }
        out.push((PathBuf::from("src/middleware/mod.rs"), list, false));
    }
    handlers_and_logic(&plans, &mut out);
    Ok(out)
}

fn cargo_toml(name: &str, rzero: &RzeroSource) -> String {
    format!(
        r#"# Generated once by rzeroctl from the service's .api; yours to edit.
[package]
name = {pkg}
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
{rzero}
axum = {{ version = "0.8", default-features = false }}
serde = {{ version = "{serde}", features = ["derive"] }}
serde_json = "{serde_json}"
tokio = {{ version = "{tokio}", features = ["rt-multi-thread", "macros", "signal"] }}

# A crate of its own; delete this table to make it a member of your workspace.
[workspace]
"#,
        pkg = toml_string(name),
        rzero = rzero.dependency(&["rest"]),
        serde = versions::SERDE,
        serde_json = versions::SERDE_JSON,
        tokio = versions::TOKIO,
    )
}

fn env_prefix(name: &str) -> String {
    snake(name).to_uppercase()
}

fn yaml(name: &str, jwt_keys: &[String]) -> String {
    let env = env_prefix(name);
    let mut y = format!(
        "# {name}: go-zero's RestConf keys; ${{VAR:-default}} reads the environment.\n\
         Name: {name}\n\
         Host: ${{{env}_HOST:-0.0.0.0}}\n\
         Port: ${{{env}_PORT:-8888}}\n\
         Timeout: 3000\n\n\
         OpenTelemetry:\n  Endpoint: ${{OTLP_ENDPOINT:-localhost:4317}}\n  Sampler: 1.0\n\n\
         Log:\n  Encoding: plain\n"
    );
    for k in jwt_keys {
        let var = format!("{}_SECRET", snake(k).to_uppercase());
        let _ = write!(
            y,
            "\n# @server(jwt: {k}): tokens are HS256-signed with AccessSecret.\n{k}:\n  AccessSecret: ${{{var}:-replace-this-secret-of-at-least-32-bytes}}\n  AccessExpire: 86400\n"
        );
    }
    y
}

fn config_rs(jwt_keys: &[String]) -> String {
    let mut fields = String::new();
    for k in jwt_keys {
        let _ = writeln!(
            fields,
            "/// `{k}`: the JWT settings of `@server(jwt: {k})` groups.\n#[serde(rename = {})]\npub {}: JwtConf,",
            string_lit(k),
            ident(&snake(k))
        );
    }
    let jwt_use = if jwt_keys.is_empty() {
        ""
    } else {
        "use rzero::rest::jwt::JwtConf;\n"
    };
    format!(
        "//! The service's config file (goctl's `internal/config`): rzero's `RestConf` keys and\n\
         //! yours. Written once by rzeroctl; add your own keys here and in `etc/`.\n\
         {jwt_use}use rzero::rest::RestConf;\nuse serde::{{Deserialize, Serialize}};\n\
         /// The YAML file.\n#[derive(Clone, Debug, Deserialize, Serialize)]\npub struct Config {{\n\
         /// `Name`, `Host`, `Port`, `Timeout`, `OpenTelemetry`, `Log`, `Middlewares`, ...\n\
         #[serde(flatten)]\npub rest: RestConf,\n{fields}}}\n"
    )
}

const SVC_RS: &str = "//! What every handler shares (goctl's `internal/svc`): clients, pools, config.\n\
//! Written once by rzeroctl; add your dependencies here.\n\
use std::sync::Arc;\nuse crate::config::Config;\n\
/// Cheap to clone: one per request.\n#[derive(Clone, Debug)]\npub struct ServiceContext {\n\
/// The loaded config.\npub config: Arc<Config>,\n}\n\
impl ServiceContext {\n/// Builds the shared state from the config.\npub fn new(config: Config) -> Self {\n\
ServiceContext { config: Arc::new(config) }\n}\n}\n";

const TYPES_PRELUDE: &str = "//! The contract of the .api (goctl's `internal/types`). Types stay in the contract\n\
//! even while no logic uses them yet.\n#![allow(dead_code)]\n\
use std::collections::BTreeMap;\nuse rzero::rest::parse::{FieldError, Parse, check};\nuse serde::{Deserialize, Serialize};\n";

fn main_rs(name: &str, middleware: bool) -> String {
    let mw = if middleware { "mod middleware;\n" } else { "" };
    format!(
        "//! `{name} [-f etc/{name}.yaml]`: without `-f` the config embedded at build time.\n\
         mod config;\nmod handler;\nmod logic;\n{mw}mod routes;\nmod svc;\nmod types;\n\
         /// `etc/{name}.yaml`, embedded.\nconst EMBEDDED: &str = include_str!(\"../etc/{name}.yaml\");\n\
         #[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {{\n\
         let args: Vec<String> = std::env::args().collect();\n\
         let config: config::Config = match args.iter().position(|a| a == \"-f\") {{\n\
         Some(i) => rzero::conf::load(args.get(i + 1).map_or(\"\", String::as_str))?,\n\
         None => rzero::conf::Loader::new().load_str(\"etc/{name}.yaml (embedded)\", EMBEDDED)?,\n}};\n\
         let guard = config.rest.init_telemetry(env!(\"CARGO_PKG_VERSION\"))?;\n\
         let svc = svc::ServiceContext::new(config.clone());\n\
         routes::server(&config, svc).telemetry(&guard).serve().await?;\n\
         guard.shutdown().await?;\nOk(())\n}}\n"
    )
}

fn middleware_rs(name: &str, func: &str) -> String {
    format!(
        "//! `@server(middleware: {name})`: runs around every route of the groups that name it,\n\
         //! inside rzero's tracing, limits and JWT. Written once by rzeroctl; yours to fill.\n\
         use axum::extract::Request;\nuse axum::middleware::Next;\nuse axum::response::Response;\n\
         /// Work before the route goes before `next.run`, work after it after.\n\
         pub async fn {func}(req: Request, next: Next) -> Response {{\nnext.run(req).await\n}}\n"
    )
}

fn routes_rs(spec: &Spec, plans: &[Plan<'_>]) -> String {
    let mut groups = String::new();
    for (gi, g) in spec.service.groups.iter().enumerate() {
        let mut chain = String::from("Group::new()");
        let prefix = g.prefix();
        if !prefix.is_empty() {
            let _ = write!(chain, ".prefix({})", string_lit(&prefix));
        }
        if let Some(j) = g.jwt() {
            let _ = write!(chain, ".jwt(&config.{})", ident(&snake(j)));
        }
        if let Some(t) = g.timeout() {
            let _ = write!(chain, ".timeout(Duration::from_millis({}))", t.as_millis());
        }
        if let Some(b) = g.max_bytes() {
            let _ = write!(chain, ".max_bytes({b})");
        }
        for m in g.middlewares() {
            let f = ident(&snake(m));
            let _ = write!(
                chain,
                ".layer(axum::middleware::from_fn(crate::middleware::{f}::{f}))"
            );
        }
        let mut routes = Vec::new();
        for p in plans
            .iter()
            .filter(|p| std::ptr::eq(p.group, &spec.service.groups[gi]))
        {
            let call = match &p.module {
                Some(m) => format!("handler::{m}::{}", p.func),
                None => format!("handler::{}", p.func),
            };
            let closure = if p.route.request.is_some() {
                format!("move |req| {call}(svc.clone(), req)")
            } else {
                format!("move || {call}(svc.clone())")
            };
            routes.push(format!(
                "Route::{}({}, {{ let svc = svc.clone(); {closure} }})",
                p.route.method,
                string_lit(&p.route.path)
            ));
        }
        let _ = write!(groups, ".group({chain}.routes([{}]))", routes.join(", "));
    }
    let unsupported: Vec<String> = spec
        .service
        .groups
        .iter()
        .filter(|g| g.signature())
        .map(|g| format!("/// Note: `@server(signature: true)` on group `{}` is not supported by rzero and is ignored.\n", g.group().unwrap_or("")))
        .collect();
    let uses_duration = spec.service.groups.iter().any(|g| g.timeout().is_some());
    format!(
        "//! The routes of the .api, group by group (goctl's `handler/routes.go`).\n\
         {dur}use rzero::rest::{{Group, Route, Server}};\nuse crate::config::Config;\nuse crate::handler;\nuse crate::svc::ServiceContext;\n\
         /// The server for `config` with every route of the .api.\n{notes}\
         pub fn server(config: &Config, svc: ServiceContext) -> Server {{\n\
         let _ = &svc;\nServer::new(config.rest.clone()){groups}\n}}\n",
        dur = if uses_duration {
            "use std::time::Duration;\n"
        } else {
            ""
        },
        notes = unsupported.concat(),
    )
}

fn handlers_and_logic(plans: &[Plan<'_>], out: &mut Files) {
    // module -> (handler code, logic mod list)
    let mut modules: BTreeMap<Option<String>, (String, String)> = BTreeMap::new();
    for p in plans {
        let entry = modules.entry(p.module.clone()).or_default();
        let req = p.route.request.as_ref();
        let resp = p.route.response.as_ref();
        let req_param = match req {
            None => String::new(),
            Some(b) if b.name.is_empty() => String::new(),
            Some(b) if crate::api::ast::BASE_TYPES.contains(&b.name.as_str()) => {
                format!(", Json(req): Json<{}>", body_type(b))
            }
            Some(b) => format!(", Parsed(req): Parsed<{}>", body_type(b)),
        };
        let has_req = !req_param.is_empty();
        let resp_ty = resp.filter(|b| !b.name.is_empty()).map(body_type);
        let (ret, map) = match &resp_ty {
            Some(t) => (format!("Json<{t}>"), ".map(Json)"),
            None => ("()".to_string(), ""),
        };
        let logic_fn = match &p.module {
            Some(m) => format!("crate::logic::{m}::{}", p.func),
            None => format!("crate::logic::{}", p.func),
        };
        let args = if has_req { "svc, req" } else { "svc" };
        let _ = write!(
            entry.0,
            "/// {title}.\npub async fn {f}(svc: ServiceContext{req_param}) -> Result<{ret}, Error> {{\n{logic_fn}({args}).await{map}\n}}\n",
            title = p.title(),
            f = p.func,
        );
        let bare = p.func.trim_start_matches("r#");
        let _ = write!(entry.1, "mod {bare};\npub use {bare}::{};\n", p.func);
        let req_ty = if has_req { req.map(body_type) } else { None };
        out.push((
            PathBuf::from(p.logic_path()),
            logic_rs(p, req_ty, resp_ty),
            true,
        ));
    }
    let mut handler_root = String::from(
        "//! One handler per route: parse the request, call the logic, answer JSON.\n",
    );
    let mut logic_root =
        String::from("//! The routes' logic: one file per route, yours to fill.\n");
    let uses = "#[allow(unused_imports)]\nuse rzero::rest::{Error, Json, Parsed};\nuse crate::svc::ServiceContext;\n";
    for (module, (handlers, logic)) in &modules {
        match module {
            Some(m) => {
                let bare = m.trim_start_matches("r#");
                let _ = writeln!(handler_root, "pub mod {m};");
                let _ = writeln!(logic_root, "pub mod {m};");
                out.push((
                    PathBuf::from(format!("src/handler/{bare}.rs")),
                    format!("//! Handlers of the group `{bare}`.\n{uses}{handlers}"),
                    false,
                ));
                out.push((
                    PathBuf::from(format!("src/logic/{bare}/mod.rs")),
                    format!("//! Logic of the group `{bare}`.\n{logic}"),
                    false,
                ));
            }
            None => {
                let _ = write!(logic_root, "{logic}");
            }
        }
    }
    if let Some((handlers, _)) = modules.get(&None) {
        handler_root.push_str(uses);
        handler_root.push_str(handlers);
    }
    out.push((PathBuf::from("src/handler/mod.rs"), handler_root, false));
    out.push((PathBuf::from("src/logic/mod.rs"), logic_root, false));
}

fn logic_rs(p: &Plan<'_>, req: Option<String>, resp: Option<String>) -> String {
    let doc = p
        .route
        .summary()
        .map(|s| format!("///\n/// {}\n", s.replace('\n', " ")))
        .unwrap_or_default();
    let param = req.map(|t| format!(", req: {t}")).unwrap_or_default();
    let ret = resp.unwrap_or_else(|| "()".into());
    let unused = if param.is_empty() {
        "svc"
    } else {
        "(svc, req)"
    };
    format!(
        "//! {title}: the route's logic. Written once by rzeroctl; yours to fill, never overwritten.\n\
         use rzero::rest::Error;\nuse crate::svc::ServiceContext;\n\
         /// {title}.\n{doc}pub async fn {f}(svc: ServiceContext{param}) -> Result<{ret}, Error> {{\n\
         let _ = {unused};\n\
         Err(Error::new(axum::http::StatusCode::NOT_IMPLEMENTED, {msg}))\n}}\n",
        title = p.title(),
        f = p.func,
        msg = string_lit(&format!(
            "{} has no logic yet: fill in {}",
            p.route.handler,
            p.logic_path()
        )),
    )
}
