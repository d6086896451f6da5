//! The parser against go-zero's own `.api` test files (tests/data/gozero, see SOURCE.md):
//! what goctl's parser accepts parses here, what it rejects fails, at the right place.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::path::{Path, PathBuf};

use rzeroctl::api::{load, load::parse_file, parse};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gozero")
        .join(rel)
}

fn must_load(rel: &str) -> rzeroctl::api::Spec {
    load(&data(rel)).unwrap_or_else(|e| panic!("{rel} must load:\n{e}"))
}

fn must_fail(rel: &str) -> String {
    match load(&data(rel)) {
        Ok(_) => panic!("{rel} must be rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn goctl_analyzer_valid_files_load() {
    let spec = must_load("parser/example.api");
    assert_eq!(spec.info("title"), Some("type title here"));
    assert_eq!(spec.info("email"), Some("type email here"));
    // goctl's analyzer test: some group carries `summary: "test"`.
    assert!(
        spec.service
            .groups
            .iter()
            .any(|g| g.get("summary") == Some("test"))
    );
    assert_eq!(spec.service.name, "example");
    assert_eq!(spec.service.routes().count(), 12);
    // Imported types are merged in.
    assert!(spec.find_type("BaseReq").is_some() || spec.types.len() > 15);
    must_load("parser/link_import.api");
    let two = must_load("parser/duplicate_path_expression_different_prefix.api");
    assert_eq!(two.service.routes().count(), 2);
}

#[test]
fn goctl_analyzer_invalid_files_fail_where_goctl_does() {
    let e = must_fail("parser/base.api");
    assert!(e.contains("import cycle"), "{e}");
    let e = must_fail("parser/duplicate_type.api");
    assert!(
        e.contains("duplicate_type.api:6:6: duplicate type `Example`"),
        "{e}"
    );
    let e = must_fail("parser/duplicate_path_expression.api");
    assert!(e.contains("duplicate route GET /v1/v3/"), "{e}");
}

/// goctl's `invalid.api`: cases separated by `-----`, each rejected.
#[test]
fn every_invalid_case_is_rejected_with_a_position() {
    let src = std::fs::read_to_string(data("parser/invalid.api")).unwrap();
    let dir = std::env::temp_dir().join(format!("rzeroctl-invalid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cases = 0;
    for (i, case) in src.split("-----").enumerate() {
        if case.chars().all(char::is_whitespace) {
            continue;
        }
        cases += 1;
        let file = dir.join(format!("invalid{i}.api"));
        std::fs::write(&file, case).unwrap();
        let err = load(&file).expect_err(&format!("case {i} must fail:\n{case}"));
        let first = &err.errors[0];
        assert!(first.pos.line >= 1, "case {i}: {err}");
        let line = case.lines().nth(first.pos.line as usize - 1).unwrap_or("");
        assert!(
            !line.trim().is_empty() || first.message.contains("end of file"),
            "case {i} points at an empty line: {err}"
        );
    }
    assert!(cases >= 10, "only {cases} cases");
    let _ = std::fs::remove_dir_all(dir);
}

/// goctl's parser tests parse these syntactically (its analyzer is not involved).
#[test]
fn goctl_parser_test_files_parse() {
    for f in [
        "comment_test.api",
        "test.api",
        "info_test.api",
        "import_literal_test.api",
        "import_group_test.api",
        "service_test.api",
        "test_format.api",
        "example_base.api",
        "base/request.api",
        "base/response.api",
    ] {
        parse_file(&data(&format!("parser/{f}"))).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    for f in [
        "test_format.api",
        "test_service.api",
        "test_type_struct_group.api",
        "test_type_struct_lit.api",
        "expected_service.api",
        "expected_type_struct_group.api",
        "expected_type_struct_lit.api",
    ] {
        parse_file(&data(&format!("format/{f}"))).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

/// goctl tests these statements on their own; here each sits in a minimal file.
#[test]
fn goctl_statement_fragments_parse() {
    let server = std::fs::read_to_string(data("parser/atserver_test.api")).unwrap();
    let f = parse("atserver", &format!("{server}\nservice a {{}}")).unwrap();
    let rzeroctl::api::ast::Stmt::Service(s) = &f.stmts[0] else {
        panic!("service")
    };
    let pairs = &s.server.as_ref().unwrap().pairs;
    let get = |k: &str| pairs.iter().find(|kv| kv.key == k).unwrap().value.text();
    assert_eq!(get("prefix2"), "v1/v2_test/v2-beta");
    assert_eq!(get("prefix4"), "a-b-c");
    assert_eq!(get("timeout7"), "1h10m10s10ms10µs10ns");
    assert_eq!(get("middleware"), "M1,M2");
    assert_eq!(get("summary"), "test");
    for (name, wrap) in [
        ("athandler_test.api", "service a {\n%\nget /x\n}"),
        (
            "atdoc_literal_test.api",
            "service a {\n%\n@handler h\nget /x\n}",
        ),
        (
            "atdoc_group_test.api",
            "service a {\n%\n@handler h\nget /x\n}",
        ),
    ] {
        let text = std::fs::read_to_string(data(&format!("parser/{name}"))).unwrap();
        for stmt in text.split_inclusive('\n').filter(|l| l.starts_with('@')) {
            if name == "atdoc_group_test.api" {
                parse(name, &wrap.replace('%', &text)).unwrap_or_else(|e| panic!("{e}"));
                break;
            }
            parse(name, &wrap.replace('%', stmt)).unwrap_or_else(|e| panic!("{stmt}: {e}"));
        }
    }
}

#[test]
fn goctl_gogen_and_example_files() {
    for f in [
        "gogen/anonymous_annotation.api",
        "gogen/api_has_middleware.api",
        "gogen/api_has_no_request.api",
        "gogen/api_jwt.api",
        "gogen/api_jwt_with_middleware.api",
        "gogen/api_route_test.api",
        "gogen/example.api",
        "gogen/import_api.api",
        "gogen/nest_type_api.api",
        "gogen/no_struct_tag_api.api",
        "examples/example.api",
        "examples/example_cn.api",
        "examples/greet.api",
        "examples/jwt.api",
    ] {
        must_load(f);
    }
    let e = must_fail("gogen/invalid_api_file.api");
    assert!(e.contains("invalid_api_file.api:10:5"), "{e}");
    // goctl's legacy (g4) grammar, used only with GOCTL_EXPERIMENTAL=off: route-level
    // `@server(handler: X)`, `@doc("text")`, bare info values. goctl's current parser
    // rejects these too, and so do we, at the first legacy construct.
    for (f, at) in [
        ("gogen/ap_ino_info.api", ":10:5:"),
        ("gogen/has_comment_api_test.api", ":15:11:"),
        ("gogen/test_api_template.api", ":3:1:"),
    ] {
        let e = must_fail(f);
        assert!(e.contains(at), "{f}: {e}");
    }
}
