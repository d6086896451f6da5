//! Bad input to `rzeroctl model mysql ddl`: every case is an error naming the file and
//! what to fix, nothing is written, and nothing panics.

use std::path::PathBuf;

use rzeroctl::model::{DdlArgs, ddl};

/// `sql` in a file of its own; the error `ddl` returns for it, and the output dir.
fn fails(name: &str, sql: &[u8]) -> (String, PathBuf, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("rzeroctl-model-err-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let src = dir.join(format!("{name}.sql"));
    std::fs::write(&src, sql).expect("write sql");
    let out = dir.join("model");
    let e = ddl(&DdlArgs::new(&src, &out))
        .expect_err("must fail")
        .to_string();
    assert!(
        e.contains(&src.display().to_string()),
        "error does not name the file: {e}"
    );
    assert!(!out.exists(), "nothing is written for bad input");
    (e, src, dir)
}

#[test]
fn malformed_ddl_reports_the_line_and_column() {
    let (e, src, _) = fails(
        "syntax",
        b"CREATE TABLE t (\n  id int PRIMARY KEY,\n  name varchar(10) NOT NUL\n);",
    );
    // file:line:column, as compilers say it.
    let at = format!("{}:3:", src.display());
    assert!(e.contains(&at), "{e}");
}

#[test]
fn a_table_without_primary_key_is_refused() {
    let (e, ..) = fails("nopk", b"CREATE TABLE logs (id int NOT NULL, msg text);");
    assert!(
        e.contains("table `logs` has no primary key") && e.contains("PRIMARY KEY"),
        "{e}"
    );
}

#[test]
fn an_unknown_column_type_names_table_and_column() {
    let (e, ..) = fails(
        "type",
        b"CREATE TABLE t (id int PRIMARY KEY, area polygon);",
    );
    assert!(
        e.contains("table `t`, column `area`") && e.contains("POLYGON"),
        "{e}"
    );
}

#[test]
fn empty_and_statement_free_files_are_refused() {
    let (e, ..) = fails("empty", b"");
    assert!(e.contains("empty"), "{e}");
    let (e, ..) = fails("blank", b"  \n-- only a comment\n");
    assert!(e.contains("no `CREATE TABLE`"), "{e}");
    let (e, ..) = fails("select", b"SELECT 1;");
    assert!(e.contains("no `CREATE TABLE`"), "{e}");
}

#[test]
fn a_missing_source_says_so() {
    let src = std::env::temp_dir().join("rzeroctl-model-no-such-file.sql");
    let out =
        std::env::temp_dir().join(format!("rzeroctl-model-err-missing-{}", std::process::id()));
    let e = ddl(&DdlArgs::new(&src, &out))
        .expect_err("must fail")
        .to_string();
    assert!(e.contains("no such file") && e.contains("--src"), "{e}");
    assert!(!out.exists());
}

#[test]
fn binary_and_huge_files_are_refused_before_parsing() {
    let (e, ..) = fails("binary", &[0xff, 0xfe, 0x00, 0x9f]);
    assert!(e.contains("UTF-8") || e.contains("utf-8"), "{e}");
    let mut huge = b"CREATE TABLE t (id int PRIMARY KEY);\n".to_vec();
    huge.resize(5 * 1024 * 1024, b' ');
    let (e, ..) = fails("huge", &huge);
    assert!(e.contains("more than"), "{e}");
}

#[test]
fn deeply_nested_sql_is_an_error_not_a_crash() {
    let nested = format!(
        "CREATE TABLE t (id int PRIMARY KEY DEFAULT {}1{});",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let (e, ..) = fails("nested", nested.as_bytes());
    assert!(
        e.contains("nests too deeply") || e.contains("not valid"),
        "{e}"
    );
}
