//! Hostile input to `rzeroctl model mysql ddl`: text from the DDL (names, comments,
//! `COMMENT` strings, seed values) lands in doc comments and string literals and never
//! changes the structure of the output; what cannot be carried is refused with
//! file:line:column; a file the user took over (no header) is never overwritten.
//! `model_live` compiles and runs the same hostile schema's model and migrations.

use std::path::{Path, PathBuf};

use rzeroctl::model::{DdlArgs, generate};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/model")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rzeroctl-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The names of a file's top-level items and of the functions in its `impl` blocks.
fn shape(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read");
    let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Use(_) => out.push("use".into()),
            syn::Item::Const(c) => out.push(format!("const {}", c.ident)),
            syn::Item::Struct(s) => out.push(format!("struct {}", s.ident)),
            syn::Item::Mod(m) => out.push(format!("mod {}", m.ident)),
            syn::Item::Fn(f) => out.push(format!("fn {}", f.sig.ident)),
            syn::Item::Impl(i) => {
                for it in &i.items {
                    if let syn::ImplItem::Fn(f) = it {
                        out.push(format!("impl fn {}", f.sig.ident));
                    }
                }
            }
            other => out.push(format!("other {}", quote_kind(other))),
        }
    }
    out
}

fn quote_kind(item: &syn::Item) -> &'static str {
    match item {
        syn::Item::Macro(_) => "macro",
        _ => "item",
    }
}

#[test]
fn hostile_names_comments_and_seeds_stay_inside_comments_and_literals() {
    let out = out_dir("shape");
    for cache in [false, true] {
        let mut args = DdlArgs::new(data().join("hostile.sql"), &out);
        args.cache = cache;
        args.database = Some("db\"*/\n".into());
        generate(&args).expect("generates");
        let gen_file = out.join("we_ird_table_fn_evil_model_gen.rs");
        let got = shape(&gen_file);
        let mut want: Vec<String> = ["use", "use", "use", "use", "use", "use"]
            .map(String::from)
            .to_vec();
        want.push("const WE_IRD_TABLE_FN_EVIL_TABLE".into());
        want.push("const WE_IRD_TABLE_FN_EVIL_ROWS".into());
        if cache {
            want.push("const CACHE_DB_WE_IRD_TABLE_FN_EVIL_ID_PREFIX".into());
            want.push("const CACHE_DB_WE_IRD_TABLE_FN_EVIL_NA_ME_PREFIX".into());
        }
        want.push("struct WeIrdTableFnEvil".into());
        want.push("struct WeIrdTableFnEvilModel".into());
        want.push("impl fn from_row".into());
        for f in [
            "new",
            "insert",
            "find_one",
            "find_one_by_na_me",
            "update",
            "delete",
        ] {
            want.push(format!("impl fn {f}"));
        }
        if cache {
            want.push("impl fn cache_keys".into());
            want.push("impl fn unique_keys".into());
        }
        assert_eq!(got, want, "cache: {cache}");
        // The fields are the three columns, the odd ones renamed.
        let text = std::fs::read_to_string(&gen_file).expect("read");
        for f in [
            "pub id: i64,",
            "pub na_me: String,",
            "pub column: Option<i32>,",
        ] {
            assert!(text.contains(f), "{f} missing");
        }
        // Every line that mentions the hostile text is a comment or holds a literal.
        for line in text.lines().filter(|l| l.contains("evil")) {
            let t = line.trim_start();
            assert!(
                t.starts_with("//") || t.contains('"') || !t.contains("fn evil"),
                "hostile text escaped its comment or literal: {line}"
            );
        }
        let schema = shape(&out.join("schema.rs"));
        assert_eq!(
            schema,
            [
                "use",
                "const HOSTILE_1_MYSQL",
                "const HOSTILE_1_SQLITE",
                "fn migrations"
            ]
        );
        let module = shape(&out.join("mod.rs"));
        assert_eq!(
            module,
            [
                "mod schema",
                "mod vars",
                "mod we_ird_table_fn_evil_model",
                "mod we_ird_table_fn_evil_model_gen",
                "use"
            ]
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// `sql` in a file; the error generating from it.
fn refused(name: &str, sql: &str) -> (String, String) {
    let dir = out_dir(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let src = dir.join(format!("{name}.sql"));
    std::fs::write(&src, sql).expect("sql");
    let e = generate(&DdlArgs::new(&src, dir.join("model")))
        .expect_err("refused")
        .to_string();
    assert!(!dir.join("model").exists(), "nothing written for {name}");
    let _ = std::fs::remove_dir_all(&dir);
    (e, src.display().to_string())
}

#[test]
fn what_migrations_cannot_carry_is_refused_with_its_place() {
    let table = "CREATE TABLE t (\n  id int PRIMARY KEY,\n  n int\n);\n";
    let cases = [
        ("select", format!("{table}\nINSERT INTO t SELECT 1, 2;"), ":6:1: "),
        (
            "upsert",
            format!("{table}INSERT INTO t VALUES (1, 2)\n  ON DUPLICATE KEY UPDATE n = 3;"),
            ":5:1: ",
        ),
        ("alter", format!("{table}\n\nALTER TABLE t DROP COLUMN n;"), ":7:1: "),
        (
            "unique_add",
            format!("{table}ALTER TABLE t ADD COLUMN u int UNIQUE;"),
            ":5:1: ",
        ),
        (
            "not_null_add",
            format!("{table}ALTER TABLE t ADD COLUMN v int NOT NULL;"),
            ":5:1: ",
        ),
        (
            "now_add",
            format!("{table}\nALTER TABLE t ADD COLUMN w datetime DEFAULT NOW();"),
            ":6:1: ",
        ),
        ("unknown", "CREATE TABLE t (id int PRIMARY KEY);\nALTER TABLE x ADD c int;".to_owned(), ":2:1: "),
        (
            "autoinc",
            "-- a composite key cannot be SQLite's rowid\nCREATE TABLE t (a int AUTO_INCREMENT, b int, PRIMARY KEY (a, b));"
                .to_owned(),
            ":2:1: ",
        ),
        (
            "generated",
            "CREATE TABLE t (id int PRIMARY KEY,\n  twice int AS (id * 2));".to_owned(),
            ":1:1: ",
        ),
        (
            "unterminated",
            "CREATE TABLE t (id int PRIMARY KEY COMMENT 'never closed\n);".to_owned(),
            ":1:",
        ),
    ];
    for (name, sql, at) in cases {
        let (e, src) = refused(name, &sql);
        assert!(e.contains(&format!("{src}{at}")), "{name}: {e}");
    }
}

#[test]
fn a_file_the_user_took_over_is_never_overwritten() {
    for taken in ["mod.rs", "schema.rs", "vars.rs", "user_model_gen.rs"] {
        let out = out_dir("taken");
        let args = DdlArgs::new(data().join("shop.sql"), &out);
        generate(&args).expect("first run");
        let mine = "// my own module now\npub mod mine;\n";
        std::fs::write(out.join(taken), mine).expect("take over");
        std::fs::remove_file(out.join("product_stock_model_gen.rs")).expect("remove one");
        let e = generate(&args).expect_err("refused").to_string();
        assert!(
            e.contains(taken) && e.contains("not generated by rzeroctl"),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join(taken)).expect("kept"),
            mine
        );
        assert!(
            !out.join("product_stock_model_gen.rs").exists(),
            "nothing is written when one file is refused"
        );
        let _ = std::fs::remove_dir_all(&out);
    }
}
