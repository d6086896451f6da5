use super::*;
use crate::api::ast::{DataType, Doc};

fn ok(src: &str) -> File {
    parse("t.api", src).unwrap_or_else(|e| panic!("{e}"))
}

fn err(src: &str) -> ParseError {
    parse("t.api", src).expect_err("must fail")
}

#[test]
fn order_api_parses() {
    let f = ok(include_str!("../../../../../services/order-api/order.api"));
    let Some(Stmt::Service(s)) = f.stmts.last() else {
        panic!("service last")
    };
    assert_eq!(s.name, "order-api");
    assert_eq!(s.routes[1].path, "/orders/:order_id");
    assert_eq!(s.routes[1].method, "get");
    let server = s.server.as_ref().unwrap();
    assert_eq!(server.pairs[0].value.text(), "/api/v1");
}

#[test]
fn server_values() {
    let f = ok(
        "@server(\n prefix: /v1/v2_test/v2-beta\n group: a/b\n middleware: A,B\n timeout: 3s\n maxBytes: 1024\n summary: \"s\"\n x: foo-bar\n)\nservice a {\n@handler h\nget /\n}",
    );
    let Some(Stmt::Service(s)) = f.stmts.first() else {
        panic!()
    };
    let values: Vec<&str> = s
        .server
        .as_ref()
        .unwrap()
        .pairs
        .iter()
        .map(|kv| kv.value.text())
        .collect();
    assert_eq!(
        values,
        [
            "/v1/v2_test/v2-beta",
            "a/b",
            "A,B",
            "3s",
            "1024",
            "s",
            "foo-bar"
        ]
    );
    assert_eq!(s.routes[0].path, "/");
}

#[test]
fn paths_and_bodies() {
    let f = ok(
        "service a {\n@doc \"d\"\n@handler h\npost /a/b_c/d-e/:f/123/g/index.html ([]*Req) returns ([]string);\n@doc(summary: \"x\")\n@handler i\nget /x/2fa returns (Resp)\n}",
    );
    let Some(Stmt::Service(s)) = f.stmts.first() else {
        panic!()
    };
    assert_eq!(s.routes[0].path, "/a/b_c/d-e/:f/123/g/index.html");
    assert_eq!(s.routes[0].request.as_ref().unwrap().render(), "[]*Req");
    assert!(matches!(s.routes[0].doc, Some(Doc::Literal(_))));
    assert_eq!(s.routes[1].path, "/x/2fa");
    assert!(s.routes[1].request.is_none());
}

#[test]
fn fields_embedded_nested_and_tags() {
    let f = ok(
        "type A {\n*Nest\nBase\nName, Alias string `json:\"name\"`\nM map[string][]*int\nArr [...]int\nInner {\n X int\n}\nAny interface{}\n}",
    );
    let Some(Stmt::Type(t)) = f.stmts.first() else {
        panic!()
    };
    let DataType::Struct(st) = &t.decls[0].ty else {
        panic!()
    };
    assert!(st.fields[0].names.is_empty());
    assert!(matches!(st.fields[0].ty, DataType::Pointer(_)));
    assert!(st.fields[1].names.is_empty());
    assert_eq!(st.fields[2].names, ["Name", "Alias"]);
    assert_eq!(st.fields[2].tag.as_deref(), Some("json:\"name\""));
    assert!(matches!(st.fields[5].ty, DataType::Struct(_)));
    assert_eq!(st.fields[6].ty, DataType::Interface);
}

#[test]
fn errors_say_where_and_what() {
    let e = err("syntax = \"v1\"\ntype A {\n Name string `json:\"a\"`\n Age int 5\n}");
    assert_eq!((e.pos.line, e.pos.column), (4, 10));
    assert!(e.message.contains("found `5`"), "{e}");
    let e = err("service a {\n@handler h\nGET /a\n}");
    assert_eq!(e.pos.line, 3);
    assert!(
        e.to_string()
            .starts_with("t.api:3:1: expected an HTTP method"),
        "{e}"
    );
    let e = err("service foo-bar {}");
    assert!(e.message.contains("`api`"), "{e}");
    let e = err("type A {");
    assert!(e.message.contains("end of file"), "{e}");
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let src = format!("type A {}int", "[]".repeat(10_000));
    let e = err(&src);
    assert!(e.message.contains("nest deeper"), "{e}");
    let src = format!("type A {}{}", "{ X ".repeat(5_000), "}".repeat(5_000));
    assert!(parse("t.api", &src).is_err());
}

#[test]
fn comments_are_kept() {
    let f = ok(
        "// file\nsyntax = \"v1\" // trailing\n\ntype A { // open\n // lead\n X int // x\n // tail\n}\n// end",
    );
    let Some(Stmt::Syntax(s)) = f.stmts.first() else {
        panic!()
    };
    assert_eq!(s.comments.leading, ["// file"]);
    assert_eq!(s.comments.trailing.as_deref(), Some("// trailing"));
    let Some(Stmt::Type(t)) = f.stmts.get(1) else {
        panic!()
    };
    let DataType::Struct(st) = &t.decls[0].ty else {
        panic!()
    };
    assert_eq!(st.fields[0].comments.leading, ["// open", "// lead"]);
    assert_eq!(st.fields[0].comments.trailing.as_deref(), Some("// x"));
    assert_eq!(st.tail, ["// tail"]);
    assert_eq!(f.tail, ["// end"]);
}

fn info_pairs(src: &str) -> (Vec<(String, String)>, usize) {
    let f = ok(src);
    let Some(Stmt::Info(b)) = f.stmts.first() else {
        panic!("info first")
    };
    let pairs = b
        .pairs
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.text().to_string()))
        .collect();
    (pairs, f.warnings.len())
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_line_reads_in_the_current_grammar_when_it_can() {
    // Both grammars read it; goctl's default (current) reading wins, silently.
    let (pairs, warned) = info_pairs("info(\n foo: bar baz: qux\n)");
    assert_eq!((pairs, warned), (kv(&[("foo", "bar"), ("baz", "qux")]), 0));
    let (pairs, warned) = info_pairs("info(foo:\"foo\" bar:\"bar\")");
    assert_eq!((pairs, warned), (kv(&[("foo", "foo"), ("bar", "bar")]), 0));
    // Only the legacy grammar reads it: the rest of the line, from the first unquoted value.
    let (pairs, warned) = info_pairs("info(\n summary: get user: by id\n)");
    assert_eq!((pairs, warned), (kv(&[("summary", "get user: by id")]), 1));
    let (pairs, warned) = info_pairs("info(\n a: \"x\" b: c d\n version: 1\n)");
    assert_eq!(
        (pairs, warned),
        (kv(&[("a", "x"), ("b", "c d"), ("version", "1")]), 2)
    );
    let (pairs, _) = info_pairs("info(\n url: http://example.com\n)");
    assert_eq!(pairs, kv(&[("url", "http:")]), "goctl cuts at `//` too");
}

#[test]
fn what_neither_grammar_reads_fails_with_the_current_error() {
    let e = err("info(\n t: foo \"bar\"\n)");
    assert_eq!((e.pos.line, e.pos.column), (2, 9), "{e}");
    // Text after a comment on the line would be lost: refused.
    let e = err("info(\n t: a /* b */ c\n)");
    assert_eq!(e.pos.line, 2, "{e}");
    // The legacy value runs to the end of the line, `)` included, as in goctl.
    let e = err("info(version: 1.0)");
    assert!(e.message.contains("end of file"), "{e}");
    let e = err("@server(\n prefix: go-zero/)\nservice a {}");
    assert_eq!(e.pos.line, 3, "{e}");
}

#[test]
fn server_values_goctl_reads_only_in_its_legacy_grammar() {
    let f = ok("@server(\n a: /v1/2024\n b: /a-b-c\n c: v1/\n d: a/b-c\n)\nservice s {}");
    let Some(Stmt::Service(s)) = f.stmts.first() else {
        panic!()
    };
    let values: Vec<&str> = s
        .server
        .as_ref()
        .unwrap()
        .pairs
        .iter()
        .map(|kv| kv.value.text())
        .collect();
    assert_eq!(values, ["/v1/2024", "/a-b-c", "v1/", "a/b-c"]);
    assert_eq!(f.warnings.len(), 3, "{:?}", f.warnings);
}

#[test]
fn bad_tokens_fail_with_the_lexers_word_outside_legacy_values() {
    let e = err("type A é");
    assert!(e.message.contains("unexpected character 'é'"), "{e}");
    assert_eq!((e.pos.line, e.pos.column), (1, 8));
    let e = err("type A {\n B int 3mx\n}");
    assert!(e.message.contains("duration unit"), "{e}");
    let e = err("service a {\n@handel h\n}");
    assert!(e.message.contains("found `@handel`"), "{e}");
    let (pairs, _) = info_pairs("info(\n desc: 用户 @ 3mx é\n)");
    assert_eq!(pairs, kv(&[("desc", "用户 @ 3mx é")]));
}

#[test]
fn go_keywords_and_goctls_embedded_field_rule() {
    ok("type info {}\ntype returns {\n service int\n}");
    let e = err("type A {\n Name, go string\n}");
    assert!(e.message.contains("keyword `go`"), "{e}");
    // A lone name is embedded only when a tag or a new line follows it.
    ok("type A {\n Base\n *Other `json:\"-\"`\n}");
    let e = err("type A { Base }");
    assert_eq!((e.pos.line, e.pos.column), (1, 15), "{e}");
    let e = err("type A {\n X struct {\n }\n}");
    assert_eq!((e.pos.line, e.pos.column), (2, 4), "{e}");
    let f = ok("type A struct {\n X int\n}");
    assert_eq!(f.warnings.len(), 1);
    assert!(
        err("type A = struct {}")
            .message
            .contains("keyword `struct`")
    );
}

#[test]
fn legacy_routes_read_into_the_current_form() {
    let f = ok(
        "service a {\n@doc (\"d\")\n@server(\n handler: H // h\n)\nget /x\n@server(handler: I)\npost /y\n}",
    );
    let Some(Stmt::Service(s)) = f.stmts.first() else {
        panic!()
    };
    assert_eq!(s.routes[0].doc, Some(Doc::Literal("d".into())));
    assert_eq!(
        (s.routes[0].handler.as_str(), s.routes[0].server.is_none()),
        ("H", true)
    );
    assert_eq!(s.routes[0].comments.leading, ["// h"]);
    assert_eq!(s.routes[1].handler, "I");
    assert_eq!(f.warnings.len(), 3);
    let e = err("service a {\n@server(\n group: g\n)\nget /x\n}");
    assert!(e.message.contains("needs `handler: Name`"), "{e}");
    let e = err("service a {\n@server(\n handler: \"a b\"\n)\nget /x\n}");
    assert!(e.message.contains("not a name"), "{e}");
}

#[test]
fn a_long_line_that_falls_back_costs_linear_time() {
    // 200k `k: "v"` pairs then a bad token: read once per grammar, not once per pair.
    let line = "k: \"v\" ".repeat(200_000);
    let e = err(&format!("info(\n{line} 5\n)"));
    assert_eq!(e.pos.line, 2, "{e}");
    let (pairs, warned) = info_pairs(&format!("info(\n{line} k: a b\n)"));
    assert_eq!((pairs.len(), warned), (200_001, 1));
}
