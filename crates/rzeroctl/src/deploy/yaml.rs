//! YAML quoting for the manifests `kube.rs` writes as text.

use std::fmt::Write as _;

/// A YAML scalar for a string: plain when it cannot be read as anything but that string
/// (also by YAML 1.1 readers such as PyYAML, where `yes` and `on` are booleans),
/// double-quoted with escapes otherwise.
pub(super) fn scalar(s: &str) -> String {
    const WORDS: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-:".contains(&b))
        && !s.ends_with(':')
        && !WORDS.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c == '\u{85}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::scalar;

    #[test]
    fn safe_words_stay_plain() {
        for s in [
            "order-api",
            "rzero/order-api:latest",
            "http://c.ns:4317",
            "/metrics",
        ] {
            let want = if s.starts_with('/') {
                format!("\"{s}\"")
            } else {
                s.to_owned()
            };
            assert_eq!(scalar(s), want);
        }
    }

    #[test]
    fn yaml_1_1_keywords_numbers_and_specials_are_quoted() {
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("Off"), "\"Off\"");
        assert_eq!(scalar("123"), "\"123\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("x:"), "\"x:\"");
        assert_eq!(scalar("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(scalar("\u{7}"), "\"\\u0007\"");
    }
}
