//! `<table>_model_gen.rs` and `<table>_model.rs`: the row type, its decoding, the SQL
//! and cache-key constants, and the model type whose queries [`queries`](super::queries)
//! writes.
//!
//! Output is written already formatted as rustfmt would (the golden tests run
//! `rustfmt --check` on it), so a generated file reads like a hand-written one and
//! `cargo fmt` in the user's crate changes nothing.

use super::ddl::{Column, Table};
use super::layout;
use super::naming::{self, TableNames};
use super::queries;
use super::types::RustType;
use crate::files::GENERATED_HEADER;

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub(super) struct Options {
    /// `--cache`: cache-aside through `CachedConn`.
    pub(super) cache: bool,
    /// `--database`: the `<db>` of cache keys `cache:<db>:<table>:<column>:<value>`.
    pub(super) database: Option<String>,
    /// `--ignore-columns`: left to the database's default on insert and update.
    pub(super) ignore: Vec<String>,
}

/// One table's generation context.
pub(super) struct Model<'a> {
    pub(super) t: &'a Table,
    pub(super) names: TableNames,
    /// Field names, one per column.
    pub(super) fields: Vec<String>,
    pub(super) opts: &'a Options,
}

// === impl Model ===

impl<'a> Model<'a> {
    /// The context for `t`; fails on names that clash once made Rust identifiers, or on
    /// cache keys `--cache` cannot spell.
    pub(super) fn new(t: &'a Table, opts: &'a Options) -> Result<Self, String> {
        let fields: Vec<String> = t.columns.iter().map(|c| naming::field(&c.name)).collect();
        for (i, f) in fields.iter().enumerate() {
            if let Some(j) = fields[..i].iter().position(|g| g == f) {
                return Err(format!(
                    "table `{}`: columns `{}` and `{}` both become the field `{f}`; rename one",
                    t.name, t.columns[j].name, t.columns[i].name
                ));
            }
        }
        if opts.cache {
            let keys = std::iter::once(&t.primary).chain(&t.uniques);
            if let Some(c) = keys
                .flat_map(|k| t.key_columns(k))
                .find(|c| c.ty.rust == RustType::Bytes)
            {
                return Err(format!(
                    "table `{}`, column `{}`: a BLOB key cannot be part of a cache key; \
                     generate without --cache or key on a text column",
                    t.name, c.name
                ));
            }
        }
        Ok(Model {
            t,
            names: TableNames::new(&t.name),
            fields,
            opts,
        })
    }

    /// The field of column `i`.
    pub(super) fn field(&self, i: usize) -> &str {
        &self.fields[i]
    }

    /// A field name as a plain variable name (`type_` for `r#type`), so `format!` can
    /// inline it.
    pub(super) fn var(&self, i: usize) -> String {
        match self.fields[i].strip_prefix("r#") {
            Some(kw) => format!("{kw}_"),
            None => self.fields[i].clone(),
        }
    }

    /// The quoted table.
    pub(super) fn table(&self) -> String {
        naming::quote_ident(&self.t.name)
    }

    /// Whether column `i` is left to the database on insert and update.
    pub(super) fn ignored(&self, i: usize) -> bool {
        let c = &self.t.columns[i];
        c.has_default
            && !self.t.primary.contains(&i)
            && self
                .opts
                .ignore
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&c.name))
    }

    /// The `SELECT` list: every column, cast where `Any` needs it.
    pub(super) fn rows(&self) -> String {
        let cols: Vec<String> = self.t.columns.iter().map(select_expr).collect();
        cols.join(", ")
    }

    /// `a = ? AND b = ?` over `key`.
    pub(super) fn where_key(&self, key: &[usize]) -> String {
        let parts: Vec<String> = self
            .t
            .key_columns(key)
            .map(|c| format!("{} = ?", naming::quote_ident(&c.name)))
            .collect();
        parts.join(" AND ")
    }

    /// The name of the cache-key prefix constant of `key`.
    pub(super) fn prefix_const(&self, key: &[usize]) -> String {
        let mut name = String::from("CACHE_");
        if let Some(db) = &self.opts.database {
            name.push_str(&naming::upper(db));
            name.push('_');
        }
        name.push_str(&self.names.upper);
        for c in self.t.key_columns(key) {
            name.push('_');
            name.push_str(&naming::upper(&c.name));
        }
        name.push_str("_PREFIX");
        name
    }

    /// go-zero's key prefix: `cache:[<db>:]<table>:<column>[:<column>]:`.
    fn prefix_value(&self, key: &[usize]) -> String {
        let mut v = String::from("cache:");
        if let Some(db) = &self.opts.database {
            v.push_str(db);
            v.push(':');
        }
        v.push_str(&self.t.name);
        for c in self.t.key_columns(key) {
            v.push(':');
            v.push_str(&c.name);
        }
        v.push(':');
        v
    }

    /// The whole `<table>_model_gen.rs`.
    pub(super) fn gen_file(&self) -> String {
        let n = &self.names;
        let mut o = format!("{GENERATED_HEADER}\n");
        o.push_str(&format!(
            "//! The `{}` table: [`{}`] rows and [`{}`]'s queries{}.\n\
             //! Add your own queries to `{}_model.rs`.\n",
            naming::in_doc(&self.t.name),
            n.row,
            n.model,
            if self.opts.cache {
                " through the cache"
            } else {
                ""
            },
            n.stem
        ));
        o.push_str(
            "// A model offers every query and a service calls some.\n#![allow(dead_code)]\n\n",
        );
        o.push_str(&self.imports());
        o.push_str(&self.consts());
        o.push_str(&self.row_struct());
        o.push_str(&format!(
            "\n/// Queries on `{}`{}.\n#[derive(Clone, Debug)]\npub struct {} {{\n    pub(super) conn: {},\n}}\n",
            naming::in_doc(&self.t.name),
            if self.opts.cache {
                ", cache-aside: reads through the cache, writes drop the row's keys"
            } else {
                ""
            },
            n.model,
            self.conn_type()
        ));
        o.push_str(&self.decode_impl());
        o.push_str(&format!(
            "\n// === impl {} ===\n\nimpl {} {{\n",
            n.model, n.model
        ));
        o.push_str(&queries::methods(self));
        o.push_str("}\n");
        o
    }

    /// `SqlPool` or `CachedConn`.
    pub(super) fn conn_type(&self) -> &'static str {
        if self.opts.cache {
            "CachedConn"
        } else {
            "SqlPool"
        }
    }

    fn imports(&self) -> String {
        let conn = if self.opts.cache {
            "use rzero::stores::cache::CachedConn;\n"
        } else {
            "use rzero::stores::sql::SqlPool;\n"
        };
        format!(
            "use rzero::stores::StoreError;\n{conn}use rzero::stores::sqlx::any::AnyRow;\n\
             use rzero::stores::sqlx::{{self, FromRow, Row}};\nuse serde::{{Deserialize, Serialize}};\n\n\
             use super::vars;\n\n"
        )
    }

    fn consts(&self) -> String {
        let n = &self.names;
        let mut o = String::from("/// The table, quoted for SQL.\n");
        o.push_str(&layout::const_str(
            &format!("{}_TABLE", n.upper),
            &self.table(),
        ));
        o.push_str("/// Every column as the model's `SELECT`s read them, for your own queries.\n");
        o.push_str(&layout::const_str(
            &format!("{}_ROWS", n.upper),
            &self.rows(),
        ));
        if self.opts.cache {
            for key in std::iter::once(&self.t.primary).chain(&self.t.uniques) {
                let cols: Vec<String> = self
                    .t
                    .key_columns(key)
                    .map(|c| naming::in_doc(&c.name))
                    .collect();
                o.push_str(&format!(
                    "/// Cache-key prefix of rows by `{}`.\n",
                    cols.join("`, `")
                ));
                o.push_str(&layout::const_str(
                    &self.prefix_const(key),
                    &self.prefix_value(key),
                ));
            }
        }
        o
    }

    fn row_struct(&self) -> String {
        let n = &self.names;
        let mut o = format!("\n/// A row of `{}`", naming::in_doc(&self.t.name));
        match &self.t.comment {
            Some(c) if !c.trim().is_empty() => {
                o.push_str(".\n///\n");
                o.push_str(&naming::doc_lines("", c));
            }
            _ => o.push_str(".\n"),
        }
        o.push_str(&format!(
            "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct {} {{\n",
            n.row
        ));
        for (i, c) in self.t.columns.iter().enumerate() {
            o.push_str(&field_doc(c));
            o.push_str(&format!("    pub {}: {},\n", self.field(i), field_type(c)));
        }
        o.push_str("}\n");
        o
    }

    fn decode_impl(&self) -> String {
        let n = &self.names;
        let mut o = format!(
            "\n// === impl {} ===\n\nimpl<'r> FromRow<'r, AnyRow> for {} {{\n    \
             fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {{\n        Ok({} {{\n",
            n.row, n.row, n.row
        );
        for (i, c) in self.t.columns.iter().enumerate() {
            o.push_str(&format!(
                "            {}: {},\n",
                self.field(i),
                decode_expr(c)
            ));
        }
        o.push_str("        })\n    }\n}\n");
        o
    }
}

/// The `<table>_model.rs` the user owns: an empty `impl` to put queries in.
pub(super) fn user_file(names: &TableNames, table: &str) -> String {
    format!(
        "//! Your queries on the `{table}` table. rzeroctl wrote this file once and never\n\
         //! rewrites it: add methods to [`{model}`] below, next to the generated ones in\n\
         //! `{stem}_model_gen.rs` (whose `{upper}_TABLE` and `{upper}_ROWS` help write SQL).\n\n\
         use super::{stem}_model_gen::{model};\n\n\
         impl {model} {{\n    \
         // pub async fn find_all(&self) -> Result<Vec<{row}>, StoreError> {{ ... }}\n}}\n",
        table = naming::in_doc(table),
        model = names.model,
        stem = names.stem,
        upper = names.upper,
        row = names.row,
    )
}

/// The `SELECT` expression of a column.
fn select_expr(c: &Column) -> String {
    let q = naming::quote_ident(&c.name);
    match c.ty.cast {
        Some(cast) => format!("CAST({q} AS {cast}) AS {q}"),
        None => q,
    }
}

/// The Rust type of a column's field.
pub(super) fn field_type(c: &Column) -> String {
    if c.nullable {
        format!("Option<{}>", c.ty.rust.name())
    } else {
        c.ty.rust.name().to_owned()
    }
}

/// How `from_row` reads a column.
fn decode_expr(c: &Column) -> String {
    let name = naming::lit(&c.name);
    match (c.ty.rust, c.nullable) {
        // MySQL sends TEXT and long casts as blobs: `vars` accepts both.
        (RustType::String, false) => format!("vars::text(row, {name})?"),
        (RustType::String, true) => format!("vars::opt_text(row, {name})?"),
        (RustType::Bool, false) => format!("row.try_get::<i64, _>({name})? != 0"),
        (RustType::Bool, true) => format!("row.try_get::<Option<i64>, _>({name})?.map(|v| v != 0)"),
        _ => format!("row.try_get({name})?"),
    }
}

fn field_doc(c: &Column) -> String {
    match &c.comment {
        Some(text) if !text.trim().is_empty() => naming::doc_lines("    ", text),
        _ => format!("    /// `{}`.\n", naming::in_doc(&c.name)),
    }
}
