//! Reading a `.proto` the way protoc does, with `protox` (protoc in pure Rust): the file
//! and its imports are found through the include paths (`-I`), parsed and checked, and
//! what generation needs is taken from the descriptors: the package, the services and
//! their methods, each message named by the Rust path `tonic-prost-build` gives it.
//!
//! Names follow `prost-build` and `tonic-build` exactly (heck's casing, keywords made
//! raw or suffixed, the `google.protobuf` wrappers mapped to Rust types), so that the
//! code we write refers to what the build script generates.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use heck::{ToSnakeCase, ToUpperCamelCase};
use miette::Diagnostic;
use prost_types::{DescriptorProto, FileDescriptorProto};

/// What generation needs from a `.proto`.
#[derive(Debug, Clone)]
pub(crate) struct Proto {
    /// The file's name under its include path (`order.proto`, `api/v1/order.proto`).
    pub(crate) name: String,
    /// The files to copy into the crate's `proto/`: the file and the imports that are not
    /// protoc's own, as (name under the include path, path on disk).
    pub(crate) sources: Vec<(String, PathBuf)>,
    /// Whether a `google/protobuf/*.proto` is imported (the crate then needs
    /// `prost-types`).
    pub(crate) uses_well_known: bool,
    /// The services, in file order.
    pub(crate) services: Vec<Service>,
}

/// One `service`.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    /// With the package (`order.Order`).
    pub(crate) full_name: String,
    /// The tonic trait (`Order`), also the prefix of `OrderServer` and `OrderClient`.
    pub(crate) trait_name: String,
    /// The Rust module of the package under `crate::pb` (`pb::order`, or `pb`).
    pub(crate) package_path: String,
    /// tonic's `order_server` / `order_client` stem (`order`).
    pub(crate) module_stem: String,
    /// The methods, in file order.
    pub(crate) methods: Vec<Method>,
}

/// One `rpc`.
#[derive(Debug, Clone)]
pub(crate) struct Method {
    /// As written (`CreateOrder`).
    pub(crate) proto_name: String,
    /// The trait method and the logic module (`create_order`, may be `r#type`).
    pub(crate) fn_name: String,
    /// The input message's Rust type (`pb::order::CreateOrderRequest`, `()`).
    pub(crate) input: String,
    /// The output message's Rust type.
    pub(crate) output: String,
    /// The input message as the proto names it from this package (`Request`,
    /// `google.protobuf.Empty`), for docs.
    pub(crate) input_name: String,
    /// The output message, likewise.
    pub(crate) output_name: String,
    /// `stream` on the input.
    pub(crate) client_streaming: bool,
    /// `stream` on the output.
    pub(crate) server_streaming: bool,
}

/// Why a `.proto` could not be read: already worded for a person (`file:line:col: ...`).
#[derive(Debug)]
pub(crate) struct ProtoError(pub(crate) String);

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtoError {}

/// Reads `file` with `includes` as protoc's `-I`; the file's own folder is searched
/// last, so that `rzeroctl rpc protoc dir/x.proto` works without `-I`.
pub(crate) fn load(file: &Path, includes: &[PathBuf]) -> Result<Proto, ProtoError> {
    if !file.is_file() {
        return Err(ProtoError(format!("{}: no such file", file.display())));
    }
    let mut includes = includes.to_vec();
    let own = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    includes.push(own.to_path_buf());
    let mut compiler =
        protox::Compiler::new(&includes).map_err(|e| describe(&e, file, &includes))?;
    compiler.include_imports(true);
    compiler
        .open_file(file)
        .map_err(|e| describe(&e, file, &includes))?;
    let mut sources = Vec::new();
    let mut main = None;
    let mut uses_well_known = false;
    for meta in compiler.files() {
        if meta.name().starts_with("google/protobuf/") {
            uses_well_known = true;
        } else if let Some(path) = meta.path() {
            sources.push((meta.name().to_string(), path.to_path_buf()));
        }
        if !meta.is_import() {
            main = Some(meta.name().to_string());
        }
    }
    let name = main.ok_or_else(|| ProtoError(format!("{}: not compiled", file.display())))?;
    let set = compiler.file_descriptor_set();
    let types = rust_types(&set.file);
    let descriptor = set
        .file
        .iter()
        .find(|f| f.name() == name)
        .ok_or_else(|| ProtoError(format!("{}: no descriptor", file.display())))?;
    let services =
        services(descriptor, &types).map_err(|e| ProtoError(format!("{}: {e}", file.display())))?;
    if services.is_empty() {
        return Err(ProtoError(format!(
            "{}: no service: a gRPC service needs `service Name {{ rpc Method(Request) returns (Response); }}`",
            file.display()
        )));
    }
    Ok(Proto {
        name,
        sources,
        uses_well_known,
        services,
    })
}

/// The services of `file`, their types resolved through `types`.
fn services(
    file: &FileDescriptorProto,
    types: &HashMap<String, String>,
) -> Result<Vec<Service>, String> {
    let package = file.package();
    let mut out = Vec::new();
    for s in &file.service {
        let trait_name = to_upper_camel(s.name());
        let full_name = if package.is_empty() {
            s.name().to_string()
        } else {
            format!("{package}.{}", s.name())
        };
        if s.method.is_empty() {
            return Err(format!(
                "service {} has no rpc; add one, such as `rpc Ping(Request) returns (Response);`",
                s.name()
            ));
        }
        let mut methods: Vec<Method> = Vec::new();
        for m in &s.method {
            let fn_name = to_snake(m.name());
            if let Some(other) = methods.iter().find(|o| o.fn_name == fn_name) {
                return Err(format!(
                    "service {}: rpc {} and rpc {} are both `{fn_name}` in Rust; rename one",
                    s.name(),
                    other.proto_name,
                    m.name()
                ));
            }
            let lookup = |t: &str| {
                types
                    .get(t)
                    .cloned()
                    .ok_or_else(|| format!("rpc {}: unknown message type {t}", m.name()))
            };
            methods.push(Method {
                proto_name: m.name().to_string(),
                fn_name,
                input: lookup(m.input_type())?,
                output: lookup(m.output_type())?,
                input_name: proto_name(package, m.input_type()),
                output_name: proto_name(package, m.output_type()),
                client_streaming: m.client_streaming(),
                server_streaming: m.server_streaming(),
            });
        }
        out.push(Service {
            full_name,
            module_stem: naive_snake_case(&trait_name),
            trait_name,
            package_path: package_module(package),
            methods,
        });
    }
    Ok(out)
}

/// Every message of `files` by its full name (`.order.CreateOrderRequest`), with the
/// Rust type prost gives it.
fn rust_types(files: &[FileDescriptorProto]) -> HashMap<String, String> {
    let mut types = HashMap::new();
    for file in files {
        let package = file.package();
        let root = if package == "google.protobuf" {
            "::prost_types".to_string()
        } else {
            package_module(package)
        };
        let prefix = if package.is_empty() {
            String::new()
        } else {
            format!(".{package}")
        };
        for message in &file.message_type {
            add_message(&mut types, &prefix, &root, message);
        }
    }
    // prost-build's extern paths for the wrappers.
    for (name, rust) in [
        ("Empty", "()"),
        ("BoolValue", "bool"),
        ("BytesValue", "::prost::alloc::vec::Vec<u8>"),
        ("DoubleValue", "f64"),
        ("FloatValue", "f32"),
        ("Int32Value", "i32"),
        ("Int64Value", "i64"),
        ("StringValue", "::prost::alloc::string::String"),
        ("UInt32Value", "u32"),
        ("UInt64Value", "u64"),
    ] {
        types.insert(format!(".google.protobuf.{name}"), rust.to_string());
    }
    types
}

fn add_message(
    types: &mut HashMap<String, String>,
    prefix: &str,
    module: &str,
    message: &DescriptorProto,
) {
    let full = format!("{prefix}.{}", message.name());
    types.insert(
        full.clone(),
        format!("{module}::{}", to_upper_camel(message.name())),
    );
    let nested = format!("{module}::{}", to_snake(message.name()));
    for inner in &message.nested_type {
        // Map entries are not types of their own in Rust.
        if inner.options.as_ref().is_some_and(|o| o.map_entry()) {
            continue;
        }
        add_message(types, &full, &nested, inner);
    }
}

/// `.pkg.Msg` as written in `package pkg`: `Msg`; from elsewhere `other.Msg`.
fn proto_name(package: &str, full: &str) -> String {
    let full = full.trim_start_matches('.');
    match full.strip_prefix(package).and_then(|s| s.strip_prefix('.')) {
        Some(local) if !package.is_empty() => local.to_string(),
        _ => full.to_string(),
    }
}

/// `pb::a::b` for `package a.b`; `pb` for none.
fn package_module(package: &str) -> String {
    let mut path = String::from("pb");
    for part in package.split('.').filter(|p| !p.is_empty()) {
        path.push_str("::");
        path.push_str(&to_snake(part));
    }
    path
}

/// prost-build's `to_snake`: heck's snake case, keywords made raw or suffixed.
pub(crate) fn to_snake(s: &str) -> String {
    sanitize(s.to_snake_case())
}

/// prost-build's `to_upper_camel`.
pub(crate) fn to_upper_camel(s: &str) -> String {
    sanitize(s.to_upper_camel_case())
}

/// prost-build's `sanitize_identifier`.
fn sanitize(ident: String) -> String {
    const RAW: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "false", "fn", "for", "if", "impl",
        "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
        "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "dyn", "abstract",
        "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
        "virtual", "yield", "async", "await", "try", "gen",
    ];
    if RAW.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else if ["_", "super", "self", "Self", "extern", "crate"].contains(&ident.as_str()) {
        format!("{ident}_")
    } else if ident.starts_with(|c: char| c.is_numeric()) {
        format!("_{ident}")
    } else {
        ident
    }
}

/// tonic-build's `naive_snake_case`, for the `xxx_server` / `xxx_client` modules.
fn naive_snake_case(name: &str) -> String {
    let mut s = String::new();
    let mut it = name.chars().peekable();
    while let Some(x) = it.next() {
        s.push(x.to_ascii_lowercase());
        if it.peek().is_some_and(|y| y.is_uppercase()) {
            s.push('_');
        }
    }
    s
}

/// `err` as `path:line:col: message` when the parser knows where.
/// The file is named as the user named it when it is the one they gave.
fn describe(err: &protox::Error, file: &Path, includes: &[PathBuf]) -> ProtoError {
    let message = err.to_string();
    let Some(name) = err.file() else {
        return ProtoError(format!("{}: {message}", file.display()));
    };
    let same = |p: &Path| p.canonicalize().ok() == file.canonicalize().ok();
    let path = includes
        .iter()
        .map(|i| i.join(name))
        .find(|p| p.is_file())
        .map(|p| if same(&p) { file.to_path_buf() } else { p })
        .unwrap_or_else(|| PathBuf::from(name));
    let offset = err
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|label| label.offset());
    let position = offset.and_then(|offset| {
        let source = std::fs::read_to_string(&path).ok()?;
        Some(line_col(&source, offset))
    });
    match position {
        Some((line, col)) => ProtoError(format!("{}:{line}:{col}: {message}", path.display())),
        None => ProtoError(format!("{}: {message}", path.display())),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset.min(source.len())).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prost_and_tonic() {
        assert_eq!(to_snake("CreateOrder"), "create_order");
        assert_eq!(to_snake("Type"), "r#type");
        assert_eq!(to_snake("self"), "self_");
        assert_eq!(to_upper_camel("user_info"), "UserInfo");
        assert_eq!(naive_snake_case("HelloWorld"), "hello_world");
        assert_eq!(package_module("a.bC"), "pb::a::b_c");
        assert_eq!(package_module(""), "pb");
    }

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
