//! `@server(sse: true)` (go-zero 1.9): the key is read, a bad value is refused with its
//! position, and the generated routes are SSE routes.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use rzeroctl::cargo::RzeroSource;

fn api(server: &str) -> String {
    format!(
        "syntax = \"v1\"\n\ntype Tick {{\n\tN int64 `json:\"n\"`\n}}\n\n@server (\n{server}\n)\nservice live-api {{\n\t@handler ticks\n\tget /ticks returns (Tick)\n}}\n"
    )
}

fn load(name: &str, text: &str) -> Result<rzeroctl::api::Spec, String> {
    // A folder per call: tests run in parallel and `scratch` empties its folder.
    let dir = common::scratch(&format!("api-sse/{name}"));
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    rzeroctl::api::load(&file).map_err(|e| e.to_string())
}

#[test]
fn sse_true_makes_the_group_an_sse_group() {
    let spec = load("on.api", &api("\tprefix: /live\n\tsse:    true")).unwrap();
    assert!(spec.service.groups[0].sse());
    let files = rzeroctl::rustgen::generate(
        &spec,
        &RzeroSource::Version("0.1.0".into()),
        "on.api",
        Default::default(),
    )
    .unwrap();
    let file = |p: &str| {
        let f = files.iter().find(|f| f.path.ends_with(p)).unwrap();
        f.contents.clone()
    };
    assert!(file("src/routes.rs").contains(".sse()"));
    let handler = file("src/handler/mod.rs");
    assert!(handler.contains("-> rzero::rest::sse::Events"), "{handler}");
    let logic = file("src/logic/ticks.rs");
    assert!(
        logic.contains("client: Sender<crate::types::Tick>"),
        "{logic}"
    );
}

#[test]
fn sse_false_is_a_plain_group() {
    let spec = load("off.api", &api("\tsse: false")).unwrap();
    assert!(!spec.service.groups[0].sse());
}

#[test]
fn a_bad_sse_value_is_refused_at_its_position() {
    let e = load("bad.api", &api("\tprefix: /live\n\tsse:    yes")).unwrap_err();
    assert!(
        e.contains("bad.api:9:2: sse `yes` is not a boolean; write sse: true"),
        "{e}"
    );
}
