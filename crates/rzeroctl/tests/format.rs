//! `rzeroctl api format`: goctl's own format expectations, comment preservation,
//! idempotence and reparse equivalence over every `.api` under `tests/data`, and the
//! command's handling of bad input.

// Helpers outside `#[test]` fns too: a failed unwrap is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rzeroctl::api::ast::{Comments, DataType, Doc, File, Stmt};
use rzeroctl::api::format::format_source;
use rzeroctl::api::parse;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Every `.api` under `tests/data` that parses, with its text.
fn api_files() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "api") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&data(), &mut paths);
    paths.sort();
    let files: Vec<_> = paths
        .into_iter()
        .map(|p| {
            let s = std::fs::read_to_string(&p).unwrap();
            (p, s)
        })
        .filter(|(p, s)| parse(&p.display().to_string(), s).is_ok())
        .collect();
    assert!(
        files.len() > 40,
        "only {} parseable .api files",
        files.len()
    );
    files
}

fn fmt(name: &str, src: &str) -> String {
    format_source(name, src).unwrap_or_else(|e| panic!("{e}"))
}

/// goctl compares its testdata with tabs shown as four spaces and no final newline.
fn goctl_view(s: &str) -> String {
    s.replace('\t', "    ").trim_end().to_string()
}

/// The formatted goctl test file, against our golden (`RZEROCTL_BLESS=1` rewrites it).
fn golden(input: &str, golden: &str) -> String {
    let src = std::fs::read_to_string(data().join(input)).unwrap();
    let out = fmt(input, &src);
    let path = data().join("format").join(golden);
    if std::env::var_os("RZEROCTL_BLESS").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(out, want, "{golden} drifted; RZEROCTL_BLESS=1 rewrites it");
    out
}

#[test]
fn matches_goctl_expected_service() {
    let out = golden("gozero/format/test_service.api", "service.api");
    let want = std::fs::read_to_string(data().join("gozero/format/expected_service.api")).unwrap();
    assert_eq!(goctl_view(&out), goctl_view(&want));
}

#[test]
fn matches_goctl_expected_struct_group() {
    let out = golden(
        "gozero/format/test_type_struct_group.api",
        "type_struct_group.api",
    );
    let want = std::fs::read_to_string(data().join("gozero/format/expected_type_struct_group.api"))
        .unwrap();
    assert_eq!(goctl_view(&out), goctl_view(&want));
}

/// goctl prints `type /*bb*/ T /*cc*/ {`: the same, see `decl` in the formatter.
#[test]
fn matches_goctl_expected_struct_lit() {
    let out = golden(
        "gozero/format/test_type_struct_lit.api",
        "type_struct_lit.api",
    );
    let want =
        std::fs::read_to_string(data().join("gozero/format/expected_type_struct_lit.api")).unwrap();
    assert_eq!(goctl_view(&out), goctl_view(&want));
}

/// goctl's test_format.api is already formatted by goctl: formatting keeps it as is.
#[test]
fn goctl_formatted_file_is_a_fixed_point() {
    let src = std::fs::read_to_string(data().join("gozero/format/test_format.api")).unwrap();
    // (less the extra blank line the file ends with)
    assert_eq!(
        fmt("test_format.api", &src),
        src.trim_end().to_string() + "\n"
    );
    // The order system's contract is the one order.api (services/order-api).
    let input = "../../../../services/order-api/order.api";
    let order = std::fs::read_to_string(data().join(input)).unwrap();
    golden(input, "order.api");
    assert!(fmt("order.api", &order).contains("\tUserId    int64   `json:\"user_id\"`\n"));
}

fn comments_of(src: &str) -> Vec<String> {
    let mut c: Vec<String> = rzeroctl::api::lexer::lex(src)
        .unwrap()
        .comments
        .into_iter()
        .map(|c| c.text)
        .collect();
    c.sort();
    c
}

#[test]
fn every_comment_survives() {
    for (p, src) in api_files() {
        let out = fmt(&p.display().to_string(), &src);
        assert_eq!(
            comments_of(&src),
            comments_of(&out),
            "{}:\n{out}",
            p.display()
        );
    }
}

#[test]
fn formatting_is_idempotent() {
    for (p, src) in api_files() {
        let name = p.display().to_string();
        let once = fmt(&name, &src);
        assert_eq!(fmt(&name, &once), once, "{name}");
    }
}

/// The tree without positions, comments and warnings (formatting resolves those), `()`
/// bodies as absent (goctl drops them).
fn normalize(mut f: File) -> File {
    fn ty(t: &mut DataType) {
        match t {
            DataType::Name(_, p) => *p = Default::default(),
            DataType::Pointer(t) | DataType::Slice(t) | DataType::Array(_, t) => ty(t),
            DataType::Map(k, v) => {
                ty(k);
                ty(v);
            }
            DataType::Struct(st) => {
                st.tail.clear();
                for f in &mut st.fields {
                    f.pos = Default::default();
                    f.comments = Comments::default();
                    ty(&mut f.ty);
                }
            }
            DataType::Any | DataType::Interface => {}
        }
    }
    fn kv(b: &mut rzeroctl::api::ast::KvBlock) {
        b.pos = Default::default();
        b.comments = Comments::default();
        b.tail.clear();
        for kv in &mut b.pairs {
            kv.pos = Default::default();
            kv.comments = Comments::default();
        }
    }
    f.tail.clear();
    f.warnings.clear();
    for s in &mut f.stmts {
        match s {
            Stmt::Syntax(s) => {
                s.pos = Default::default();
                s.comments = Comments::default();
            }
            Stmt::Info(b) => kv(b),
            Stmt::Import(i) => {
                i.pos = Default::default();
                i.comments = Comments::default();
                i.tail.clear();
                for p in &mut i.paths {
                    p.1 = Default::default();
                    p.2 = Comments::default();
                }
            }
            Stmt::Type(t) => {
                t.pos = Default::default();
                t.comments = Comments::default();
                t.tail.clear();
                for d in &mut t.decls {
                    d.pos = Default::default();
                    d.comments = Comments::default();
                    ty(&mut d.ty);
                }
            }
            Stmt::Service(s) => {
                s.pos = Default::default();
                s.comments = Comments::default();
                s.tail.clear();
                if let Some(b) = &mut s.server {
                    kv(b);
                }
                for r in &mut s.routes {
                    r.handler_pos = Default::default();
                    r.path_pos = Default::default();
                    r.comments = Comments::default();
                    if let Some(Doc::Group(b)) = &mut r.doc {
                        kv(b);
                    }
                    if let Some(b) = &mut r.server {
                        kv(b);
                    }
                    for b in [&mut r.request, &mut r.response] {
                        if b.as_ref().is_some_and(|b| b.name.is_empty()) {
                            *b = None;
                        }
                        if let Some(b) = b {
                            b.pos = Default::default();
                        }
                    }
                }
            }
        }
    }
    f
}

#[test]
fn output_reparses_to_the_same_tree() {
    for (p, src) in api_files() {
        let name = p.display().to_string();
        let out = fmt(&name, &src);
        let again = parse(&name, &out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        let orig = parse(&name, &src).unwrap();
        assert_eq!(normalize(orig), normalize(again), "{name}");
    }
}

#[test]
fn goctl_unit_cases() {
    let cases = [
        ("import\"aa\"", "import \"aa\"\n"),
        (
            "import(\"aa\"\"bb\")// bb",
            "import (\n\t\"aa\"\n\t\"bb\"\n) // bb\n",
        ),
        (
            "import(// aa\n\"aa\" // bb\n\"bb\" // cc\n)// dd",
            "import ( // aa\n\t\"aa\" // bb\n\t\"bb\" // cc\n) // dd\n",
        ),
        (
            "info(foo:\"foo\" bar:\"bar\" quux:\"quux\")",
            "info (\n\tfoo:  \"foo\"\n\tbar:  \"bar\"\n\tquux: \"quux\"\n)\n",
        ),
        ("syntax\n=\"v1\"// aa", "syntax = \"v1\" // aa\n"),
        (
            "/*aa*/syntax=\"v1\"// bb",
            "/*aa*/\nsyntax = \"v1\" // bb\n",
        ),
        ("type Any=any// aa", "type Any = any // aa\n"),
        ("type M map [ int ] int", "type M map[int]int\n"),
        ("type T {\n\t\t\t*Foo\n\t\t\t}", "type T {\n\t*Foo\n}\n"),
        ("service foo-api\t{\t}", "service foo-api {}\n"),
        (
            "service foo-api {\n@handler bar\nget /bar () returns (Bar);\n@handler baz\nget /bar (Baz) returns ();\n}",
            "service foo-api {\n\t@handler bar\n\tget /bar returns (Bar)\n\n\t@handler baz\n\tget /bar (Baz)\n}\n",
        ),
        (
            "type T {\nA int `json:\"a\"`\nBb string\nCcc int64 `json:\"c\"`\n}",
            "type T {\n\tA   int `json:\"a\"`\n\tBb  string\n\tCcc int64 `json:\"c\"`\n}\n",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(fmt("t.api", input), want, "input: {input}");
    }
}

/// Comments goctl drops are kept, before their item.
#[test]
fn comments_goctl_drops_are_kept() {
    assert_eq!(
        fmt("t.api", "type M map [/*xx*/int/*yy*/]int // aa"),
        "/*xx*/\n/*yy*/\ntype M map[int]int // aa\n"
    );
    assert_eq!(
        fmt("t.api", "info/*xx*/( // bb\nfoo:/*yy*/ \"foo\"\n)"),
        "/*xx*/\ninfo ( // bb\n\t/*yy*/\n\tfoo: \"foo\"\n)\n"
    );
}

// === the command ===

fn rzeroctl(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rzeroctl"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("format")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn dir_formats_in_place_and_check_lists_changes() {
    let dir = scratch("dir");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.api"), "syntax=\"v1\"").unwrap();
    std::fs::write(dir.join("sub/b.api"), "syntax = \"v1\"\n").unwrap();
    std::fs::write(dir.join("c.txt"), "syntax=\"v1\"").unwrap();
    let d = dir.to_str().unwrap();
    let check = rzeroctl(&["api", "format", "--dir", d, "--check"], None);
    assert!(!check.status.success());
    let listed = String::from_utf8_lossy(&check.stdout);
    assert!(
        listed.contains("a.api") && !listed.contains("b.api"),
        "{listed}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("a.api")).unwrap(),
        "syntax=\"v1\""
    );
    let run = rzeroctl(&["api", "format", "--dir", d], None);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("a.api")).unwrap(),
        "syntax = \"v1\"\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("c.txt")).unwrap(),
        "syntax=\"v1\""
    );
    assert!(
        rzeroctl(&["api", "format", "--dir", d, "--check"], None)
            .status
            .success()
    );
}

#[test]
fn stdin_to_stdout() {
    let out = rzeroctl(
        &["api", "format", "--stdin"],
        Some("syntax=\"v1\"\ntype A{B int}"),
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "syntax = \"v1\"\n\ntype A {\n\tB int\n}\n"
    );
    let bad = rzeroctl(&["api", "format", "--stdin"], Some("type A {\n  B [}\n"));
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("<stdin>:2:"),
        "{bad:?}"
    );
}

#[test]
fn legacy_forms_are_rewritten_and_named_on_stderr() {
    let src = "info(\n\ttitle: doc title\n)\n\nservice a {\n\t@doc (\"d\")\n\t@server(\n\t\thandler: H\n\t)\n\tget /x\n}\n";
    let out = rzeroctl(&["api", "format", "--stdin"], Some(src));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "info (\n\ttitle: \"doc title\"\n)\n\nservice a {\n\t@doc \"d\"\n\t@handler H\n\tget /x\n}\n"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for at in [
        "<stdin>:2:9: warning:",
        "<stdin>:6:2: warning:",
        "<stdin>:7:2: warning:",
    ] {
        assert!(err.contains(at), "{at} in {err}");
    }
    // `api validate` loads the same file, warns the same way and succeeds.
    let dir = scratch("legacy");
    let file = dir.join("a.api");
    std::fs::write(&file, src).unwrap();
    let out = rzeroctl(&["api", "validate", "--api", file.to_str().unwrap()], None);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a.api:2:9: warning: `title: doc title`"),
        "{err}"
    );
    // `--check` lists the file: formatting would change it.
    let d = dir.to_str().unwrap();
    assert!(
        !rzeroctl(&["api", "format", "--dir", d, "--check"], None)
            .status
            .success()
    );
    assert!(
        rzeroctl(&["api", "format", "--dir", d], None)
            .status
            .success()
    );
    let out = rzeroctl(&["api", "validate", "--api", file.to_str().unwrap()], None);
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
}

#[test]
fn unparseable_file_is_reported_and_left_untouched() {
    let dir = scratch("bad");
    let bad = "syntax = \"v1\"\ntype A {\n\tB map[string\n}\n";
    std::fs::write(dir.join("bad.api"), bad).unwrap();
    std::fs::write(dir.join("good.api"), "syntax=\"v1\"").unwrap();
    let out = rzeroctl(&["api", "format", "--dir", dir.to_str().unwrap()], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.api:4:1:"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("bad.api")).unwrap(), bad);
    // The good file is still formatted.
    assert_eq!(
        std::fs::read_to_string(dir.join("good.api")).unwrap(),
        "syntax = \"v1\"\n"
    );
}

#[test]
fn missing_dir_and_no_input_are_errors() {
    let out = rzeroctl(
        &["api", "format", "--dir", "/nonexistent/rzeroctl-format"],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/rzeroctl-format"));
    assert!(!rzeroctl(&["api", "format"], None).status.success());
}

#[test]
fn hostile_input_never_panics() {
    let deep = format!("type A {}{}", "[]".repeat(10_000), "int");
    let wide = format!(
        "type A {{\n{}}}\n",
        "F int `json:\"f\"` // c\n".repeat(5_000)
    );
    for src in [
        deep.as_str(),
        wide.as_str(),
        "\u{0}",
        "/*",
        "`",
        "type (",
        "@server(",
        "service a {",
    ] {
        let _ = format_source("h.api", src);
    }
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let alphabet = "type A{}()[]*map,`json:\"a\"` // c\n/*d*/ service s @handler h get /a/:b returns @doc \"x\" info: syntax=\"v1\"\t";
    let words: Vec<&str> = alphabet.split_inclusive([' ', '\n']).collect();
    for _ in 0..3000 {
        let mut s = String::new();
        for _ in 0..(x % 40) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(words[(x % words.len() as u64) as usize]);
        }
        if let Ok(out) = format_source("r.api", &s) {
            assert_eq!(comments_of(&s), comments_of(&out), "{s:?}");
            assert_eq!(
                format_source("r.api", &out).as_deref(),
                Ok(out.as_str()),
                "{s:?}"
            );
        }
    }
}
