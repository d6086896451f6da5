//! Golden files of `rzeroctl api rust` for the order system's `order.api` and the
//! every-feature `.api`: any change to generated code shows up here as a diff.
//! `RZEROCTL_BLESS=1 cargo test -p rzeroctl --test api_golden` rewrites them.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::path::Path;

use rzeroctl::cargo::RzeroSource;

fn check(api: &str, golden: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let spec = rzeroctl::api::load(&root.join(api)).unwrap_or_else(|e| panic!("{e}"));
    let files = rzeroctl::rustgen::generate(
        &spec,
        &RzeroSource::Version("0.1.0".into()),
        api,
        Default::default(),
    )
    .unwrap();
    let dir = root.join("rustgen/golden").join(golden);
    let bless = std::env::var_os("RZEROCTL_BLESS").is_some();
    for f in &files {
        let path = dir.join(&f.path);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &f.contents).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (RZEROCTL_BLESS=1 writes it)", path.display()));
        assert_eq!(
            f.contents,
            want,
            "{} drifted (RZEROCTL_BLESS=1 rewrites it)",
            path.display()
        );
    }
}

// The order system's own `services/order-api` is the golden of `order.api`: `cargo
// xtask codegen-check` regenerates it and fails on any difference.

#[test]
fn every_feature_golden() {
    check("rustgen/every_feature.api", "every-api");
}

#[test]
fn generation_is_deterministic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let spec = rzeroctl::api::load(&root.join("rustgen/every_feature.api")).unwrap();
    let a = rzeroctl::rustgen::generate(&spec, &RzeroSource::detect(), "e.api", Default::default())
        .unwrap();
    let b = rzeroctl::rustgen::generate(&spec, &RzeroSource::detect(), "e.api", Default::default())
        .unwrap();
    assert_eq!(a, b);
}
