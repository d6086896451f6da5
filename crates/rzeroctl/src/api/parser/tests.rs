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
    let f = ok(include_str!("../../../tests/data/order.api"));
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
