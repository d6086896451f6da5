//! `rzeroctl rpc protoc` on bad input: every case is an error a person can act on
//! (with file:line:col when the parser knows where), never a panic, and nothing written.

mod common;

use std::path::{Path, PathBuf};

use rzeroctl::rpc::{NewArgs, ProtocArgs, protoc};

fn bad(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/rpc/bad")
        .join(name)
}

/// The error of generating `proto` into a fresh folder, which must stay empty.
fn error_of(case: &str, proto: PathBuf) -> String {
    let dir = common::scratch(&format!("rpc-errors/{case}"));
    let out = dir.join("svc");
    let err = protoc(&ProtocArgs {
        proto,
        dir: out.clone(),
        proto_path: Vec::new(),
        rzero: rzeroctl::cargo::RzeroArgs::default(),
    })
    .expect_err("bad input is an error");
    assert!(!out.exists(), "{case}: nothing is written on error");
    err.to_string()
}

#[test]
fn syntax_error_gives_file_line_and_column() {
    let msg = error_of("syntax", bad("syntax.proto"));
    let at = format!("{}:7:1:", bad("syntax.proto").display());
    assert!(msg.starts_with(&at), "{msg}");
    assert!(msg.contains("expected"), "{msg}");
}

#[test]
fn unknown_type_is_located() {
    let msg = error_of("unknown-type", bad("unknowntype.proto"));
    assert!(msg.contains("unknowntype.proto:6:"), "{msg}");
    assert!(msg.contains("Nowhere"), "{msg}");
}

#[test]
fn missing_file_is_named() {
    let msg = error_of("missing", bad("nope.proto"));
    assert!(msg.contains("nope.proto: no such file"), "{msg}");
}

#[test]
fn missing_import_is_named_where_imported() {
    let msg = error_of("import", bad("badimport.proto"));
    assert!(msg.contains("badimport.proto:5:"), "{msg}");
    assert!(msg.contains("missing/thing.proto"), "{msg}");
}

#[test]
fn proto_without_service_says_what_is_missing() {
    let msg = error_of("noservice", bad("noservice.proto"));
    assert!(msg.contains("noservice.proto: no service"), "{msg}");
    assert!(msg.contains("service Name"), "{msg}");
}

#[test]
fn empty_file_has_no_service() {
    let msg = error_of("empty", bad("empty.proto"));
    assert!(msg.contains("empty.proto: no service"), "{msg}");
}

#[test]
fn service_without_rpc_is_refused() {
    let msg = error_of("norpc", bad("norpc.proto"));
    assert!(msg.contains("service Idle has no rpc"), "{msg}");
}

#[test]
fn random_bytes_are_not_a_proto() {
    let dir = common::scratch("rpc-errors/random-input");
    let file = dir.join("noise.proto");
    // A fixed pseudo-random sequence: not UTF-8, with NULs and stray braces.
    let mut x: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(&file, bytes).expect("write noise");
    let msg = error_of("random", file);
    assert!(msg.contains("noise.proto"), "{msg}");
    // Valid UTF-8 garbage too: the parser's position, no panic.
    let text = dir.join("text.proto");
    std::fs::write(&text, "}{ service ;;; rpc ( returns\u{0} \"unterminated").expect("write");
    let msg = error_of("random-text", text);
    assert!(msg.contains("text.proto:1:"), "{msg}");
}

#[test]
fn new_refuses_a_name_that_is_not_one() {
    let dir = common::scratch("rpc-errors/new-name");
    let err = rzeroctl::rpc::new(&NewArgs {
        name: "9 lives".into(),
        dir: Some(dir.join("x")),
        rzero: rzeroctl::cargo::RzeroArgs::default(),
    })
    .expect_err("bad name");
    assert!(err.to_string().contains("not a service name"), "{err}");
}
