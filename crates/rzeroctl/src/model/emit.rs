//! `<table>_model_gen.rs` and `<table>_model.rs`: the context the templates under
//! `templates/model/` render, and the rendering. What a piece of the file holds is
//! decided here (SQL text, binds, cache-key formats); how it is laid out is the
//! template's, and rustfmt's (`render_rust`), so `cargo fmt` in the user's crate changes
//! nothing.

use serde::Serialize;

use super::ddl::{Column, Table};
use super::naming::{self, TableNames};
use super::queries;
use super::types::RustType;
#[cfg(test)]
use crate::render::render;
use crate::render::render_rust;

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

/// A row field, as the template writes it.
#[derive(Serialize)]
struct Field {
    name: String,
    ty: String,
    /// The column's comment, or its name in a code span (one line: `comment` filter).
    doc: String,
    decode: String,
}

/// A cache-key prefix constant.
#[derive(Serialize)]
struct Prefix {
    name: String,
    value: String,
    columns: String,
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

    /// `SqlPool` or `CachedConn`.
    pub(super) fn conn_type(&self) -> &'static str {
        if self.opts.cache {
            "CachedConn"
        } else {
            "SqlPool"
        }
    }

    /// Everything `model/model_gen.rs.tpl` reads.
    fn context(&self) -> serde_json::Value {
        let n = &self.names;
        let fields: Vec<Field> = self
            .t
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field {
                name: self.field(i).to_owned(),
                ty: field_type(c),
                doc: match &c.comment {
                    Some(text) if !text.trim().is_empty() => text.trim().to_owned(),
                    _ => format!("`{}`.", naming::in_doc(&c.name)),
                },
                decode: decode_expr(c),
            })
            .collect();
        let prefixes: Vec<Prefix> = if self.opts.cache {
            std::iter::once(&self.t.primary)
                .chain(&self.t.uniques)
                .map(|key| Prefix {
                    name: self.prefix_const(key),
                    value: naming::lit(&self.prefix_value(key)),
                    columns: self
                        .t
                        .key_columns(key)
                        .map(|c| naming::in_doc(&c.name))
                        .collect::<Vec<_>>()
                        .join("`, `"),
                })
                .collect()
        } else {
            Vec::new()
        };
        serde_json::json!({
            "table": naming::in_doc(&self.t.name),
            "comment": self.t.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()),
            "row": n.row,
            "model": n.model,
            "stem": n.stem,
            "upper": n.upper,
            "cache": self.opts.cache,
            "conn": self.conn_type(),
            "table_lit": naming::lit(&self.table()),
            "rows_lit": naming::lit(&self.rows()),
            "prefixes": prefixes,
            "fields": fields,
            "q": queries::context(self),
        })
    }

    /// The whole `<table>_model_gen.rs`, formatted.
    pub(super) fn gen_file(&self) -> Result<String, String> {
        render_rust("model/model_gen.rs.tpl", self.context())
    }

    /// The same, unformatted (what rustfmt gets): for tests that render many tables.
    #[cfg(test)]
    pub(super) fn gen_source(&self) -> Result<String, String> {
        render("model/model_gen.rs.tpl", self.context())
    }
}

/// The `<table>_model.rs` the user owns: an empty `impl` to put queries in.
pub(super) fn user_file(names: &TableNames, table: &str) -> Result<String, String> {
    render_rust(
        "model/model.rs.tpl",
        serde_json::json!({
            "table": naming::in_doc(table),
            "model": names.model,
            "stem": names.stem,
            "upper": names.upper,
            "row": names.row,
        }),
    )
}

/// The module root over `stems`.
pub(super) fn mod_file(stems: &[String], schema: bool) -> Result<String, String> {
    let tables: Vec<serde_json::Value> = stems
        .iter()
        .map(|s| {
            let n = TableNames::from_stem(s);
            serde_json::json!({"stem": s, "row": n.row, "model": n.model})
        })
        .collect();
    render_rust(
        "model/mod.rs.tpl",
        serde_json::json!({"tables": tables, "schema": schema}),
    )
}

/// `vars.rs`: the same for every model.
pub(super) fn vars_file() -> Result<String, String> {
    render_rust("model/vars.rs.tpl", ())
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
