//! The whole crate as a list of files, each with its owner: what `rzeroctl rpc protoc`
//! writes, before anything touches the disk. Every file comes from a template under
//! `templates/rpc/` or the ones the api generator shares (`templates/service/`).

use std::path::{Path, PathBuf};

use super::code::{self, Layout};
use super::parse::Proto;
use crate::cargo::{RzeroSource, versions_map};
use crate::files::{Existing, GENERATED_HEADER, GenFile};
use crate::render::{render, render_rust, shouty};

/// Every file of the crate for `proto`; `sources` are the contents of `proto.sources`,
/// in the same order; `dir` is where the crate goes (a proto already there is the
/// user's own file, not a copy).
pub(crate) fn plan(
    proto: &Proto,
    sources: &[String],
    layout: &Layout,
    rzero: &RzeroSource,
    dir: &Path,
) -> Result<Vec<GenFile>, String> {
    let mut out = Vec::new();
    for ((name, path), text) in proto.sources.iter().zip(sources) {
        let target = PathBuf::from(format!("proto/{name}"));
        let same = match (path.canonicalize(), dir.join(&target).canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same {
            let body = text
                .strip_prefix(GENERATED_HEADER)
                .map_or(text.as_str(), |t| t.trim_start_matches('\n'));
            out.push(GenFile::generated(target, body));
        }
    }
    let services = code::services(proto, layout);
    let methods: Vec<&code::MethodCtx> = services.iter().flat_map(|s| s.methods()).collect();
    let streaming = methods.iter().any(|m| m.server_streaming);
    let name = format!("{}.rpc", layout.stem);
    let mut modules: Vec<&str> = methods.iter().map(|m| m.fn_name.as_str()).collect();
    modules.sort_by_key(|m| code::bare(m).to_owned());
    let base = serde_json::json!({
        "crate_name": layout.crate_name,
        "bin": layout.crate_name,
        "lib": layout.lib,
        "stem": layout.stem,
        "name": name,
        "env": shouty(&layout.stem),
        "proto": proto.name,
        "section": "rpc",
        "conf_type": "RpcServerConf",
        "conf_keys": "`Name`, `ListenOn`, `Timeout`, `Etcd`, `OpenTelemetry`, `Log`, ...",
        "sharer": "logic function",
        "call": "call",
        "uses": ["rzero::rpc::RpcServerConf"],
        "fields": [],
        "v": versions_map(),
        "well_known": proto.uses_well_known,
        "rzero_dependency": rzero.dependency(&["rpc"]),
        "services": services,
        "multi": layout.multi,
        "streaming": streaming,
        "client_streaming": methods.iter().any(|m| m.client_streaming),
        "uses_pb": methods.iter().any(|m| m.uses_pb),
        "modules": modules,
        "existing": Existing::scan(dir),
    });
    out.push(GenFile::user(
        "Cargo.toml",
        render("rpc/Cargo.toml.tpl", &base)?,
    ));
    out.push(GenFile::generated(
        "build.rs",
        &render_rust("rpc/build.rs.tpl", &base)?,
    ));
    out.push(GenFile::user(
        format!("etc/{}.yaml", layout.stem),
        render("rpc/etc.yaml.tpl", &base)?,
    ));
    out.push(GenFile::generated(
        "src/main.rs",
        &render_rust("service/main.rs.tpl", &base)?,
    ));
    out.push(GenFile::generated(
        "src/lib.rs",
        &render_rust("rpc/lib.rs.tpl", &base)?,
    ));
    out.push(GenFile::user(
        "src/config.rs",
        render_rust("service/config.rs.tpl", &base)?,
    ));
    out.push(GenFile::user(
        "src/svc.rs",
        render_rust("service/svc.rs.tpl", &base)?,
    ));
    out.push(GenFile::generated(
        "src/server.rs",
        &render_rust("rpc/server.rs.tpl", &base)?,
    ));
    out.push(GenFile::generated(
        "src/client.rs",
        &render_rust("rpc/client.rs.tpl", &base)?,
    ));
    out.push(GenFile::generated(
        "src/logic/mod.rs",
        &render_rust("rpc/logic_mod.rs.tpl", &base)?,
    ));
    for s in &proto.services {
        for m in &s.methods {
            let ctx = code::method(s, m, layout);
            let file = layout.logic(s, m).file;
            let mut value = serde_json::to_value(&ctx).map_err(|e| e.to_string())?;
            if let Some(o) = value.as_object_mut() {
                o.insert("response".into(), ctx.logic_response().into());
            }
            out.push(GenFile::user(file, render_rust("rpc/logic.rs.tpl", value)?));
        }
    }
    Ok(out)
}

/// The starter proto of `rpc new`.
pub(crate) fn starter_proto(package: &str, service: &str) -> Result<String, String> {
    render(
        "rpc/starter.proto.tpl",
        serde_json::json!({ "package": package, "service": service }),
    )
}

/// The `.rs` files under `dir/src/logic` that `planned` does not list: logic of rpcs that
/// left the proto (or of a layout that changed), which regeneration never deletes.
pub(crate) fn stale_logic(dir: &Path, planned: &[GenFile]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    collect_rs(&dir.join("src/logic"), &mut found);
    found
        .into_iter()
        .filter_map(|p| p.strip_prefix(dir).ok().map(Path::to_path_buf))
        .filter(|p| !planned.iter().any(|o| &o.path == p))
        .collect()
}

fn collect_rs(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("mod.rs") {
            found.push(path);
        }
    }
}
