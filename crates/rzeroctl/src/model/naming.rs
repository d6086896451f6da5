//! Rust names for SQL names: tables become `snake_case` files and `UpperCamelCase`
//! types, columns become `snake_case` fields (raw identifiers for keywords), and SQL
//! text becomes string literals.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

/// The names one table's generated code uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TableNames {
    /// File stem: `user_order` for `<stem>_model.rs` / `<stem>_model_gen.rs`.
    pub(super) stem: String,
    /// The row type: `UserOrder`.
    pub(super) row: String,
    /// The model type: `UserOrderModel`.
    pub(super) model: String,
    /// The prefix of constants: `USER_ORDER`.
    pub(super) upper: String,
}

// === impl TableNames ===

impl TableNames {
    /// Names from a file stem (the `mod.rs` writer only sees the files).
    pub(super) fn from_stem(stem: &str) -> Self {
        let mut row = stem.to_upper_camel_case();
        if row.is_empty() || row.starts_with(|c: char| c.is_ascii_digit()) || row == "Self" {
            row = format!("T{row}");
        }
        TableNames {
            stem: stem.to_owned(),
            model: format!("{row}Model"),
            upper: stem.to_shouty_snake_case(),
            row,
        }
    }

    /// Names for a table.
    pub(super) fn new(table: &str) -> Self {
        Self::from_stem(&stem(table))
    }
}

/// The snake-case, identifier-safe stem of a table name.
pub(super) fn stem(table: &str) -> String {
    let s = ident_chars(&table.to_snake_case());
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("t_{s}")
    } else {
        s
    }
}

/// The field name of a column.
pub(super) fn field(column: &str) -> String {
    let s = ident_chars(&column.to_snake_case());
    match s.as_str() {
        "" => "column".to_owned(),
        // Not allowed even as raw identifiers.
        "self" | "super" | "crate" | "_" => format!("{s}_"),
        _ if s.starts_with(|c: char| c.is_ascii_digit()) => format!("c_{s}"),
        _ if is_keyword(&s) => format!("r#{s}"),
        _ => s,
    }
}

/// The shouty-snake-case form of a column, for constant names.
pub(super) fn upper(column: &str) -> String {
    let s = ident_chars(&column.to_shouty_snake_case());
    if s.is_empty() { "COLUMN".to_owned() } else { s }
}

/// `s` as a Rust string literal.
pub(super) fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// `name` as a MySQL identifier: backquoted, inner backquotes doubled.
pub(super) fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A SQL name inside a doc comment's code span: backquotes and line breaks would end it.
pub(super) fn in_doc(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Keeps ASCII letters, digits and `_` (heck keeps other letters, rustc warns on them).
fn ident_chars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

/// Strict and reserved keywords of Rust 2024 (what a field name needs `r#` for).
fn is_keyword(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do",
        "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in",
        "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
        "return", "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe",
        "unsized", "use", "virtual", "where", "while", "yield",
    ];
    KEYWORDS.contains(&s)
}
