//! `rzeroctl api swagger`: golden documents, OpenAPI 3.0 validity (checked with the
//! PyPI package `openapi-spec-validator` in a venv under `target/`, made on first use
//! the way `deploy/check` makes its own), and the mapping of tags to parameters.

// Helpers outside `#[test]` fns too: a failed unwrap is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const VALIDATOR: &str = "openapi-spec-validator==0.9.0";

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn target() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// `target/openapi-venv/bin/python` with the validator installed (once; a directory
/// lock keeps concurrent test processes from installing twice).
fn validator() -> PathBuf {
    let venv = target().join("openapi-venv");
    let python = venv.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import openapi_spec_validator, yaml"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready() {
        return python;
    }
    let lock = target().join("openapi-venv.lock");
    std::fs::create_dir_all(target()).unwrap();
    let start = std::time::Instant::now();
    while std::fs::create_dir(&lock).is_err() {
        assert!(
            start.elapsed().as_secs() < 600,
            "stale lock {}",
            lock.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
        if ready() {
            return python;
        }
    }
    let run = |cmd: &mut Command| {
        let out = cmd
            .output()
            .expect("python3 (apt-get install -y python3-venv)");
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if !python.is_file() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    }
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        VALIDATOR,
        "PyYAML",
    ]));
    let _ = std::fs::remove_dir(&lock);
    python
}

fn validate(file: &Path) {
    let out = Command::new(validator())
        .args(["-m", "openapi_spec_validator"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} is not valid OpenAPI 3.0:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn swagger(api: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rzeroctl"))
        .args(["api", "swagger", "--api"])
        .arg(api)
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("swagger")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Generates JSON and YAML for `api`, checks both are valid and say the same, compares
/// the JSON with `tests/data/swagger/<golden>` (`RZEROCTL_BLESS=1` rewrites it).
fn check(api: &str, golden: &str) -> Value {
    let dir = scratch(golden);
    let api = data().join(api);
    for extra in [&[][..], &["--yaml"][..]] {
        let out = swagger(&api, &dir, extra);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stem = api.file_stem().unwrap().to_str().unwrap();
    let (json, yaml) = (
        dir.join(format!("{stem}.json")),
        dir.join(format!("{stem}.yaml")),
    );
    validate(&json);
    validate(&yaml);
    let text = std::fs::read_to_string(&json).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let from_yaml: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&yaml).unwrap()).unwrap();
    assert_eq!(doc, from_yaml);
    let path = data().join("swagger").join(golden);
    if std::env::var_os("RZEROCTL_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let want: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
        .unwrap_or(Value::Null);
    assert_eq!(doc, want, "{golden} drifted; RZEROCTL_BLESS=1 rewrites it");
    // Deterministic: a second run writes the same bytes.
    assert!(swagger(&api, &dir, &[]).status.success());
    assert_eq!(std::fs::read_to_string(&json).unwrap(), text);
    doc
}

/// The order system's contract, the one order.api (relative to `tests/data`).
const ORDER_API: &str = "../../../../services/order-api/order.api";

#[test]
fn order_api_golden() {
    let doc = check(ORDER_API, "order.json");
    assert_eq!(doc["openapi"], "3.0.3");
    let get = &doc["paths"]["/api/v1/orders/{order_id}"]["get"];
    assert_eq!(get["operationId"], "GetOrder");
    assert_eq!(get["parameters"][0]["in"], "path");
    assert_eq!(get["parameters"][0]["schema"]["format"], "int64");
    let post = &doc["paths"]["/api/v1/orders"]["post"];
    // The request mixes a header with body fields: the header is a parameter, the body
    // schema holds only the JSON fields.
    assert_eq!(post["parameters"][0]["in"], "header");
    assert_eq!(post["parameters"][0]["name"], "Idempotency-Key");
    let body = &post["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["properties"]["user_id"]["format"], "int64");
    assert!(body["properties"].get("Idempotency-Key").is_none());
    assert_eq!(post["tags"][0], "order");
}

#[test]
fn gozero_example_golden() {
    let doc = check("gozero/parser/example.api", "example.json");
    assert_eq!(doc["info"]["title"], "type title here");
    assert_eq!(doc["info"]["description"], "type desc here");
    let op = &doc["paths"]["/example/json"]["post"];
    assert_eq!(op["security"][0]["Auth"], serde_json::json!([]));
    assert_eq!(
        doc["components"]["securitySchemes"]["Auth"]["scheme"],
        "bearer"
    );
    // GET form fields are query parameters.
    let get = &doc["paths"]["/example/form"]["get"];
    assert_eq!(get["parameters"][0]["in"], "query");
}

#[test]
fn tag_options_map_to_schema_keywords() {
    let doc = check("swagger/features.api", "features.json");
    assert_eq!(doc["servers"][0]["url"], "https://api.example.com/base");
    let list = &doc["paths"]["/v1/items"]["get"];
    let params = list["parameters"].as_array().unwrap();
    let p = |n: &str| params.iter().find(|p| p["name"] == n).unwrap().clone();
    // Embedded `Page` is inlined; default is typed; range bounds and exclusivity.
    assert_eq!(p("page")["schema"]["default"], 1);
    assert_eq!(p("page")["required"], false);
    assert_eq!(p("page")["schema"]["maximum"], 1000);
    assert_eq!(p("size")["schema"]["exclusiveMinimum"], true);
    assert_eq!(
        p("kind")["schema"]["enum"],
        serde_json::json!(["a", "b", "c"])
    );
    assert_eq!(p("kind")["required"], true);
    assert_eq!(p("X-Trace")["in"], "header");
    assert!(list.get("requestBody").is_none());
    let item = &doc["components"]["schemas"]["Item"];
    assert_eq!(item["properties"]["next"]["nullable"], true);
    assert_eq!(
        item["properties"]["attrs"]["additionalProperties"]["type"],
        "string"
    );
    assert_eq!(item["properties"]["raw"], serde_json::json!({}));
    assert_eq!(
        item["properties"]["inner"]["properties"]["flag"]["default"],
        true
    );
    assert_eq!(item["properties"]["box"]["maxItems"], 2);
    assert!(
        !item["required"]
            .as_array()
            .unwrap()
            .contains(&"tags".into())
    );
    // Non-GET form fields are a form body beside the JSON one.
    let put = &doc["paths"]["/v1/items/{id}"]["put"];
    let content = &put["requestBody"]["content"];
    assert!(
        content["application/x-www-form-urlencoded"]["schema"]["properties"]["note"].is_object()
    );
    assert_eq!(
        content["application/json"]["schema"]["properties"]["status"]["default"],
        "on"
    );
    // Same handler name in two groups: operationIds stay unique.
    assert_eq!(
        doc["paths"]["/v1/admin/items"]["get"]["operationId"],
        "admin_ListItems"
    );
    // A `:id` with no struct field is still declared.
    assert_eq!(
        doc["paths"]["/v1/items/{id}/raw"]["get"]["parameters"][0]["name"],
        "id"
    );
}

#[test]
fn filename_and_errors() {
    let dir = scratch("errors");
    let out = swagger(
        &data().join(ORDER_API),
        &dir,
        &["--filename", "doc", "--yaml"],
    );
    assert!(out.status.success());
    assert!(dir.join("doc.yaml").is_file());
    let bad = dir.join("bad.api");
    std::fs::write(
        &bad,
        "syntax = \"v1\"\ntype A {\n\tB Missing `json:\"b\"`\n}\n",
    )
    .unwrap();
    let out = swagger(&bad, &dir, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.api:3:4"), "{err}");
    assert!(!dir.join("bad.json").exists());
    let out = swagger(&dir.join("missing.api"), &dir, &[]);
    assert!(!out.status.success());
}
