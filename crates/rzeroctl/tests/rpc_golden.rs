//! What `rzeroctl rpc protoc` and `rpc new` write, file by file, against the expected
//! crates in `tests/data/rpc/golden/`: a proto with two services and every kind of rpc
//! (unary, server-, client- and bidi-streaming, imports, nested and well-known types),
//! and goctl's starter. `RZEROCTL_BLESS=1` rewrites the expected files; otherwise any
//! drift fails. Regeneration rewrites only rzeroctl's files.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rzeroctl::rpc::{NewArgs, ProtocArgs, new, protoc};

/// A released rzero, so that the expected `Cargo.toml` does not hold the path of
/// whichever checkout ran the test (the default is the local checkout).
fn release() -> rzeroctl::cargo::RzeroArgs {
    rzeroctl::cargo::RzeroArgs {
        rzero_path: None,
        rzero_version: Some("0.1.0".into()),
    }
}

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rpc")
}

/// Every file under `dir`, by its path relative to `dir`.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                let text = std::fs::read_to_string(&path).expect("read file");
                out.insert(rel.to_string_lossy().replace('\\', "/"), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `generated` matches `golden/<name>`, or becomes it under `RZEROCTL_BLESS=1`.
fn check(name: &str, generated: &Path) {
    let golden = data().join("golden").join(name);
    let actual = tree(generated);
    if std::env::var_os("RZEROCTL_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        for (rel, text) in &actual {
            let path = golden.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("bless");
        }
        return;
    }
    let expected = tree(&golden);
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the files of {name} drifted from tests/data/rpc/golden/{name} (RZEROCTL_BLESS=1 to accept)"
    );
    for (rel, text) in &actual {
        assert!(
            &expected[rel] == text,
            "{name}/{rel} drifted from tests/data/rpc/golden (RZEROCTL_BLESS=1 to accept):\n{text}"
        );
    }
}

#[test]
fn streaming_services_match_golden() {
    let out = common::scratch("rpc-golden/stream").join("stream-rpc");
    protoc(&ProtocArgs {
        proto: data().join("stream.proto"),
        dir: out.clone(),
        proto_path: Vec::new(),
        rzero: release(),
    })
    .expect("generates");
    check("stream-rpc", &out);
}

#[test]
fn starter_matches_golden() {
    let out = common::scratch("rpc-golden/new").join("greet");
    new(&NewArgs {
        name: "greet".into(),
        dir: Some(out.clone()),
        rzero: release(),
    })
    .expect("generates");
    check("greet", &out);
}

#[test]
fn regeneration_keeps_user_files_and_adds_new_rpcs() {
    let root = common::scratch("rpc-golden/regen");
    let out = root.join("regen-rpc");
    let proto = root.join("regen.proto");
    let v1 = "syntax = \"proto3\";\npackage regen;\nmessage M {}\n\
              service Regen {\n  rpc One(M) returns (M);\n}\n";
    std::fs::write(&proto, v1).expect("write proto");
    let args = ProtocArgs {
        proto: proto.clone(),
        dir: out.clone(),
        proto_path: Vec::new(),
        rzero: rzeroctl::cargo::RzeroArgs::default(),
    };
    protoc(&args).expect("first run");
    let first = tree(&out);

    // The user edits their files, someone edits a generated one.
    let mine = "// my logic\n";
    std::fs::write(out.join("src/logic/one.rs"), mine).expect("edit logic");
    std::fs::write(out.join("src/config.rs"), mine).expect("edit config");
    // (with its header kept: a generated file that lost it is the user's, and refused)
    std::fs::write(
        out.join("src/server.rs"),
        format!("{}\nbroken", rzeroctl::files::GENERATED_HEADER),
    )
    .expect("edit generated");

    // The proto gains an rpc.
    let v2 = v1.replace(
        "rpc One(M) returns (M);",
        "rpc One(M) returns (M);\n  rpc Two(M) returns (stream M);",
    );
    std::fs::write(&proto, v2).expect("write proto v2");
    protoc(&args).expect("second run");
    let second = tree(&out);

    assert_eq!(second["src/logic/one.rs"], mine, "logic is the user's");
    assert_eq!(second["src/config.rs"], mine, "config is the user's");
    assert!(
        second["src/server.rs"].contains("logic::two::two"),
        "server follows the proto"
    );
    assert!(second["src/server.rs"].starts_with("// Code generated by rzeroctl. DO NOT EDIT."));
    assert!(second["src/logic/mod.rs"].contains("pub mod two;"));
    assert!(second["src/logic/two.rs"].contains("Status::unimplemented"));
    assert!(second["proto/regen.proto"].contains("rpc Two"));
    assert_eq!(second["Cargo.toml"], first["Cargo.toml"]);
}
