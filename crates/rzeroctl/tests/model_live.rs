//! The models `rzeroctl model mysql ddl` generates, built with real cargo and run
//! against the real MariaDB (127.0.0.1:3306, root) and Redis (127.0.0.1:6379), then an
//! in-memory SQLite: the generated migrations (schema and seed rows) applied on both,
//! plain and cached models, every method, conflicts, not-found, and cache invalidation
//! on writes.
//!
//! The program is `tests/data/model/live_main.rs`; it works in a database of its own
//! (`rzeroctl_model_<pid>_<nanos>`, dropped afterwards: sqlx's migrator keeps its
//! `_sqlx_migrations` table per database, so tests cannot share `test`) and, with the cache, under keys
//! prefixed with that name (`cache:<db>:...`, expiring within a minute).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use rzeroctl::cargo::{RzeroSource, versions};
use rzeroctl::model::{DdlArgs, generate};

#[test]
fn generated_models_work_against_mariadb_and_redis() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/model");
    let dir = common::scratch("model_live");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    let db = format!("rzeroctl_model_{}_{nanos}", std::process::id());

    let rzero = RzeroSource::Path(common::workspace_root()).dependency(&["stores"]);
    let manifest = format!(
        "[package]\nname = \"model_live\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n{rzero}\n\
         serde = {{ version = \"{}\", features = [\"derive\"] }}\n\
         tokio = {{ version = \"{}\", features = [\"rt-multi-thread\", \"macros\"] }}\n",
        versions::SERDE,
        versions::TOKIO
    );
    std::fs::create_dir_all(dir.join("src")).expect("src dir");
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
    std::fs::copy(data.join("live_main.rs"), dir.join("src/main.rs")).expect("main.rs");

    let mut plain = DdlArgs::new(data.join("shop.sql"), dir.join("src/plain"));
    plain.rzero_path = Some(common::workspace_root());
    generate(&plain).expect("plain model generates");
    let cached = DdlArgs {
        dir: dir.join("src/cache"),
        cache: true,
        database: Some(db.clone()),
        ..plain
    };
    generate(&cached).expect("cached model generates");
    // Hostile names, comments and seeds: the model compiles and runs as any other.
    let hostile = DdlArgs {
        src: vec![data.join("hostile.sql")],
        dir: dir.join("src/hostile"),
        cache: true,
        ..DdlArgs::new("", "")
    };
    generate(&hostile).expect("hostile model generates");
    // order-rpc's own migration files (read, not changed): the generated migrations and
    // models are what would replace its hand-written `migrations()` and SQLite files.
    let migrations = common::workspace_root().join("services/order-rpc/migrations");
    let orders = DdlArgs {
        src: vec![migrations.join("mysql.sql"), migrations.join("mysql_2.sql")],
        dir: dir.join("src/orders"),
        cache: true,
        ..DdlArgs::new("", "")
    };
    generate(&orders).expect("order-rpc's model generates");

    // Warnings in generated code fail the build.
    common::cargo(&dir, &["clippy", "--quiet", "--", "-D", "warnings"]);
    common::cargo(&dir, &["build", "--quiet"]);
    let bin = common::binary("model_live");
    let run = Command::new(&bin)
        .args(["run", &db])
        .output()
        .expect("run model_live");
    let drop = Command::new(&bin)
        .args(["drop", &db])
        .output()
        .expect("drop database");
    let show = |o: &std::process::Output| {
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(
        run.status.success(),
        "model_live run failed:\n{}",
        show(&run)
    );
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        out.contains("plain models: ok")
            && out.contains("cached models: ok")
            && out.contains("sqlite models: ok")
            && out.contains("hostile model: ok")
            && out.contains("order-rpc schema: ok"),
        "{out}"
    );
    assert!(
        drop.status.success(),
        "dropping {db} failed:\n{}",
        show(&drop)
    );
}
