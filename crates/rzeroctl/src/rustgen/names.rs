//! Go names to Rust names: `UserId` -> `user_id`, `getForm` -> `get_form`,
//! `HTTPServer` -> `http_server`, keywords escaped as raw identifiers.

/// Rust's keywords: a field or function with one of these names is written `r#name`.
const KEYWORDS: [&str; 51] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// Keywords that cannot be raw identifiers: suffixed with `_` instead.
const NOT_RAW: [&str; 5] = ["crate", "self", "Self", "super", "gen"];

/// `snake_case` of a Go identifier (or a path-ish name: non-alphanumerics become `_`).
pub(crate) fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "x".into()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{out}")
    } else {
        out
    }
}

/// `PascalCase` of a Go identifier: the first letter upper-cased, `_`/`-` dropped with
/// the next letter upper-cased.
pub(crate) fn pascal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            upper = true;
            continue;
        }
        if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// `name` usable as a Rust identifier (raw when it is a keyword).
pub(crate) fn ident(name: &str) -> String {
    if NOT_RAW.contains(&name) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// `s` as a Rust string literal.
pub(crate) fn string_lit(s: &str) -> String {
    format!("{s:?}")
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
        assert_eq!(pascal("order-api"), "OrderApi");
        assert_eq!(pascal("nestDemo1"), "NestDemo1");
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("self"), "self_");
    }
}
