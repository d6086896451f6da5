//! Text from an `.api` or `.proto` file never changes the structure of what rzeroctl
//! writes. Every quoted value a contract can carry (info, `@server` values, `@doc`, tags,
//! proto comments) is tried with line breaks and comment terminators around a marker;
//! the generator either refuses the file with file:line:column, or every occurrence of
//! the marker in its output sits inside a comment or a string literal. Path-like names
//! never leave the output folder, and a user's own file is never overwritten.

use std::path::{Component, Path};

use rzeroctl::cargo::RzeroSource;
use rzeroctl::files::{Existing, GenFile, Owner};

const MARK: &str = "EVIL_MARKER";

/// Each line holding the marker keeps it inside a `//`/`#` comment or a `"..."` literal.
fn contained(files: &[GenFile]) {
    for f in files {
        for (n, line) in f.contents.lines().enumerate() {
            let Some(at) = line.find(MARK) else { continue };
            let before = &line[..at];
            let t = before.trim_start();
            let in_comment = t.starts_with("//") || t.starts_with('#') || before.contains("// ");
            // Unescaped quotes before the marker: odd means inside a string literal.
            let mut quotes = 0;
            let mut escaped = false;
            for c in before.chars() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => quotes += 1,
                    _ => escaped = false,
                }
                if c != '\\' {
                    escaped = false;
                }
            }
            assert!(
                in_comment || quotes % 2 == 1,
                "{}:{}: input text escaped into the structure: {line}",
                f.path.display(),
                n + 1
            );
        }
    }
}

fn inside(files: &[GenFile]) {
    for f in files {
        assert!(
            f.path.is_relative()
                && f.path
                    .components()
                    .all(|c| matches!(c, Component::Normal(_))),
            "{} leaves the output folder",
            f.path.display()
        );
    }
}

/// Generates the service of `api`, or returns the error text.
fn api(src: &str) -> Result<Vec<GenFile>, String> {
    let dir = tempdir("api");
    let file = dir.join("h.api");
    std::fs::write(&file, src).map_err(|e| e.to_string())?;
    let spec = rzeroctl::api::load(&file).map_err(|e| e.to_string())?;
    let out = rzeroctl::rustgen::generate(
        &spec,
        &RzeroSource::Version("0.1.0".into()),
        "h.api",
        Existing::default(),
    )
    .map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// A fresh folder per call: the tests run in parallel threads of one process.
fn tempdir(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rzero-hostile-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn template(value: &str) -> Vec<String> {
    let v = value;
    vec![
        format!(
            "syntax = \"v1\"\ninfo (\n\ttitle: \"{v}\"\n\tdesc: \"{v}\"\n)\ntype R {{\n\tA string `json:\"a\"`\n}}\nservice h-api {{\n\t@handler H\n\tget /a (R) returns (R)\n}}\n"
        ),
        format!(
            "syntax = \"v1\"\ntype R {{\n\tA string `json:\"a\"`\n}}\n@server (\n\tprefix: \"/v1\"\n\tgroup: \"g\"\n\tsummary: \"{v}\"\n)\nservice h-api {{\n\t@doc \"{v}\"\n\t@handler H\n\tget /a (R) returns (R)\n}}\n"
        ),
        format!(
            "syntax = \"v1\"\ntype R {{\n\tA string `json:\"a,default={v}\"`\n\tB string `json:\"b,options={v}|x\"`\n}}\nservice h-api {{\n\t@handler H\n\tget /a (R) returns (R)\n}}\n"
        ),
        format!(
            "syntax = \"v1\"\ntype R {{\n\tA string `json:\"a\" doc:\"{v}\"`\n}}\nservice h-api {{\n\t@doc (\n\t\tsummary: \"{v}\"\n\t)\n\t@handler H\n\tget /a (R) returns (R)\n}}\n"
        ),
    ]
}

#[test]
fn api_values_with_line_breaks_and_comment_ends_stay_in_their_place() {
    let payloads = [
        format!("x\n*/ fn {MARK}() {{}} /*"),
        format!("x\r\npub mod {MARK};"),
        format!("x */ {MARK} /* y"),
        format!("x\\\" {MARK} \\\""),
        format!("x\u{2028}{MARK}"),
        format!("x\" {MARK} \""),
    ];
    let (mut refused, mut generated, mut carried) = (0, 0, 0);
    for p in &payloads {
        for src in template(p) {
            match api(&src) {
                Ok(files) => {
                    generated += 1;
                    carried += files.iter().filter(|f| f.contents.contains(MARK)).count();
                    contained(&files);
                    inside(&files);
                }
                Err(e) => {
                    refused += 1;
                    assert!(
                        e.contains("h.api:")
                            && e.split(':')
                                .filter_map(|p| p.trim().parse::<u32>().ok())
                                .count()
                                >= 2,
                        "a refusal names file:line:column: {e}\n--- the file:\n{src}"
                    );
                }
            }
        }
    }
    // Both paths are exercised: some values are legal (and escaped), some are not.
    assert!(
        generated > 0 && refused > 0,
        "generated {generated}, refused {refused}"
    );
    // And the accepted values do reach the output (as comments or strings), so the check
    // above looked at them.
    assert!(carried > 0, "no generated file carries the input text");
}

#[test]
fn path_like_group_names_stay_inside_the_crate() {
    for group in [
        "../../etc",
        "/abs/path",
        "a/../../b",
        "..",
        "C:\\\\x",
        "a b/c",
    ] {
        let src = format!(
            "syntax = \"v1\"\ntype R {{\n\tA string `json:\"a\"`\n}}\n@server (\n\tgroup: \"{group}\"\n)\nservice h-api {{\n\t@handler H\n\tget /a (R) returns (R)\n}}\n"
        );
        match api(&src) {
            Ok(files) => inside(&files),
            Err(e) => assert!(e.contains("h.api:"), "{group}: {e}"),
        }
    }
}

#[test]
fn proto_comments_and_names_stay_in_their_place() {
    let dir = tempdir("proto");
    let proto = dir.join("evil.proto");
    std::fs::write(
        &proto,
        format!(
            "syntax = \"proto3\";\npackage evil;\n// */ fn {MARK}() {{}}\n/* a\n*/\nservice Evil {{\n  // x */ pub mod {MARK}; /*\n  rpc Ping(Msg) returns (Msg);\n}}\nmessage Msg {{ string s = 1; }}\n"
        ),
    )
    .expect("proto");
    let out = dir.join("evil-rpc");
    let res = rzeroctl::rpc::protoc(&rzeroctl::rpc::ProtocArgs {
        proto: proto.clone(),
        dir: out.clone(),
        proto_path: Vec::new(),
        rzero: rzeroctl::cargo::RzeroArgs {
            rzero_path: None,
            rzero_version: Some("0.1.0".into()),
        },
    });
    assert!(res.is_ok(), "{res:?}");
    let mut files = Vec::new();
    collect(&out, &out, &mut files);
    contained(&files);
    assert!(
        files.iter().any(|f| f.path.ends_with("lib.rs")),
        "the crate was written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rpc_refuses_to_overwrite_a_users_own_file() {
    let dir = tempdir("own");
    let proto = dir.join("own.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\npackage own;\nservice Own { rpc Ping(M) returns (M); }\nmessage M {}\n",
    )
    .expect("proto");
    let out = dir.join("own-rpc");
    std::fs::create_dir_all(out.join("src")).expect("src");
    // A build.rs and a lib.rs the user wrote: no generated header.
    std::fs::write(out.join("build.rs"), "fn main() {}\n").expect("build.rs");
    std::fs::write(out.join("src/lib.rs"), "pub fn mine() {}\n").expect("lib.rs");
    let res = rzeroctl::rpc::protoc(&rzeroctl::rpc::ProtocArgs {
        proto,
        dir: out.clone(),
        proto_path: Vec::new(),
        rzero: rzeroctl::cargo::RzeroArgs {
            rzero_path: None,
            rzero_version: Some("0.1.0".into()),
        },
    });
    let err = res.expect_err("refuses").to_string();
    assert!(err.contains("build.rs") || err.contains("lib.rs"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("src/lib.rs"))
            .ok()
            .as_deref(),
        Some("pub fn mine() {}\n")
    );
    assert_eq!(
        std::fs::read_to_string(out.join("build.rs"))
            .ok()
            .as_deref(),
        Some("fn main() {}\n")
    );
    // Nothing else was written before the refusal.
    assert!(!out.join("src/server.rs").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<GenFile>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(root, &p, out);
        } else if let (Ok(text), Ok(rel)) = (std::fs::read_to_string(&p), p.strip_prefix(root)) {
            // Protos are copies of the input itself: their text is not rzeroctl's output.
            if p.extension().is_some_and(|x| x == "proto") {
                continue;
            }
            out.push(GenFile {
                path: rel.to_path_buf(),
                contents: text,
                owner: Owner::User,
            });
        }
    }
}
