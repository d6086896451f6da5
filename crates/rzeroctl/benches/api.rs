//! Parsing, checking and generating a 2,000-line `.api` (issue 8's bar: well under a
//! second). `cargo bench -p rzeroctl --bench api`.

use criterion::{Criterion, criterion_group, criterion_main};
use rzeroctl::cargo::RzeroSource;

/// A `.api` of about 2,000 lines: 100 groups of request/response types and routes.
fn big_api() -> String {
    let mut s = String::from("syntax = \"v1\"\n\ninfo (\n\ttitle: \"big\"\n)\n\n");
    for i in 0..100 {
        s.push_str(&format!(
            "type (\n\tReq{i} {{\n\t\tId int64 `path:\"id,range=[1:]\"`\n\t\tPage int `form:\"page,default=1\"`\n\t\tKind string `form:\"kind,options=a|b\"`\n\t\tToken string `header:\"X-Token,optional\"`\n\t\tName string `json:\"name\"`\n\t}}\n\tResp{i} {{\n\t\tId int64 `json:\"id\"`\n\t\tItems []string `json:\"items\"`\n\t\tMeta map[string]int64 `json:\"meta\"`\n\t}}\n)\n\n"
        ));
    }
    for g in 0..10 {
        s.push_str(&format!(
            "@server (\n\tprefix: /api/v{g}\n\tgroup: g{g}\n\ttimeout: 3s\n)\nservice big-api {{\n"
        ));
        for i in g * 10..g * 10 + 10 {
            s.push_str(&format!(
                "\t@doc \"route {i}\"\n\t@handler H{i}\n\tpost /r{i}/:id (Req{i}) returns (Resp{i})\n\n"
            ));
        }
        s.push_str("}\n\n");
    }
    s
}

fn bench(c: &mut Criterion) {
    let src = big_api();
    let lines = src.lines().count();
    assert!(lines >= 2000, "{lines} lines");
    let path = std::path::Path::new("big.api");
    c.bench_function(&format!("parse+check {lines} lines"), |b| {
        b.iter(|| rzeroctl::api::load_source(path, &src).map(|s| s.types.len()))
    });
    let spec = rzeroctl::api::load_source(path, &src).expect("big.api loads");
    c.bench_function(&format!("generate rust from {lines} lines"), |b| {
        b.iter(|| {
            rzeroctl::rustgen::generate(
                &spec,
                &RzeroSource::Version("0.1.0".into()),
                "bench.api",
                Default::default(),
            )
            .map(|f| f.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
