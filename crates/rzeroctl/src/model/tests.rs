//! Unit tests of the model generator: parsing, type mapping, naming, and inputs that
//! must fail cleanly (or at least never panic).

use super::ddl::{self, Table};
use super::emit::{Model, Options};
use super::naming;
use super::types::RustType;

const SHOP: &str = include_str!("../../tests/data/model/shop.sql");

fn one(sql: &str) -> Table {
    let mut tables = ddl::parse(sql).expect("parses").tables;
    assert_eq!(tables.len(), 1);
    tables.remove(0)
}

fn err(sql: &str) -> String {
    ddl::parse(sql).expect_err("fails").to_string()
}

#[test]
fn fixture_keys_and_columns() {
    let tables = ddl::parse(SHOP).expect("parses").tables;
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["user", "product_stock"]);
    let user = &tables[0];
    let col = |n: &str| user.columns.iter().position(|c| c.name == n).expect(n);
    assert_eq!(user.primary, [col("id")]);
    assert_eq!(
        user.uniques,
        [
            vec![col("name")],
            vec![col("mobile")],
            vec![col("tenant"), col("email")]
        ]
    );
    assert!(user.columns[col("id")].auto_increment);
    assert!(user.columns[col("mobile")].nullable && !user.columns[col("name")].nullable);
    assert_eq!(
        user.columns[col("id")].comment.as_deref(),
        Some("the user id")
    );
    assert_eq!(user.comment.as_deref(), Some("users of the shop"));
    assert_eq!(user.columns[col("balance")].ty.rust, RustType::String);
    assert_eq!(user.columns[col("active")].ty.rust, RustType::Bool);

    let stock = &tables[1];
    assert_eq!(stock.primary, [0, 1]);
    assert_eq!(stock.uniques, [vec![2]]);
    assert!(stock.auto_increment().is_none());
}

#[test]
fn column_level_primary_key_and_redundant_uniques() {
    let t = one(
        "CREATE TABLE t (code varchar(8) PRIMARY KEY, a int UNIQUE KEY, b int,
         UNIQUE (code), UNIQUE KEY ab (a, b), UNIQUE KEY ab2 (a, b), KEY (b))",
    );
    assert_eq!(t.primary, [0]);
    assert!(!t.columns[0].nullable, "a primary key is NOT NULL");
    assert_eq!(t.uniques, [vec![1], vec![1, 2]]);
}

#[test]
fn types_map_to_what_any_decodes() {
    let t = one(
        "CREATE TABLE t (id int unsigned PRIMARY KEY, a tinyint(1), b smallint, c smallint unsigned,
         d mediumint, e bigint unsigned, f float, g double, h numeric(5,1), i datetime(6),
         j time, k year, l bit(1), m enum('x','y'), n longtext, o mediumblob, p char(36))",
    );
    let got: Vec<(RustType, Option<&str>)> =
        t.columns.iter().map(|c| (c.ty.rust, c.ty.cast)).collect();
    use RustType as R;
    let signed = Some("SIGNED");
    let char = Some("CHAR");
    assert_eq!(
        got,
        [
            (R::I64, signed),
            (R::I16, signed),
            (R::I16, None),
            (R::I32, signed),
            (R::I32, signed),
            (R::I64, None),
            (R::F32, None),
            (R::F64, None),
            (R::String, char),
            (R::String, char),
            (R::String, char),
            (R::I16, signed),
            (R::I64, Some("UNSIGNED")),
            (R::String, None),
            (R::String, None),
            (R::Bytes, None),
            (R::String, None),
        ]
    );
}

#[test]
fn names_become_rust_identifiers() {
    assert_eq!(naming::field("type"), "r#type");
    assert_eq!(naming::field("UserName"), "user_name");
    assert_eq!(naming::field("self"), "self_");
    assert_eq!(naming::field("2fa"), "c_2fa");
    assert_eq!(naming::field("e-mail address"), "e_mail_address");
    let n = naming::TableNames::new("OrderItems");
    assert_eq!(
        (n.stem.as_str(), n.row.as_str(), n.model.as_str()),
        ("order_items", "OrderItems", "OrderItemsModel")
    );
    assert_eq!(naming::TableNames::new("self").row, "TSelf");
    assert_eq!(naming::quote_ident("we`ird"), "`we``ird`");
}

#[test]
fn bad_ddl_says_what_and_where() {
    let e = err("CREATE TABLE t (\n  id int PRIMARY KEY,,\n  name text\n)");
    assert!(e.starts_with(":2:"), "{e}");
    let e = err("CREATE TABLE t (id int, name text)");
    assert!(e.contains("table `t` has no primary key"), "{e}");
    let e = err("CREATE TABLE t (id int PRIMARY KEY, shape geometry)");
    assert!(
        e.contains("column `shape`") && e.contains("GEOMETRY"),
        "{e}"
    );
    let e = err("CREATE TABLE t (id varbinary(16) PRIMARY KEY)");
    assert!(e.contains("BLOB"), "{e}");
    let e = err("CREATE TABLE t (id int PRIMARY KEY, PRIMARY KEY (id))");
    assert!(e.contains("twice"), "{e}");
    let e = err("CREATE TABLE t (id int PRIMARY KEY, UNIQUE KEY (nope))");
    assert!(e.contains("unknown column `nope`"), "{e}");
    let e = err("CREATE TABLE t (id varchar(3) AUTO_INCREMENT PRIMARY KEY)");
    assert!(e.contains("AUTO_INCREMENT"), "{e}");
    let e = err("SELECT 1; DROP TABLE x");
    assert!(e.contains("no `CREATE TABLE`"), "{e}");
    let e = err("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE T (id int PRIMARY KEY)");
    assert!(e.contains("twice"), "{e}");
}

#[test]
fn clashing_field_names_and_blob_cache_keys_are_refused() {
    let t = one("CREATE TABLE t (id int PRIMARY KEY, `a-b` int, a_b int)");
    let e = Model::new(&t, &Options::default()).err().expect("clash");
    assert!(e.contains("`a-b`") && e.contains("`a_b`"), "{e}");
    let t = one("CREATE TABLE t (id int PRIMARY KEY, h blob, UNIQUE KEY (h(16)))");
    assert!(Model::new(&t, &Options::default()).is_ok());
    let cache = Options {
        cache: true,
        ..Options::default()
    };
    let e = Model::new(&t, &cache).err().expect("blob key");
    assert!(e.contains("column `h`"), "{e}");
}

/// A small deterministic generator: the loop below is the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_ddl_never_panics() {
    const PIECES: &[&str] = &[
        "(",
        ")",
        ",",
        "`",
        "'",
        ";",
        " ",
        "\n",
        "--",
        "/*",
        "*/",
        "PRIMARY KEY",
        "UNIQUE",
        "KEY",
        "NOT NULL",
        "DEFAULT",
        "AUTO_INCREMENT",
        "int",
        "varchar(",
        "decimal(",
        "CREATE TABLE",
        "COMMENT",
        "\u{1F600}",
        "é",
        "0",
        "9999999999999999999999",
        "\\",
        "\"",
        "self",
        "type",
    ];
    let shop: Vec<char> = SHOP.chars().collect();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let cache = Options {
        cache: true,
        database: Some("db".into()),
        ignore: vec!["create_time".into()],
    };
    for round in 0..1500 {
        let mut s = shop.clone();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(s.len() + 1);
            match rng.below(4) {
                0 if at < s.len() => {
                    let end = (at + 1 + rng.below(20)).min(s.len());
                    s.drain(at..end);
                }
                1 => s.truncate(at),
                _ => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    s.splice(at..at, piece.chars());
                }
            }
        }
        let sql: String = if round % 10 == 0 {
            // Token soup, not a mutated schema.
            (0..rng.below(60))
                .map(|_| PIECES[rng.below(PIECES.len())])
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            s.into_iter().collect()
        };
        if let Ok(schema) = ddl::parse(&sql) {
            for t in &schema.tables {
                for opts in [&Options::default(), &cache] {
                    if let Ok(m) = Model::new(t, opts) {
                        // Rendering alone (rustfmt for every round would take minutes);
                        // the golden and hostile-input tests run the output through rustfmt.
                        m.gen_source().expect("renders");
                    }
                }
            }
        }
    }
}

/// The SQLite statements of `sql`.
fn sqlite(sql: &str) -> Vec<String> {
    let schema = ddl::parse(sql).expect("parses");
    schema
        .statements
        .iter()
        .flat_map(|s| super::sqlite::translate(s).expect("translates"))
        .collect()
}

#[test]
fn mysql_ddl_becomes_sqlite() {
    let got = sqlite(
        "CREATE TABLE `t` (id int unsigned NOT NULL AUTO_INCREMENT, d decimal(9,3) DEFAULT '1.500',
           at datetime(3) DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
           seen timestamp NULL DEFAULT NOW(), ok tinyint(1) DEFAULT false, b blob,
           body text COLLATE utf8mb4_bin, PRIMARY KEY (id), KEY (d, ok), FULLTEXT KEY ft (body))
           ENGINE=InnoDB AUTO_INCREMENT=100 DEFAULT CHARSET=utf8mb4;
         CREATE UNIQUE INDEX t_d ON t (d);
         REPLACE INTO t (d, ok) VALUES ('2.250', TRUE), (-1, NULL);",
    );
    assert_eq!(
        got,
        [
            "CREATE TABLE IF NOT EXISTS \"t\" (\n  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,\n  \
             \"d\" TEXT DEFAULT '1.500',\n  \"at\" TEXT DEFAULT CURRENT_TIMESTAMP,\n  \
             \"seen\" TEXT DEFAULT CURRENT_TIMESTAMP,\n  \"ok\" INTEGER DEFAULT 0,\n  \"b\" BLOB,\n  \
             \"body\" TEXT\n)",
            "CREATE INDEX IF NOT EXISTS \"t_d_ok\" ON \"t\" (\"d\", \"ok\")",
            "CREATE UNIQUE INDEX IF NOT EXISTS \"t_d\" ON \"t\" (\"d\")",
            "INSERT OR REPLACE INTO \"t\" (\"d\", \"ok\") VALUES\n  ('2.250', 1),\n  (-1, NULL)",
        ]
    );
}

#[test]
fn the_mysql_text_is_the_files_own() {
    let schema = ddl::parse(
        "/* head */ CREATE TABLE t ( -- the id\n id int PRIMARY KEY /* inline */, s text);\n\
         INSERT IGNORE INTO t VALUES (1, 'a\\'b');",
    )
    .expect("parses");
    let mysql: Vec<&str> = schema.statements.iter().map(|s| s.mysql.as_str()).collect();
    assert_eq!(
        mysql,
        [
            "CREATE TABLE IF NOT EXISTS t ( \n id int PRIMARY KEY  , s text)",
            "INSERT IGNORE INTO t VALUES (1, 'a\\'b')",
        ]
    );
    assert_eq!(
        sqlite(
            "CREATE TABLE t (id int PRIMARY KEY, s text); INSERT IGNORE INTO t VALUES (1, 'a\\'b\\\\');"
        )[1],
        "INSERT OR IGNORE INTO \"t\" VALUES\n  (1, 'a''b\\')"
    );
}
