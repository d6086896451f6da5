//! The contexts of the templates under `templates/rpc/` (and the shared
//! `templates/service/`): the names the crate's files share and, per service and rpc,
//! what its server, client and logic files say.

use serde::Serialize;

use super::parse::{Method, Proto, Service, to_snake};

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
    /// The Rust path from `crate::logic` to the function (`ping::ping`).
    pub(crate) function: String,
    /// The file under the crate (`src/logic/ping.rs`).
    pub(crate) file: String,
}

#[derive(Serialize)]
pub(crate) struct ServiceCtx {
    full_name: String,
    trait_name: String,
    package_path: String,
    module_stem: String,
    server: String,
    snake: String,
    module: String,
    modules: Vec<String>,
    methods: Vec<MethodCtx>,
}

#[derive(Serialize)]
pub(crate) struct MethodCtx {
    pub(crate) full_name: String,
    pub(crate) proto_name: String,
    pub(crate) fn_name: String,
    pub(crate) output: String,
    pub(crate) request: String,
    pub(crate) response: String,
    pub(crate) server_streaming: bool,
    pub(crate) client_streaming: bool,
    pub(crate) logic_module: String,
    pub(crate) uses_pb: bool,
    pub(crate) rpc: String,
    pub(crate) todo: String,
}

impl ServiceCtx {
    /// The service's rpcs.
    pub(crate) fn methods(&self) -> impl Iterator<Item = &MethodCtx> {
        self.methods.iter()
    }
}

// === impl Layout ===

impl Layout {
    /// Where `method` of `service` has its logic.
    pub(crate) fn logic(&self, service: &Service, method: &Method) -> LogicPath {
        let file = bare(&method.fn_name);
        if self.multi {
            let dir = service_module(service);
            LogicPath {
                function: format!("{dir}::{}::{}", method.fn_name, method.fn_name),
                file: format!("src/logic/{}/{file}.rs", bare(&dir)),
            }
        } else {
            LogicPath {
                function: format!("{}::{}", method.fn_name, method.fn_name),
                file: format!("src/logic/{file}.rs"),
            }
        }
    }
}

/// Every service of `proto`, as the templates read it.
pub(crate) fn services(proto: &Proto, layout: &Layout) -> Vec<ServiceCtx> {
    proto
        .services
        .iter()
        .map(|s| {
            let mut modules: Vec<String> = s.methods.iter().map(|m| m.fn_name.clone()).collect();
            modules.sort_by_key(|m| bare(m).to_owned());
            ServiceCtx {
                full_name: s.full_name.clone(),
                trait_name: s.trait_name.clone(),
                package_path: s.package_path.clone(),
                module_stem: s.module_stem.clone(),
                server: server_struct(s),
                snake: bare(&to_snake(&s.trait_name)).to_owned(),
                module: service_module(s),
                modules,
                methods: s.methods.iter().map(|m| method(s, m, layout)).collect(),
            }
        })
        .collect()
}

/// One rpc, as its server entry and its logic file read it.
pub(crate) fn method(service: &Service, m: &Method, layout: &Layout) -> MethodCtx {
    let path = layout.logic(service, m);
    let stream = |on: bool| if on { "stream " } else { "" };
    MethodCtx {
        full_name: service.full_name.clone(),
        proto_name: m.proto_name.clone(),
        fn_name: m.fn_name.clone(),
        output: m.output.clone(),
        request: if m.client_streaming {
            format!("Request<Streaming<{}>>", m.input)
        } else {
            format!("Request<{}>", m.input)
        },
        response: if m.server_streaming {
            format!("Self::{}Stream", m.proto_name)
        } else {
            m.output.clone()
        },
        server_streaming: m.server_streaming,
        client_streaming: m.client_streaming,
        logic_module: path.function.clone(),
        uses_pb: [&m.input, &m.output].iter().any(|t| t.starts_with("pb::")),
        rpc: format!(
            "rpc {}({}{}) returns ({}{})",
            m.proto_name,
            stream(m.client_streaming),
            m.input_name,
            stream(m.server_streaming),
            m.output_name
        ),
        todo: format!(
            "{}/{} has no logic yet: edit {}",
            service.full_name, m.proto_name, path.file
        ),
    }
}

impl MethodCtx {
    /// The response type as the logic function returns it.
    pub(crate) fn logic_response(&self) -> String {
        if self.server_streaming {
            format!("crate::BoxStream<{}>", self.output)
        } else {
            self.output.clone()
        }
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

/// The service's folder under `logic/` (multi-service layout).
fn service_module(s: &Service) -> String {
    to_snake(&s.trait_name)
}

/// An identifier without its `r#` (file names, derived names).
pub(crate) fn bare(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}
