//! The parser against go-zero's own `.api` test files (tests/data/gozero, see SOURCE.md):
//! what goctl's parser accepts parses here, what it rejects fails, at the right place;
//! and goctl's legacy forms (tests/data/legacy and goctl's own legacy files): they load
//! with warnings, and `api format` turns them into the current form.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::path::{Path, PathBuf};

use rzeroctl::api::format::format_checked;
use rzeroctl::api::{Loaded, load, load::parse_file, load_checked, parse};

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
    // goctl's TestNestTypeApi: a nested `XXX struct {}` is refused.
    let e = must_fail("gogen/nest_type_api.api");
    assert!(
        e.contains("nest_type_api.api:3:9: expected a type, found the keyword `struct`"),
        "{e}"
    );
    // goctl's TestInlineTypeNotExist: an embedded type that is not declared.
    let e = must_fail("gogen/has_inline_no_exist_test.api");
    assert!(
        e.contains("has_inline_no_exist_test.api:2:5: unresolved type `Inline`"),
        "{e}"
    );
}

fn checked(rel: &str) -> Loaded {
    load_checked(&data(rel), None).unwrap_or_else(|e| panic!("{rel} must load:\n{e}"))
}

/// The warnings' `file:line:column:` prefixes.
fn warned_at(loaded: &Loaded) -> Vec<String> {
    loaded
        .warnings
        .iter()
        .map(|w| format!("{}:{}", w.file.rsplit('/').next().unwrap_or(""), w.pos))
        .collect()
}

/// goctl's gogen tests load these with `GOCTL_EXPERIMENTAL=off` (its legacy parser):
/// route-level `@server(handler: X)`, `@doc ("text")`, unquoted info values, `struct`.
/// They load here too, each legacy form with a warning where it is.
#[test]
fn goctl_legacy_gogen_files_load_with_warnings() {
    let l = checked("gogen/ap_ino_info.api");
    assert!(warned_at(&l).contains(&"ap_ino_info.api:10:5".to_string()));
    let (_, route) = l.spec.service.routes().next().unwrap();
    assert_eq!(
        (route.handler.as_str(), route.path.as_str()),
        ("GreetHandler", "/greet/from/:name")
    );

    let l = checked("gogen/has_comment_api_test.api");
    let at = warned_at(&l);
    assert!(
        at.contains(&"has_comment_api_test.api:15:5".to_string()),
        "{at:?}"
    );
    assert!(
        at.contains(&"has_comment_api_test.api:16:5".to_string()),
        "{at:?}"
    );
    let routes: Vec<_> = l.spec.service.routes().map(|(_, r)| r).collect();
    assert_eq!(routes[0].summary(), Some("helloworld"));
    assert_eq!(routes[1].handler, "NoResponseHandler");

    // goctl's TestParser: two types, two routes, the second with no response.
    let l = checked("gogen/test_api_template.api");
    assert!(warned_at(&l).contains(&"test_api_template.api:2:12".to_string()));
    assert_eq!(l.spec.info("title"), Some("doc title"));
    assert_eq!(l.spec.info("version"), Some("1.0"));
    assert!(
        l.spec
            .info("desc")
            .is_some_and(|d| d.contains("second part"))
    );
    assert_eq!(l.spec.types.len(), 2);
    let routes: Vec<_> = l.spec.service.routes().collect();
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[0].0.group(), Some("greet/s1"));
    assert_eq!(routes[1].1.path, "/greet/get");
    assert!(routes[1].1.response.is_none());

    // goctl's TestMultiService: two routes in two groups.
    let l = checked("gogen/test_multi_service_template.api");
    assert_eq!(l.spec.service.groups.len(), 2);
    assert_eq!(l.spec.service.routes().count(), 2);
}

/// Our own files, one family of legacy forms each (tests/data/legacy/SOURCE.md).
const LEGACY: [&str; 8] = [
    "../legacy/info_values.api",
    "../legacy/server_values.api",
    "../legacy/routes.api",
    "../legacy/types.api",
    "gogen/ap_ino_info.api",
    "gogen/has_comment_api_test.api",
    "gogen/test_api_template.api",
    "gogen/test_multi_service_template.api",
];

/// Each legacy form loads with a warning; `api format` writes its current form, which
/// loads without one (tags stay as written: goctl keeps them) to the same spec.
#[test]
fn legacy_forms_format_to_the_current_form_and_the_same_spec() {
    for rel in LEGACY {
        let path = data(rel);
        let before = checked(rel);
        assert!(!before.warnings.is_empty(), "{rel}: no warning");
        let name = path.display().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let (out, rewritten) = format_checked(&name, &src).unwrap();
        assert!(!rewritten.is_empty(), "{rel}: nothing rewritten");
        for w in &rewritten {
            assert!(before.warnings.contains(w), "{rel}: {w}");
        }
        let after = load_checked(&path, Some(&out)).unwrap_or_else(|e| panic!("{e}\n{out}"));
        for w in &after.warnings {
            let kept = w.message.starts_with("tag `") || w.message.contains("ignores `group`");
            assert!(kept, "{rel}: formatted output still warns: {w}\n{out}");
        }
        assert_eq!(before.spec, after.spec, "{rel}:\n{out}");
        let again = format_checked(&name, &out).unwrap();
        assert_eq!(again.0, out, "{rel}: not a fixed point");
    }
}

fn formatted(rel: &str) -> String {
    let path = data(rel);
    let src = std::fs::read_to_string(&path).unwrap();
    format_checked(&path.display().to_string(), &src).unwrap().0
}

#[test]
fn unquoted_info_values_read_to_the_end_of_the_line() {
    let l = checked("../legacy/info_values.api");
    let info = |k: &str| l.spec.info(k).unwrap_or("<absent>");
    assert_eq!(info("title"), "user service");
    assert_eq!(info("desc"), "用户服务 (accounts, sessions)");
    assert_eq!(info("author"), "someone");
    assert_eq!(info("email"), "dev@example.com");
    assert_eq!(info("version"), "1.0");
    assert_eq!(info("date"), "2024-01-02");
    assert_eq!(info("empty"), "");
    assert_eq!(info("note"), "");
    // Every unquoted value warns, at the value (at the colon when there is none).
    let lines = ["5:9", "6:8", "8:9", "9:11", "10:8", "11:7", "12:6"];
    assert_eq!(
        warned_at(&l),
        lines.map(|at| format!("info_values.api:{at}"))
    );
    let out = formatted("../legacy/info_values.api");
    assert!(out.contains("\ttitle:   \"user service\"\n"), "{out}");
    assert!(out.contains("\tversion: \"1.0\"\n"), "{out}");
    assert!(out.contains("\tnote:    \"\" //TODO fill in\n"), "{out}");
}

#[test]
fn unquoted_server_values_with_dashes_slashes_and_dots() {
    let l = checked("../legacy/server_values.api");
    let groups = &l.spec.service.groups;
    let prefixes: Vec<String> = groups.iter().map(|g| g.prefix()).collect();
    assert_eq!(prefixes, ["/go-zero", "/api/v1.0", "/api/user-info-x"]);
    assert_eq!(groups[0].group(), Some("a/b"));
    assert_eq!(groups[0].middlewares(), ["Auth", "Log"]);
    assert_eq!(groups[1].middlewares(), ["Auth", "Log"]);
    assert_eq!(groups[2].timeout(), Some(std::time::Duration::from_secs(3)));
    // Only the three values the current grammar cannot read warn.
    assert_eq!(
        warned_at(&l),
        [
            "server_values.api:10:10",
            "server_values.api:20:10",
            "server_values.api:30:10"
        ]
    );
    let out = formatted("../legacy/server_values.api");
    assert!(
        out.contains("\tprefix:     \"go-zero/\"\n\tgroup:      a/b\n"),
        "{out}"
    );
    assert!(
        out.contains("\tprefix:     \"/api/v1.0\" // a dot\n"),
        "{out}"
    );
}

#[test]
fn doc_in_parentheses_and_route_level_server_handler() {
    let l = checked("../legacy/routes.api");
    let routes: Vec<_> = l.spec.service.routes().map(|(_, r)| r).collect();
    let handlers: Vec<&str> = routes.iter().map(|r| r.handler.as_str()).collect();
    assert_eq!(
        handlers,
        [
            "GreetHandler",
            "PingHandler",
            "HelloHandler",
            "LegacyFolderHandler"
        ]
    );
    assert_eq!(routes[0].summary(), Some("greets a person"));
    assert_eq!(routes[2].summary(), Some("says hello, in prose"));
    // The block's comments stay with the route.
    assert!(routes[0].comments.iter().any(|c| c.contains("old way")));
    assert!(routes[1].comments.contains(&"// C2".to_string()));
    let at = warned_at(&l);
    assert_eq!(
        at,
        [
            "routes.api:13:2",
            "routes.api:14:2",
            "routes.api:20:2",
            "routes.api:26:12",
            "routes.api:32:2"
        ]
    );
    assert!(
        l.warnings[4].message.contains("ignores `group`"),
        "{}",
        l.warnings[4]
    );
    let out = formatted("../legacy/routes.api");
    assert!(
        out.contains("\t@doc \"greets a person\"\n\t@handler GreetHandler\n\tget /greet/:name"),
        "{out}"
    );
    assert!(
        out.contains("\t// C2\n\t@handler PingHandler\n\tget /ping\n"),
        "{out}"
    );
    assert!(
        out.contains("\t\tsummary: \"says hello, in prose\"\n"),
        "{out}"
    );
    // No current form for a route-level `group`: the block is kept, formatted.
    assert!(
        out.contains("\t@server (\n\t\thandler: LegacyFolderHandler\n\t\tgroup:   legacy\n\t)\n"),
        "{out}"
    );
}

#[test]
fn struct_keyword_and_tags_read_in_part() {
    let l = checked("../legacy/types.api");
    let member = |ty: &str, i: usize| match &l.spec.find_type(ty).unwrap().ty {
        rzeroctl::api::spec::Type::Struct(m) => m[i].clone(),
        other => panic!("{ty}: {other:?}"),
    };
    let id = member("Query", 0);
    assert_eq!(id.tag.raw, "form:\"id\":\"id\"");
    assert_eq!(id.tag.get("form"), Some("id"));
    assert_eq!(id.tag.pairs.len(), 1);
    assert!(member("Reply", 1).tag.pairs.is_empty());
    assert_eq!(
        warned_at(&l),
        [
            "types.api:3:11",
            "types.api:8:8",
            "types.api:10:3",
            "types.api:15:3"
        ]
    );
    let out = formatted("../legacy/types.api");
    assert!(
        out.contains("type Base {\n") && out.contains("\tQuery {\n"),
        "{out}"
    );
    assert!(!out.contains("struct"), "{out}");
    // Tags are kept as written, as goctl keeps them.
    assert!(
        out.contains("`form:\"id\":\"id\"`") && out.contains("`json:note`"),
        "{out}"
    );
}

/// goctl's `TestParser_Parse_parseTypeStmt_invalid`: every one is refused.
#[test]
fn goctl_invalid_type_statements_are_rejected() {
    let list = std::fs::read_to_string(data("parser/parser_test_invalid_types.txt")).unwrap();
    let mut n = 0;
    for line in list.lines().filter(|l| l.starts_with('"')) {
        let src = line[1..line.len() - 1].replace("\\n", "\n");
        assert!(parse("t.api", &src).is_err(), "goctl refuses {line}");
        n += 1;
    }
    assert_eq!(n, 95);
    // `Name` over `string}`, refused at the `}`.
    let e = must_fail("../legacy/field_type_on_next_line.api");
    assert!(
        e.contains("field_type_on_next_line.api:6:8: expected a type"),
        "{e}"
    );
    // Go keywords, as goctl's `curTokenIsKeyword` refuses them.
    for (src, at) in [
        ("type go int", "t.api:1:6:"),
        ("type Foo *go", "t.api:1:11:"),
        ("type A func", "t.api:1:8:"),
        ("type Foo interface", "t.api:1:10:"),
        ("type A {\n\tmap[string]int\n}", "t.api:2:2:"),
    ] {
        let e = parse("t.api", src).unwrap_err().to_string();
        assert!(e.starts_with(at) && e.contains("keyword"), "{src}: {e}");
    }
}
