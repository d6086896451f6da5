//! Names and quoting, one place for every generator: Go and SQL names to Rust names
//! (with `heck` for case), Rust's keyword list, and text from input files made safe for
//! the spot it lands in (a doc comment, a Rust/TOML/YAML string), so that no `.api`,
//! `.proto` or SQL text can change the structure of the output.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

/// Rust's keywords (strict, reserved and 2024's `gen`): such a name is written `r#name`.
const KEYWORDS: [&str; 52] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers: suffixed with `_` instead.
const NOT_RAW: [&str; 5] = ["crate", "self", "Self", "super", "_"];

/// Only ASCII letters, digits and `_`; the rest becomes `_`.
fn ident_chars(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `snake_case` of a Go, proto or SQL name (`UserId`, `HTTPServer`, `g1/g2-beta`), safe
/// as the start of an identifier (a leading digit gets `_`).
pub(crate) fn snake(name: &str) -> String {
    let s = ident_chars(&name.to_snake_case());
    let s = s.trim_matches('_');
    match s {
        "" => "x".into(),
        s if s.starts_with(|c: char| c.is_ascii_digit()) => format!("_{s}"),
        s => s.to_owned(),
    }
}

/// `PascalCase` of a name (`order-api` -> `OrderApi`); a leading digit gets `T`.
pub(crate) fn pascal(name: &str) -> String {
    let s = ident_chars(&name.to_upper_camel_case());
    match s.as_str() {
        "" => "T".into(),
        "Self" => "TSelf".into(),
        s if s.starts_with(|c: char| c.is_ascii_digit()) => format!("T{s}"),
        s => s.to_owned(),
    }
}

/// `SHOUTY_SNAKE_CASE`, for constants.
pub(crate) fn shouty(name: &str) -> String {
    let s = ident_chars(&name.to_shouty_snake_case());
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("C_{s}")
    } else {
        s
    }
}

/// `name` usable as a Rust identifier: raw when it is a keyword, `_`-suffixed when it
/// cannot be raw.
pub(crate) fn ident(name: &str) -> String {
    if NOT_RAW.contains(&name) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}

/// `snake` made an identifier: a function, field or module name.
pub(crate) fn snake_ident(name: &str) -> String {
    ident(&snake(name))
}

/// Text from an input file as ONE line of a `//` or `///` comment: line breaks and other
/// control characters are shown escaped (`\n`), so what follows them cannot become code;
/// `*/` is broken up so the text is also safe inside a block comment.
pub(crate) fn comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            '\u{2028}' | '\u{2029}' | '\u{85}' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.replace("*/", "* /")
}

/// `s` as a Rust string literal.
pub(crate) fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// `s` as a TOML basic string, escaped.
pub(crate) fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` as a YAML scalar: plain when it is a plain word YAML reads as that string
/// (`order-api`, `order.rpc`), else double-quoted (a JSON string is a valid one).
pub(crate) fn yaml_str(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null" | "nan" | "inf"
        );
    if plain {
        s.to_owned()
    } else {
        // JSON leaves U+0085, U+2028 and U+2029 as they are; YAML reads them as line
        // breaks and folds the text around them, so they are escaped too.
        serde_json::Value::String(s.to_owned())
            .to_string()
            .replace('\u{85}', "\\u0085")
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_to_rust() {
        assert_eq!(snake("UserId"), "user_id");
        assert_eq!(snake("getForm"), "get_form");
        assert_eq!(snake("HTTPServer"), "http_server");
        assert_eq!(snake("ID"), "id");
        assert_eq!(snake("g1/g2_test/g2-beta"), "g1_g2_test_g2_beta");
        assert_eq!(snake("Hobbits2"), "hobbits2");
        assert_eq!(snake("2fa"), "_2fa");
        assert_eq!(snake("名前"), "x");
        assert_eq!(pascal("order-api"), "OrderApi");
        assert_eq!(pascal("nestDemo1"), "NestDemo1");
        assert_eq!(pascal("self"), "TSelf");
        assert_eq!(shouty("userOrder"), "USER_ORDER");
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("gen"), "r#gen");
        assert_eq!(ident("self"), "self_");
    }

    #[test]
    fn hostile_text_stays_inside_its_comment_or_string() {
        let hostile = "a\nfn evil() {}\r\n*/ pub mod x; \u{2028}\u{0}";
        let c = comment(hostile);
        assert!(
            !c.contains('\n') && !c.contains('\r') && !c.contains("*/"),
            "{c}"
        );
        assert!(!c.contains('\u{2028}') && !c.contains('\u{0}'), "{c}");
        let lit = rust_str(hostile);
        assert!(!lit.contains('\n'), "{lit}");
        assert_eq!(toml_str("a\"b\nc"), "\"a\\\"b\\nc\"");
        assert_eq!(yaml_str("a: b\n- c"), "\"a: b\\n- c\"");
        assert_eq!(yaml_str("order.rpc"), "order.rpc");
        assert_eq!(yaml_str("no"), "\"no\"");
        assert_eq!(yaml_str("1.0"), "\"1.0\"");
        assert_eq!(yaml_str("a\u{2028}b"), "\"a\\u2028b\"");
    }
}
