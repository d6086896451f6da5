//! `rzeroctl model mysql ddl` on `tests/data/model/shop.sql` against the checked-in
//! output under `tests/data/model/golden/{plain,cache}/`: any drift fails. After an
//! intended change, rewrite the expected files with
//! `RZEROCTL_BLESS=1 cargo test -p rzeroctl --test model_golden` and review the diff.
//! The output must also be exactly what rustfmt makes of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use rzeroctl::files::{GENERATED_HEADER, Written};
use rzeroctl::model::{DdlArgs, generate};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/model")
}

/// A fresh output directory for one test.
fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rzeroctl-model-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn sorted_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn check_golden(variant: &str, cache: bool) {
    let out = out_dir(variant);
    let mut args = DdlArgs::new(data().join("shop.sql"), &out);
    args.cache = cache;
    args.database = Some("shop".into());
    generate(&args).expect("generates");

    let golden = data().join("golden").join(variant);
    let bless = std::env::var_os("RZEROCTL_BLESS").is_some();
    if bless {
        let _ = std::fs::remove_dir_all(&golden);
        std::fs::create_dir_all(&golden).expect("golden dir");
    }
    let files = sorted_files(&out);
    for name in &files {
        let got = std::fs::read_to_string(out.join(name)).expect("generated file");
        let path = golden.join(name);
        if bless {
            std::fs::write(&path, &got).expect("bless");
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; bless with RZEROCTL_BLESS=1", path.display()));
        assert!(
            got == want,
            "{} drifted from {}; if intended, run RZEROCTL_BLESS=1 cargo test -p rzeroctl \
             --test model_golden and review the diff",
            out.join(name).display(),
            path.display()
        );
    }
    assert_eq!(
        sorted_files(&golden),
        files,
        "golden files differ from generated ones"
    );

    // rustfmt leaves the output as it is (rustfmt ships with every toolchain CI uses).
    let rs: Vec<PathBuf> = files
        .iter()
        .filter(|n| n.ends_with(".rs"))
        .map(|n| out.join(n))
        .collect();
    let fmt = Command::new("rustfmt")
        .args(["--edition", "2024", "--check"])
        .args(&rs)
        .output()
        .expect("run rustfmt");
    assert!(
        fmt.status.success(),
        "generated code is not rustfmt-clean:\n{}",
        String::from_utf8_lossy(&fmt.stdout)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn plain_model_matches_golden() {
    check_golden("plain", false);
}

#[test]
fn cached_model_matches_golden() {
    check_golden("cache", true);
}

#[test]
fn regeneration_keeps_the_users_file_and_rewrites_the_generated_one() {
    let out = out_dir("regen");
    let args = DdlArgs::new(data().join("shop.sql"), &out);
    let first = generate(&args).expect("generates");
    assert!(
        first.iter().all(|w| matches!(w, Written::Created(_))),
        "{first:?}"
    );

    let user = out.join("user_model.rs");
    let gen_file = out.join("user_model_gen.rs");
    let edited = format!(
        "{}\n// my own query goes here\n",
        std::fs::read_to_string(&user).expect("user file")
    );
    std::fs::write(&user, &edited).expect("edit user file");
    let pristine = std::fs::read_to_string(&gen_file).expect("gen file");
    let stale = format!("{GENERATED_HEADER}\n// stale\n");
    std::fs::write(&gen_file, &stale).expect("spoil gen file");

    let second = generate(&args).expect("regenerates");
    assert_eq!(std::fs::read_to_string(&user).expect("user file"), edited);
    assert_eq!(
        std::fs::read_to_string(&gen_file).expect("gen file"),
        pristine
    );
    assert!(second.contains(&Written::Kept(user.clone())), "{second:?}");
    assert!(
        second.contains(&Written::Updated(gen_file.clone())),
        "{second:?}"
    );
    assert!(
        second.contains(&Written::Kept(out.join("mod.rs"))),
        "{second:?}"
    );

    // A second schema into the same directory: `mod.rs` declares both sets of tables.
    let other = out.join("other.sql");
    std::fs::write(
        &other,
        "CREATE TABLE audit_log (id bigint PRIMARY KEY, note text);",
    )
    .expect("sql");
    generate(&DdlArgs::new(&other, &out)).expect("second schema");
    let module = std::fs::read_to_string(out.join("mod.rs")).expect("mod.rs");
    for m in [
        "mod audit_log_model_gen;",
        "mod user_model_gen;",
        "mod product_stock_model;",
    ] {
        assert!(module.contains(m), "{m} missing from:\n{module}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn odd_names_still_generate_valid_rust() {
    let out = out_dir("odd");
    let src = out.with_extension("sql");
    std::fs::write(
        &src,
        "CREATE TABLE `Order Items` (\n\
           `type` int NOT NULL AUTO_INCREMENT,\n\
           `we``ird\nname` varchar(10) NOT NULL COMMENT 'multi\nline ``comment`` */',\n\
           `self` bigint NULL,\n\
           `2fa` bool,\n\
           `Größe` decimal(4,1),\n\
           PRIMARY KEY (`type`),\n\
           UNIQUE KEY (`self`, `2fa`),\n\
           UNIQUE KEY (`we``ird\nname`)\n\
         ) COMMENT = 'orders'' items';",
    )
    .expect("sql");
    for cache in [false, true] {
        let mut args = DdlArgs::new(&src, &out);
        args.cache = cache;
        args.database = Some("we\"ird".into());
        generate(&args).expect("generates");
        // rustfmt parses every file: a syntax error fails it (layout is not checked here).
        for name in sorted_files(&out) {
            let fmt = Command::new("rustfmt")
                .args(["--edition", "2024", "--emit", "stdout"])
                .arg(out.join(&name))
                .output()
                .expect("run rustfmt");
            assert!(
                fmt.status.success(),
                "{name} does not parse:\n{}",
                String::from_utf8_lossy(&fmt.stderr)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_file(&src);
}

#[test]
fn migration_files_in_order_make_the_last_schemas_model() {
    let out = out_dir("files");
    std::fs::create_dir_all(&out).expect("dir");
    let first = out.join("1_create.sql");
    let second = out.join("2_alter.sql");
    std::fs::write(
        &first,
        "CREATE TABLE item (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(9) NOT NULL);\n\
         INSERT IGNORE INTO item (id, name) VALUES (1, 'one');",
    )
    .expect("sql");
    std::fs::write(
        &second,
        "ALTER TABLE item ADD COLUMN code varchar(8) NULL;\n\
         CREATE UNIQUE INDEX item_code ON item (code);",
    )
    .expect("sql");
    let mut args = DdlArgs::new(&first, out.join("model"));
    args.src.push(second.clone());
    generate(&args).expect("generates");
    let model = std::fs::read_to_string(out.join("model/item_model_gen.rs")).expect("model");
    assert!(model.contains("pub code: Option<String>,"), "{model}");
    assert!(model.contains("pub async fn find_one_by_code("), "{model}");
    let schema = std::fs::read_to_string(out.join("model/schema.rs")).expect("schema");
    for want in [
        "Migration::new(\n            1,\n            \"1_create.sql\"",
        "Migration::new(\n            2,\n            \"2_alter.sql\"",
        "\"ALTER TABLE \\\"item\\\" ADD COLUMN \\\"code\\\" TEXT;\\n\"",
        "\"INSERT OR IGNORE INTO \\\"item\\\" (\\\"id\\\", \\\"name\\\") VALUES\\n  (1, 'one');\\n\"",
    ] {
        assert!(schema.contains(want), "{want} not in\n{schema}");
    }
    // The other order cannot work: the second file alters a table not created yet.
    let mut wrong = DdlArgs::new(&second, out.join("wrong"));
    wrong.src.push(first);
    let e = generate(&wrong).expect_err("refused").to_string();
    assert!(
        e.contains("2_alter.sql:1:1:") && e.contains("not created before"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
