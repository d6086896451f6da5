//! The model's methods: `insert`, `find_one`, `find_one_by_<key>` per unique key,
//! `update` and `delete`, straight on a `SqlPool` or cache-aside on a `CachedConn`.
//!
//! With the cache, as goctl's `sqlc` models do: `find_one` caches the row under its
//! primary-key key; `find_one_by_<key>` caches the primary key under the unique key's key
//! and then reads the row through `find_one` (so one copy of a row is cached however it
//! is looked up, and a write only drops keys); `update` and `delete` read the row first
//! and drop every key of it, old and new; `insert` drops the keys of the new row, which
//! may hold "absent" placeholders from reads made before it existed.

use super::emit::Model;
use super::keys::{self, key_stmt};
use super::layout::{self, chain, closure, statement};
use super::naming;
use super::types::RustType;

/// Every method of the model, inside its `impl` block.
pub(super) fn methods(m: &Model<'_>) -> String {
    let mut o = format!(
        "    /// A model over `conn`.\n    pub fn new(conn: {}) -> Self {{\n        Self {{ conn }}\n    }}\n",
        m.conn_type()
    );
    o.push_str(&insert(m));
    o.push_str(&find_one(m));
    for key in &m.t.uniques {
        o.push_str(&find_one_by(m, key));
    }
    o.push_str(&update(m));
    o.push_str(&delete(m));
    if m.opts.cache {
        o.push_str(&keys::cache_keys(m));
    }
    o
}

/// The value bound for column `i` of `data`.
fn bind_field(m: &Model<'_>, i: usize) -> String {
    let c = &m.t.columns[i];
    let f = format!("data.{}", m.field(i));
    match (c.ty.rust, c.nullable) {
        (RustType::String | RustType::Bytes, true) => format!("{f}.as_deref()"),
        (RustType::String, false) => format!("{f}.as_str()"),
        (RustType::Bytes, false) => format!("{f}.as_slice()"),
        _ => f,
    }
}

/// `&self` and `name: type` parameters of a key.
fn params(m: &Model<'_>, key: &[usize]) -> Vec<String> {
    let mut ps = vec!["&self".to_owned()];
    ps.extend(
        key.iter()
            .map(|&i| format!("{}: {}", m.var(i), m.t.columns[i].ty.rust.param())),
    );
    ps
}

fn key_doc(m: &Model<'_>, key: &[usize]) -> String {
    let cols: Vec<String> =
        m.t.key_columns(key)
            .map(|c| format!("`{}`", naming::in_doc(&c.name)))
            .collect();
    cols.join(", ")
}

fn insert(m: &Model<'_>) -> String {
    let t = m.t;
    let cols: Vec<usize> = (0..t.columns.len())
        .filter(|&i| !t.columns[i].auto_increment && !m.ignored(i))
        .collect();
    let names: Vec<String> = cols
        .iter()
        .map(|&i| naming::quote_ident(&t.columns[i].name))
        .collect();
    let marks = vec!["?"; cols.len()].join(", ");
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({marks})",
        m.table(),
        names.join(", ")
    );
    let binds: Vec<String> = cols.iter().map(|&i| bind_field(m, i)).collect();
    let auto = t.columns.iter().position(|c| c.auto_increment);
    let row = &m.names.row;
    let mut o = match auto {
        Some(a) => format!(
            "\n    /// Inserts `data` and returns the `{}` the database gave it (`data.{}` is not\n    \
             /// read); a duplicate key is [`StoreError::Conflict`].\n",
            naming::in_doc(&t.columns[a].name),
            m.field(a),
        ),
        None => {
            "\n    /// Inserts `data`; a duplicate key is [`StoreError::Conflict`].\n".to_owned()
        }
    };
    let ret = match auto {
        Some(a) => format!("Result<{}, StoreError>", t.columns[a].ty.rust.name()),
        None => "Result<(), StoreError>".to_owned(),
    };
    o.push_str(&layout::signature(
        "pub async fn insert",
        &["&self".to_owned(), format!("data: &{row}")],
        &ret,
    ));
    let (binding, head) = match auto {
        Some(_) => ("let res = ", "self\n            .conn"),
        None => ("", "self.conn"),
    };
    if m.opts.cache {
        let keys = if auto.is_some() {
            "unique_keys"
        } else {
            "cache_keys"
        };
        o.push_str(&format!(
            "        let keys = Self::{keys}(data);\n        \
             let keys: Vec<&str> = keys.iter().map(String::as_str).collect();\n"
        ));
        let exec = statement(&sql, &binds, &["execute()", "await"]);
        let calls = [
            format!("exec(&keys, {})", closure(12, &exec)),
            "await?;".to_owned(),
        ];
        o.push_str(&format!("        {binding}{}\n", chain(head, 8, &calls)));
    } else {
        let calls = statement(&sql, &binds, &["execute()", "await?;"]);
        o.push_str(&format!("        {binding}{}\n", chain(head, 8, &calls)));
    }
    match auto {
        Some(a) if m.opts.cache => {
            let v = m.var(a);
            o.push_str(&format!("        let {v} = vars::insert_id(res)?;\n"));
            o.push_str(
                "        // A read of the new id before it existed may have cached \"absent\".\n",
            );
            o.push_str(&key_stmt(m, &[a], None, 8, "let key = ", ";"));
            o.push_str(&format!(
                "        self.conn.del_cache(&[&key]).await;\n        Ok({v})\n"
            ));
        }
        Some(_) => o.push_str("        vars::insert_id(res)\n"),
        None => o.push_str("        Ok(())\n"),
    }
    o.push_str("    }\n");
    o
}

fn select_by(m: &Model<'_>, key: &[usize]) -> String {
    format!(
        "SELECT {} FROM {} WHERE {} LIMIT 1",
        m.rows(),
        m.table(),
        m.where_key(key)
    )
}

fn find_one(m: &Model<'_>) -> String {
    let key = &m.t.primary;
    let binds: Vec<String> = key.iter().map(|&i| m.var(i)).collect();
    let mut o = format!(
        "\n    /// The row with primary key {}; [`StoreError::NotFound`] if none.\n",
        key_doc(m, key)
    );
    let ret = format!("Result<{}, StoreError>", m.names.row);
    o.push_str(&layout::signature(
        "pub async fn find_one",
        &params(m, key),
        &ret,
    ));
    if m.opts.cache {
        let fetch = statement(&select_by(m, key), &binds, &["fetch_one()", "await"]);
        o.push_str(&key_stmt(m, key, None, 8, "let key = ", ";"));
        let calls = [
            format!("query_row(&key, {})", closure(12, &fetch)),
            "await".to_owned(),
        ];
        o.push_str(&format!("        {}\n", chain("self.conn", 8, &calls)));
    } else {
        let fetch = statement(&select_by(m, key), &binds, &["fetch_one()", "await"]);
        o.push_str(&format!("        {}\n", chain("self.conn", 8, &fetch)));
    }
    o.push_str("    }\n");
    o
}

fn find_one_by(m: &Model<'_>, key: &[usize]) -> String {
    let t = m.t;
    let suffix: Vec<String> = key
        .iter()
        .map(|&i| m.var(i).trim_end_matches('_').to_owned())
        .collect();
    let binds: Vec<String> = key.iter().map(|&i| m.var(i)).collect();
    let row = &m.names.row;
    let mut o = format!(
        "\n    /// The row with unique key {}; [`StoreError::NotFound`] if none.\n",
        key_doc(m, key)
    );
    let ret = format!("Result<{row}, StoreError>");
    o.push_str(&layout::signature(
        &format!("pub async fn find_one_by_{}", suffix.join("_")),
        &params(m, key),
        &ret,
    ));
    if !m.opts.cache {
        let fetch = statement(&select_by(m, key), &binds, &["fetch_one()", "await"]);
        o.push_str(&format!(
            "        {}\n    }}\n",
            chain("self.conn", 8, &fetch)
        ));
        return o;
    }
    // The unique key caches the primary key; the row is cached once, under it.
    let pk = &t.primary;
    let copy = |i: usize| t.columns[i].ty.rust.is_copy();
    let (pk_type, pk_value, pk_args) = if let [i] = pk[..] {
        let value = if copy(i) {
            format!("row.{}", m.field(i))
        } else {
            format!("row.{}.clone()", m.field(i))
        };
        let arg = if copy(i) { "pk" } else { "&pk" };
        (
            t.columns[i].ty.rust.name().to_owned(),
            value,
            arg.to_owned(),
        )
    } else {
        let types: Vec<&str> = pk.iter().map(|&i| t.columns[i].ty.rust.name()).collect();
        let values: Vec<String> = pk
            .iter()
            .map(|&i| {
                if copy(i) {
                    format!("row.{}", m.field(i))
                } else {
                    format!("row.{}.clone()", m.field(i))
                }
            })
            .collect();
        let args: Vec<String> = pk
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                if copy(i) {
                    format!("pk.{n}")
                } else {
                    format!("&pk.{n}")
                }
            })
            .collect();
        (
            format!("({})", types.join(", ")),
            format!("({})", values.join(", ")),
            args.join(", "),
        )
    };
    let fetch = statement(&select_by(m, key), &binds, &["fetch_one()", "await?;"]);
    o.push_str(&key_stmt(m, key, None, 8, "let key = ", ";"));
    o.push_str(&format!(
        "        let mut loaded = None;\n        \
         let slot = &mut loaded;\n        \
         let pk: {pk_type} = self\n            .conn\n            \
         .query_row(&key, |db| async move {{\n                \
         let row: {row} = {fetch}\n                \
         let pk = {pk_value};\n                \
         *slot = Some(row);\n                \
         Ok(pk)\n            }})\n            .await?;\n        \
         match loaded {{\n            \
         // Read just now: warm the primary key's entry too, as go-zero does.\n            \
         Some(row) => {{\n",
        fetch = chain("db", 16, &fetch),
    ));
    o.push_str(&key_stmt(m, pk, Some("row"), 16, "let pk_key = ", ";"));
    o.push_str(&format!(
        "                // A cache that is down costs the next read a query, not this one an error.\n                \
         let _ = self.conn.set_cache(&pk_key, &row).await;\n                \
         Ok(row)\n            }}\n            \
         None => self.find_one({pk_args}).await,\n        }}\n    }}\n"
    ));
    o
}

fn update(m: &Model<'_>) -> String {
    let t = m.t;
    let set: Vec<usize> = (0..t.columns.len())
        .filter(|&i| !t.primary.contains(&i) && !t.columns[i].auto_increment && !m.ignored(i))
        .collect();
    if set.is_empty() {
        return String::new();
    }
    let assigns: Vec<String> = set
        .iter()
        .map(|&i| format!("{} = ?", naming::quote_ident(&t.columns[i].name)))
        .collect();
    let sql = format!(
        "UPDATE {} SET {} WHERE {}",
        m.table(),
        assigns.join(", "),
        m.where_key(&t.primary)
    );
    let binds: Vec<String> = set
        .iter()
        .chain(&t.primary)
        .map(|&i| bind_field(m, i))
        .collect();
    let mut o = if m.opts.cache {
        "\n    /// Writes `data` over the row with the same primary key; [`StoreError::NotFound`]\n    \
         /// if none.\n"
            .to_owned()
    } else {
        // MySQL counts changed rows, so a missing row and an unchanged one look alike.
        "\n    /// Writes `data` over the row with the same primary key (a missing row is no\n    \
         /// error: MySQL reports it as it reports a row left unchanged).\n"
            .to_owned()
    };
    o.push_str(&layout::signature(
        "pub async fn update",
        &["&self".to_owned(), format!("data: &{}", m.names.row)],
        "Result<(), StoreError>",
    ));
    if m.opts.cache {
        let pk_args: Vec<String> = t.primary.iter().map(|&i| bind_field(m, i)).collect();
        let exec = statement(&sql, &binds, &["execute()", "await"]);
        o.push_str(&format!(
            "        let old = self.find_one({}).await?;\n        \
             let mut keys = Self::cache_keys(&old);\n        \
             keys.extend(Self::cache_keys(data));\n        \
             keys.sort_unstable();\n        keys.dedup();\n        \
             let keys: Vec<&str> = keys.iter().map(String::as_str).collect();\n        {}\n",
            pk_args.join(", "),
            chain(
                "self.conn",
                8,
                &[
                    format!("exec(&keys, {})", closure(12, &exec)),
                    "await?;".to_owned()
                ]
            )
        ));
    } else {
        let exec = statement(&sql, &binds, &["execute()", "await?;"]);
        o.push_str(&format!("        {}\n", chain("self.conn", 8, &exec)));
    }
    o.push_str("        Ok(())\n    }\n");
    o
}

fn delete(m: &Model<'_>) -> String {
    let t = m.t;
    let key = &t.primary;
    let sql = format!("DELETE FROM {} WHERE {}", m.table(), m.where_key(key));
    let binds: Vec<String> = key.iter().map(|&i| m.var(i)).collect();
    let mut o = format!(
        "\n    /// Deletes the row with primary key {}; [`StoreError::NotFound`] if none.\n",
        key_doc(m, key)
    );
    o.push_str(&layout::signature(
        "pub async fn delete",
        &params(m, key),
        "Result<(), StoreError>",
    ));
    if m.opts.cache {
        let exec = statement(&sql, &binds, &["execute()", "await"]);
        o.push_str(&format!(
            "        let old = self.find_one({}).await?;\n        \
             let keys = Self::cache_keys(&old);\n        \
             let keys: Vec<&str> = keys.iter().map(String::as_str).collect();\n        {}\n        Ok(())\n",
            binds.join(", "),
            chain("self.conn", 8, &[format!("exec(&keys, {})", closure(12, &exec)), "await?;".to_owned()])
        ));
    } else {
        let exec = statement(&sql, &binds, &["execute()", "await?;"]);
        o.push_str(&format!(
            "        let res = {}\n        if res.rows_affected == 0 {{\n            \
             return Err(StoreError::NotFound);\n        }}\n        Ok(())\n",
            chain("self\n            .conn", 8, &exec)
        ));
    }
    o.push_str("    }\n");
    o
}
