//! What the model's methods say: `insert`, `find_one`, `find_one_by_<key>` per unique
//! key, `update` and `delete`, straight on a `SqlPool` or cache-aside on a `CachedConn`.
//! This module decides the SQL, the binds and the cache keys; `model_gen.rs.tpl` writes
//! the methods around them.
//!
//! With the cache, as goctl's `sqlc` models do: `find_one` caches the row under its
//! primary-key key; `find_one_by_<key>` caches the primary key under the unique key's key
//! and then reads the row through `find_one` (so one copy of a row is cached however it
//! is looked up, and a write only drops keys); `update` and `delete` read the row first
//! and drop every key of it, old and new; `insert` drops the keys of the new row, which
//! may hold "absent" placeholders from reads made before it existed.
//!
//! Cache keys are goctl's: `cache:[<db>:]<table>:<column>[:<column>]:<value>[:<value>]`,
//! one prefix constant per key. A unique key with a NULL part has no entry: MySQL lets
//! such rows repeat, and no lookup can name them.

use serde_json::{Value, json};

use super::emit::Model;
use super::naming;
use super::types::RustType;

/// The `q` of the template's context.
pub(super) fn context(m: &Model<'_>) -> Value {
    let uniques: Vec<Value> = m.t.uniques.iter().map(|k| find_one_by(m, k)).collect();
    json!({
        "insert": insert(m),
        "find_one": find_one(m),
        "find_by": uniques,
        "update": update(m),
        "delete": delete(m),
        "keys": if m.opts.cache { cache_keys(m) } else { Value::Null },
    })
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

/// `name: type` parameters of a key, after `&self`.
fn params(m: &Model<'_>, key: &[usize]) -> String {
    let ps: Vec<String> = key
        .iter()
        .map(|&i| format!("{}: {}", m.var(i), m.t.columns[i].ty.rust.param()))
        .collect();
    ps.join(", ")
}

fn key_doc(m: &Model<'_>, key: &[usize]) -> String {
    let cols: Vec<String> =
        m.t.key_columns(key)
            .map(|c| format!("`{}`", naming::in_doc(&c.name)))
            .collect();
    cols.join(", ")
}

/// `format!(..)` of a cache key: `{PREFIX}{a}:{b}` from variables, or from `<from>.`
/// fields (nullable ones are variables bound by `if let`).
fn key_expr(m: &Model<'_>, key: &[usize], from: Option<&str>) -> String {
    let mut fmt = format!("{{{}}}", m.prefix_const(key));
    let mut args = String::new();
    for (n, &i) in key.iter().enumerate() {
        if n > 0 {
            fmt.push(':');
        }
        match from {
            Some(v) if !m.t.columns[i].nullable => {
                fmt.push_str("{}");
                args.push_str(&format!(", {v}.{}", m.field(i)));
            }
            _ => fmt.push_str(&format!("{{{}}}", m.var(i))),
        }
    }
    format!("format!(\"{fmt}\"{args})")
}

fn insert(m: &Model<'_>) -> Value {
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
    let auto = t.columns.iter().position(|c| c.auto_increment).map(|a| {
        json!({
            "column": naming::in_doc(&t.columns[a].name),
            "field": m.field(a),
            "var": m.var(a),
            "ty": t.columns[a].ty.rust.name(),
            "key": if m.opts.cache { key_expr(m, &[a], None) } else { String::new() },
        })
    });
    json!({
        "sql": naming::lit(&sql),
        "binds": binds,
        // With AUTO_INCREMENT the new row's primary key is not known before the insert.
        "keys_fn": if auto.is_some() { "unique_keys" } else { "cache_keys" },
        "auto": auto,
    })
}

fn select_by(m: &Model<'_>, key: &[usize]) -> String {
    naming::lit(&format!(
        "SELECT {} FROM {} WHERE {} LIMIT 1",
        m.rows(),
        m.table(),
        m.where_key(key)
    ))
}

fn find_one(m: &Model<'_>) -> Value {
    let key = &m.t.primary;
    let binds: Vec<String> = key.iter().map(|&i| m.var(i)).collect();
    json!({
        "doc": key_doc(m, key),
        "params": params(m, key),
        "sql": select_by(m, key),
        "binds": binds,
        "key": if m.opts.cache { key_expr(m, key, None) } else { String::new() },
    })
}

fn find_one_by(m: &Model<'_>, key: &[usize]) -> Value {
    let t = m.t;
    let suffix: Vec<String> = key
        .iter()
        .map(|&i| m.var(i).trim_end_matches('_').to_owned())
        .collect();
    let binds: Vec<String> = key.iter().map(|&i| m.var(i)).collect();
    // The unique key caches the primary key; the row is cached once, under it.
    let pk = &t.primary;
    let copy = |i: usize| t.columns[i].ty.rust.is_copy();
    let value = |i: usize| {
        if copy(i) {
            format!("row.{}", m.field(i))
        } else {
            format!("row.{}.clone()", m.field(i))
        }
    };
    let (pk_type, pk_value, pk_args) = if let [i] = pk[..] {
        let arg = if copy(i) { "pk" } else { "&pk" };
        (
            t.columns[i].ty.rust.name().to_owned(),
            value(i),
            arg.to_owned(),
        )
    } else {
        let types: Vec<&str> = pk.iter().map(|&i| t.columns[i].ty.rust.name()).collect();
        let values: Vec<String> = pk.iter().map(|&i| value(i)).collect();
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
    let cache = m.opts.cache;
    json!({
        "name": format!("find_one_by_{}", suffix.join("_")),
        "doc": key_doc(m, key),
        "params": params(m, key),
        "sql": select_by(m, key),
        "binds": binds,
        "key": if cache { key_expr(m, key, None) } else { String::new() },
        "pk_key": if cache { key_expr(m, pk, Some("row")) } else { String::new() },
        "pk_type": pk_type,
        "pk_value": pk_value,
        "pk_args": pk_args,
    })
}

fn update(m: &Model<'_>) -> Value {
    let t = m.t;
    let set: Vec<usize> = (0..t.columns.len())
        .filter(|&i| !t.primary.contains(&i) && !t.columns[i].auto_increment && !m.ignored(i))
        .collect();
    if set.is_empty() {
        return Value::Null;
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
    let pk_args: Vec<String> = t.primary.iter().map(|&i| bind_field(m, i)).collect();
    json!({
        "sql": naming::lit(&sql),
        "binds": binds,
        "pk_args": pk_args.join(", "),
    })
}

fn delete(m: &Model<'_>) -> Value {
    let key = &m.t.primary;
    let sql = format!("DELETE FROM {} WHERE {}", m.table(), m.where_key(key));
    let binds: Vec<String> = key.iter().map(|&i| m.var(i)).collect();
    json!({
        "doc": key_doc(m, key),
        "params": params(m, key),
        "sql": naming::lit(&sql),
        "args": binds.join(", "),
        "binds": binds,
    })
}

/// `cache_keys` (every key of a row) and `unique_keys` (its unique keys' only).
fn cache_keys(m: &Model<'_>) -> Value {
    let t = m.t;
    let uniques: Vec<Value> = t
        .uniques
        .iter()
        .map(|key| {
            let nullable: Vec<usize> = key
                .iter()
                .copied()
                .filter(|&i| t.columns[i].nullable)
                .collect();
            let cond = match nullable[..] {
                [] => String::new(),
                [i] => format!("let Some({}) = &data.{}", m.var(i), m.field(i)),
                _ => {
                    let vs: Vec<String> = nullable
                        .iter()
                        .map(|&i| format!("Some({})", m.var(i)))
                        .collect();
                    let fs: Vec<String> = nullable
                        .iter()
                        .map(|&i| format!("&data.{}", m.field(i)))
                        .collect();
                    format!("let ({}) = ({})", vs.join(", "), fs.join(", "))
                }
            };
            json!({"cond": cond, "key": key_expr(m, key, Some("data"))})
        })
        .collect();
    json!({
        "pk": key_expr(m, &t.primary, Some("data")),
        "uniques": uniques,
        // `insert` with AUTO_INCREMENT asks for the unique keys even when there are none.
        "empty_unique_fn": t.uniques.is_empty() && t.auto_increment().is_some(),
    })
}
