//! The whole crate as a list of files, each with its owner: what
//! `rzeroctl rpc protoc` writes, before anything touches the disk. Fixed files come from
//! the templates in `templates/`; the ones that follow the services from [`super::code`].

use std::path::{Path, PathBuf};

use super::code::{self, Layout};
use super::parse::Proto;
use crate::cargo::{RzeroSource, versions};
use crate::files::GENERATED_HEADER;

/// Who owns a file, which decides how it is written (see [`crate::files`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// rzeroctl: rewritten on every run.
    Generated,
    /// The user: written when absent, never again.
    User,
}

/// One file of the crate.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    /// Relative to the crate's folder.
    pub(crate) path: PathBuf,
    /// What it holds.
    pub(crate) contents: String,
    /// Who owns it.
    pub(crate) owner: Owner,
}

/// Every file of the crate for `proto`; `sources` are the contents of `proto.sources`,
/// in the same order.
pub(crate) fn plan(
    proto: &Proto,
    sources: &[String],
    layout: &Layout,
    rzero: &RzeroSource,
) -> Vec<Output> {
    let mut out = Vec::new();
    let mut add = |path: &str, contents: String, owner: Owner| {
        out.push(Output {
            path: PathBuf::from(path),
            contents,
            owner,
        });
    };
    for ((name, _), text) in proto.sources.iter().zip(sources) {
        add(&format!("proto/{name}"), text.clone(), Owner::Generated);
    }
    let prost_types = if proto.uses_well_known {
        format!("prost-types = \"{}\"\n", versions::PROST)
    } else {
        String::new()
    };
    let vars: &[(&str, &str)] = &[
        ("header", GENERATED_HEADER),
        ("crate", &layout.crate_name),
        ("lib", &layout.lib),
        ("stem", &layout.stem),
        ("proto", &proto.name),
        ("rzero", &rzero.dependency(&["rpc"])),
        ("prost", versions::PROST),
        ("prost_types", &prost_types),
        ("serde", versions::SERDE),
        ("tokio", versions::TOKIO),
        ("tonic", versions::TONIC),
        ("protoc", versions::PROTOC_BIN_VENDORED),
    ];
    let tpl = |t: &str| render(t, vars);
    add(
        "Cargo.toml",
        tpl(include_str!("../../templates/rpc/Cargo.toml.tpl")),
        Owner::User,
    );
    add(
        "build.rs",
        tpl(include_str!("../../templates/rpc/build.rs.tpl")),
        Owner::Generated,
    );
    add(
        &format!("etc/{}.yaml", layout.stem),
        tpl(include_str!("../../templates/rpc/etc.yaml.tpl")),
        Owner::User,
    );
    add(
        "src/main.rs",
        tpl(include_str!("../../templates/rpc/main.rs.tpl")),
        Owner::Generated,
    );
    add("src/lib.rs", code::lib_rs(proto, layout), Owner::Generated);
    add(
        "src/config.rs",
        tpl(include_str!("../../templates/rpc/config.rs.tpl")),
        Owner::User,
    );
    add(
        "src/svc.rs",
        tpl(include_str!("../../templates/rpc/svc.rs.tpl")),
        Owner::User,
    );
    add(
        "src/server.rs",
        code::server_rs(proto, layout),
        Owner::Generated,
    );
    add("src/client.rs", code::client_rs(proto), Owner::Generated);
    add(
        "src/logic/mod.rs",
        code::logic_mod_rs(proto, layout),
        Owner::Generated,
    );
    for s in &proto.services {
        for m in &s.methods {
            let file = layout.logic(s, m).file;
            add(&file, code::logic_rs(s, m, layout), Owner::User);
        }
    }
    out
}

/// The starter `.proto` of `rzeroctl rpc new NAME` (goctl's template): `package NAME`,
/// `service Name { rpc Ping(Request) returns (Response); }`.
pub(crate) fn starter_proto(package: &str, service: &str) -> String {
    render(
        include_str!("../../templates/rpc/starter.proto.tpl"),
        &[("package", package), ("service", service)],
    )
}

/// `template` with each `{{key}}` replaced by its value.
fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in vars {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// The `.rs` files under `dir/src/logic` that `planned` does not list: logic of rpcs that
/// left the proto (or of a layout that changed), which regeneration never deletes.
pub(crate) fn stale_logic(dir: &Path, planned: &[Output]) -> Vec<PathBuf> {
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
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_rs(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_replaces_every_key() {
        assert_eq!(
            render("{{a}}-{{b}}-{{a}}", &[("a", "1"), ("b", "2")]),
            "1-2-1"
        );
    }
}
