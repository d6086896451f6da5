//! Cache keys, goctl's scheme: `cache:[<db>:]<table>:<column>[:<column>]:<value>[:<value>]`,
//! one prefix constant per key (the primary key and each unique key), and the model's
//! `cache_keys` / `unique_keys`, which list every key of a row so a write can drop them.
//! A unique key with a NULL part has no entry: MySQL lets such rows repeat, and no
//! lookup can name them.

use super::emit::Model;
use super::layout;

/// The `format!` string and arguments of a cache key: `{PREFIX}{a}:{b}` from variables,
/// or from `<from>.` fields (nullable ones are variables bound by `if let`).
pub(super) fn key_format(
    m: &Model<'_>,
    key: &[usize],
    from: Option<&str>,
) -> (String, Vec<String>) {
    let mut fmt = format!("{{{}}}", m.prefix_const(key));
    let mut args = Vec::new();
    for (n, &i) in key.iter().enumerate() {
        if n > 0 {
            fmt.push(':');
        }
        match from {
            Some(v) if !m.t.columns[i].nullable => {
                fmt.push_str("{}");
                args.push(format!("{v}.{}", m.field(i)));
            }
            _ => fmt.push_str(&format!("{{{}}}", m.var(i))),
        }
    }
    (fmt, args)
}

/// `{prefix}format!(<key>){suffix}` at `indent`.
pub(super) fn key_stmt(
    m: &Model<'_>,
    key: &[usize],
    from: Option<&str>,
    indent: usize,
    prefix: &str,
    suffix: &str,
) -> String {
    let (fmt, args) = key_format(m, key, from);
    layout::format_stmt(indent, prefix, &fmt, &args, suffix)
}

/// `cache_keys` (every key of a row) and `unique_keys` (its unique keys' only).
pub(super) fn cache_keys(m: &Model<'_>) -> String {
    let t = m.t;
    let row = &m.names.row;
    let mut o = format!(
        "\n    /// Every cache key of `data`: its primary key's and its unique keys'.\n    \
         fn cache_keys(data: &{row}) -> Vec<String> {{\n"
    );
    o.push_str(&key_stmt(
        m,
        &t.primary,
        Some("data"),
        8,
        "let mut keys = vec![",
        "];",
    ));
    if !t.uniques.is_empty() {
        o.push_str("        keys.extend(Self::unique_keys(data));\n");
    }
    o.push_str("        keys\n    }\n");
    if t.uniques.is_empty() {
        // `insert` with AUTO_INCREMENT asks for the unique keys only.
        if t.auto_increment().is_some() {
            o.push_str(&format!(
                "\n    /// The cache keys of `data`'s unique keys: it has none.\n    \
                 fn unique_keys(_data: &{row}) -> Vec<String> {{\n        Vec::new()\n    }}\n"
            ));
        }
        return o;
    }
    o.push_str(&format!(
        "\n    /// The cache keys of `data`'s unique keys (a key with a NULL part has none).\n    \
         fn unique_keys(data: &{row}) -> Vec<String> {{\n        \
         let mut keys = Vec::with_capacity({});\n",
        t.uniques.len()
    ));
    for key in &t.uniques {
        let nullable: Vec<usize> = key
            .iter()
            .copied()
            .filter(|&i| t.columns[i].nullable)
            .collect();
        let (indent, close) = match nullable[..] {
            [] => (8, String::new()),
            [i] => {
                o.push_str(&format!(
                    "        if let Some({}) = &data.{} {{\n",
                    m.var(i),
                    m.field(i)
                ));
                (12, "        }\n".to_owned())
            }
            _ => {
                let vs: Vec<String> = nullable
                    .iter()
                    .map(|&i| format!("Some({})", m.var(i)))
                    .collect();
                let fs: Vec<String> = nullable
                    .iter()
                    .map(|&i| format!("&data.{}", m.field(i)))
                    .collect();
                o.push_str(&format!(
                    "        if let ({}) = ({}) {{\n",
                    vs.join(", "),
                    fs.join(", ")
                ));
                (12, "        }\n".to_owned())
            }
        };
        o.push_str(&key_stmt(m, key, Some("data"), indent, "keys.push(", ");"));
        o.push_str(&close);
    }
    o.push_str("        keys\n    }\n");
    o
}
