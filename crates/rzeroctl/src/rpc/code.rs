//! The Rust sources of a generated crate that depend on the services: `lib.rs`,
//! `server.rs`, `client.rs`, `logic/mod.rs` (all regenerated) and one logic file per rpc
//! (written once). Text is laid out as rustfmt would lay it out, so that a generated
//! crate passes `cargo fmt --check` as written.

use std::fmt::Write as _;

use super::parse::{Method, Proto, Service, to_snake};
use crate::files::GENERATED_HEADER;

/// rustfmt's default `max_width`.
const MAX_WIDTH: usize = 100;

/// Names the whole crate shares.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The package name (`greet-rpc`).
    pub(crate) crate_name: String,
    /// The library's name in paths (`greet_rpc`).
    pub(crate) lib: String,
    /// The proto file's stem: `etc/<stem>.yaml`, `Name: <stem>.rpc`.
    pub(crate) stem: String,
    /// More than one service: logic files go in one folder per service.
    pub(crate) multi: bool,
}

/// Where one rpc's logic lives.
#[derive(Debug, Clone)]
pub(crate) struct LogicPath {
    /// The Rust path from `crate::logic` (`ping`, `greet::ping`).
    pub(crate) module: String,
    /// The file under the crate (`src/logic/ping.rs`).
    pub(crate) file: String,
}

// === impl Layout ===

impl Layout {
    /// Where `method` of `service` has its logic.
    pub(crate) fn logic(&self, service: &Service, method: &Method) -> LogicPath {
        let file = bare(&method.fn_name);
        if self.multi {
            let dir = service_module(service);
            LogicPath {
                module: format!("{dir}::{}", method.fn_name),
                file: format!("src/logic/{}/{file}.rs", bare(&dir)),
            }
        } else {
            LogicPath {
                module: method.fn_name.clone(),
                file: format!("src/logic/{file}.rs"),
            }
        }
    }
}

/// `src/lib.rs`.
pub(crate) fn lib_rs(proto: &Proto, layout: &Layout) -> String {
    let names: Vec<String> = proto
        .services
        .iter()
        .map(|s| format!("`{}`", s.full_name))
        .collect();
    let mut out = format!(
        "{GENERATED_HEADER}\n//! {}: the gRPC service{} {} from `proto/{}`, on rzero.\n",
        layout.crate_name,
        if names.len() > 1 { "s" } else { "" },
        names.join(", "),
        proto.name
    );
    out.push_str(include_str!("../../templates/rpc/lib_docs.rs.tpl"));
    let mut imports: Vec<String> = proto
        .services
        .iter()
        .map(|s| {
            format!(
                "use crate::{}::{}_server::{}Server;",
                s.package_path, s.module_stem, s.trait_name
            )
        })
        .collect();
    imports.sort();
    out.push_str(&imports.join("\n"));
    out.push('\n');
    out.push_str(include_str!("../../templates/rpc/lib_items.rs.tpl"));
    out.push_str(&signature(
        "",
        "pub async fn server",
        &["config: config::Config", "guard: TelemetryGuard"],
        "Result<RpcServer, BoxError>",
    ));
    out.push_str("    let conf = config.rpc.clone();\n");
    out.push_str("    let ctx = Arc::new(svc::ServiceContext::new(config).await?);\n");
    for s in &proto.services {
        let _ = writeln!(
            out,
            "    let {} = server::{}::new(Arc::clone(&ctx));",
            service_var(s),
            server_struct(s)
        );
    }
    out.push_str("    Ok(RpcServer::new(conf)\n        .telemetry(guard)\n");
    out.push_str("        .file_descriptor_set(FILE_DESCRIPTOR_SET)");
    for s in &proto.services {
        let _ = write!(
            out,
            "\n        .add_service({}Server::new({}))",
            s.trait_name,
            service_var(s)
        );
    }
    out.push_str(")\n}\n");
    out
}

/// `src/server.rs`.
pub(crate) fn server_rs(proto: &Proto, layout: &Layout) -> String {
    let streaming_in = methods(proto).any(|m| m.client_streaming);
    let mut out = format!(
        "{GENERATED_HEADER}\n//! The tonic services: each rpc calls its function in [`crate::logic`], \
         which is yours\n//! to edit.\n\nuse std::sync::Arc;\n\nuse tonic::{{Request, Response, \
         Status{}}};\n\nuse crate::logic;\nuse crate::pb;\nuse crate::svc::ServiceContext;\n",
        if streaming_in { ", Streaming" } else { "" }
    );
    for s in &proto.services {
        let name = server_struct(s);
        let _ = write!(
            out,
            "\n/// `{}`: each rpc calls its logic function.\n#[derive(Clone)]\npub struct {name} {{\n    \
             ctx: Arc<ServiceContext>,\n}}\n\nimpl {name} {{\n    /// The service over the shared \
             context.\n    pub fn new(ctx: Arc<ServiceContext>) -> Self {{\n        {name} {{ ctx }}\n    \
             }}\n}}\n\n#[tonic::async_trait]\nimpl {}::{}_server::{} for {name} {{\n",
            s.full_name, s.package_path, s.module_stem, s.trait_name
        );
        for (i, m) in s.methods.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let output = if m.server_streaming {
                let stream = format!("{}Stream", m.proto_name);
                let _ = writeln!(out, "    type {stream} = crate::BoxStream<{}>;\n", m.output);
                format!("Self::{stream}")
            } else {
                m.output.clone()
            };
            let request = format!("request: {}", request_type(m));
            out.push_str(&signature(
                "    ",
                &format!("async fn {}", m.fn_name),
                &["&self", &request],
                &format!("Result<Response<{output}>, Status>"),
            ));
            let path = layout.logic(s, m);
            let _ = writeln!(
                out,
                "        logic::{}::{}(&self.ctx, request).await\n    }}",
                path.module, m.fn_name
            );
        }
        out.push_str("}\n");
    }
    out
}

/// `src/client.rs`.
pub(crate) fn client_rs(proto: &Proto) -> String {
    let mut out = format!(
        "{GENERATED_HEADER}\n{}",
        include_str!("../../templates/rpc/client.rs.tpl")
    );
    for s in &proto.services {
        let client = format!("{}Client", s.trait_name);
        let connect = format!("connect_{}", bare(&to_snake(&s.trait_name)));
        let _ = write!(
            out,
            "\n/// A `{full}` client over rzero's channel.\npub type {client} = \
             crate::{}::{}_client::{client}<RpcClient>;\n\n/// A `{full}` client for `conf`: it \
             passes the caller's trace on but makes no spans.\n",
            s.package_path,
            s.module_stem,
            full = s.full_name,
        );
        out.push_str(&signature(
            "",
            &format!("pub async fn {connect}"),
            &["conf: &RpcClientConf"],
            &format!("Result<{client}, ClientError>"),
        ));
        let _ = write!(
            out,
            "    Ok({client}::new(RpcClient::new(conf).await?))\n}}\n\n/// A `{}` client for \
             `conf` whose calls are CLIENT spans of `guard`'s tracer.\n",
            s.full_name
        );
        out.push_str(&signature(
            "",
            &format!("pub async fn {connect}_traced"),
            &["conf: &RpcClientConf", "guard: &TelemetryGuard"],
            &format!("Result<{client}, ClientError>"),
        ));
        let _ = writeln!(
            out,
            "    let channel = RpcClient::builder(conf.clone())\n        .tracer(guard.tracer(\
             rzero::telemetry::SCOPE))\n        .build()\n        .await?;\n    \
             Ok({client}::new(channel))\n}}"
        );
    }
    out
}

/// `src/logic/mod.rs`.
pub(crate) fn logic_mod_rs(proto: &Proto, layout: &Layout) -> String {
    let mut out = format!(
        "{GENERATED_HEADER}\n{}\n",
        include_str!("../../templates/rpc/logic_mod.rs.tpl")
    );
    if !layout.multi {
        let mut mods: Vec<String> = methods(proto).map(|m| m.fn_name.clone()).collect();
        mods.sort_by_key(|m| bare(m).to_string());
        for m in mods {
            let _ = writeln!(out, "pub mod {m};");
        }
        return out;
    }
    for (i, s) in proto.services.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "/// `{}`.\npub mod {} {{",
            s.full_name,
            service_module(s)
        );
        let mut mods: Vec<&str> = s.methods.iter().map(|m| m.fn_name.as_str()).collect();
        mods.sort_by_key(|m| bare(m).to_string());
        for m in mods {
            let _ = writeln!(out, "    pub mod {m};");
        }
        out.push_str("}\n");
    }
    out
}

/// One rpc's logic file: compiles, and answers UNIMPLEMENTED naming itself until edited.
pub(crate) fn logic_rs(service: &Service, method: &Method, layout: &Layout) -> String {
    let path = layout.logic(service, method);
    let stream = |on: bool| if on { "stream " } else { "" };
    let rpc = format!(
        "rpc {}({}{}) returns ({}{})",
        method.proto_name,
        stream(method.client_streaming),
        method.input_name,
        stream(method.server_streaming),
        method.output_name
    );
    let tonic = if method.client_streaming {
        "Request, Response, Status, Streaming"
    } else {
        "Request, Response, Status"
    };
    let mut out = format!(
        "//! `{}/{}`: your code.\n//!\n//! rzeroctl wrote this file once and never touches it \
         again.\n\nuse tonic::{{{tonic}}};\n\n",
        service.full_name, method.proto_name
    );
    let uses_pb = [&method.input, &method.output]
        .iter()
        .any(|t| t.starts_with("pb::"));
    if uses_pb {
        out.push_str("use crate::pb;\n");
    }
    out.push_str("use crate::svc::ServiceContext;\n\n");
    let _ = writeln!(
        out,
        "/// `{rpc}`.\n///\n/// Replace the body with your logic; `ctx` holds the config and \
         what you add\n/// to the service context."
    );
    let output = if method.server_streaming {
        format!("crate::BoxStream<{}>", method.output)
    } else {
        method.output.clone()
    };
    let request = format!("request: {}", request_type(method));
    out.push_str(&signature(
        "",
        &format!("pub async fn {}", method.fn_name),
        &["ctx: &ServiceContext", &request],
        &format!("Result<Response<{output}>, Status>"),
    ));
    out.push_str("    let _ = (ctx, request);\n");
    let message = format!(
        "\"{}/{} has no logic yet: edit {}\"",
        service.full_name, method.proto_name, path.file
    );
    let call = format!("    Err(Status::unimplemented({message}))");
    if call.chars().count() <= MAX_WIDTH {
        out.push_str(&call);
        out.push('\n');
    } else {
        let _ = writeln!(
            out,
            "    Err(Status::unimplemented(\n        {message},\n    ))"
        );
    }
    out.push_str("}\n");
    out
}

/// Every method of every service.
fn methods(proto: &Proto) -> impl Iterator<Item = &Method> {
    proto.services.iter().flat_map(|s| s.methods.iter())
}

/// `Request<pb::X>` or `Request<Streaming<pb::X>>`.
fn request_type(m: &Method) -> String {
    if m.client_streaming {
        format!("Request<Streaming<{}>>", m.input)
    } else {
        format!("Request<{}>", m.input)
    }
}

/// The struct in `server.rs` that implements the service's trait: `GreetService`, or the
/// trait's own name when it already ends in `Service` (`OrderService`).
fn server_struct(s: &Service) -> String {
    if s.trait_name.ends_with("Service") {
        s.trait_name.clone()
    } else {
        format!("{}Service", s.trait_name)
    }
}

/// The service's local variable in `lib.rs`.
fn service_var(s: &Service) -> String {
    format!("{}_service", bare(&to_snake(&s.trait_name)))
}

/// The service's folder under `logic/` (multi-service layout).
fn service_module(s: &Service) -> String {
    to_snake(&s.trait_name)
}

/// An identifier without its `r#` (file names, derived names).
fn bare(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// A function signature up to its opening brace, on one line when it fits in rustfmt's
/// width, else one parameter a line as rustfmt writes it.
fn signature(indent: &str, head: &str, params: &[&str], ret: &str) -> String {
    let line = format!("{indent}{head}({}) -> {ret} {{", params.join(", "));
    if line.chars().count() <= MAX_WIDTH {
        return line + "\n";
    }
    let mut out = format!("{indent}{head}(\n");
    for p in params {
        let _ = writeln!(out, "{indent}    {p},");
    }
    let _ = writeln!(out, "{indent}) -> {ret} {{");
    out
}
