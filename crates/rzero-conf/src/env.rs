//! `${VAR}` expansion, done on the text before parsing as go-zero's `conf.UseEnv()` does.
//!
//! One deliberate difference: go-zero (`os.ExpandEnv`) turns an unset variable into an
//! empty string, which turns a forgotten `MYSQL_PASSWORD` into a confusing failure far
//! away. Here an unset variable is an error naming it and its line; write `${VAR:-}` when
//! empty is really meant, or `${VAR:-default}` for a default. `$$` is a literal `$`; a `$`
//! not followed by `{` or `$` is left as it is (so passwords with `$` in them survive).

use crate::error::{ConfError, ErrorKind};

/// Expands `${VAR}`, `${VAR:-default}` and `$$` in `text`.
pub(crate) fn expand(
    source: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfError> {
    let mut out = String::with_capacity(text.len());
    let (mut line, mut col) = (1usize, 1usize);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            if c == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
            continue;
        }
        match chars.peek().map(|&(_, c)| c) {
            Some('$') => {
                chars.next();
                out.push('$');
                col += 2;
            }
            Some('{') => {
                let rest = &text[i + 2..];
                let fail =
                    |msg: String| Err(ConfError::new(source, ErrorKind::Env(msg)).at(line, col));
                let Some(end) = rest
                    .find(['}', '\n'])
                    .filter(|&e| rest.as_bytes()[e] == b'}')
                else {
                    return fail("`${` is not closed by `}` on the same line".to_owned());
                };
                let inner = &rest[..end];
                let (name, default) = match inner.split_once(":-") {
                    Some((n, d)) => (n, Some(d)),
                    None => (inner, None),
                };
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit());
                if !valid {
                    return fail(format!(
                        "`${{{inner}}}`: expected a variable name of letters, digits and `_`, \
                         optionally followed by `:-default`"
                    ));
                }
                match (lookup(name), default) {
                    (Some(v), _) => out.push_str(&v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => {
                        return fail(format!(
                            "environment variable `{name}` is not set (set it, or write \
                             `${{{name}:-default}}` to give a default)"
                        ));
                    }
                }
                // Skip `{`, the inner text and `}`.
                for _ in 0..inner.chars().count() + 2 {
                    chars.next();
                }
                col += inner.chars().count() + 3;
            }
            _ => {
                out.push('$');
                col += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "HOST" => Some("db.local".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String, ConfError> {
        expand("t.yaml", text, &env)
    }

    #[test]
    fn expands_set_variables_and_defaults() {
        assert_eq!(run("a: ${HOST}:3306").as_deref(), Ok("a: db.local:3306"));
        assert_eq!(run("a: ${NOPE:-x y}").as_deref(), Ok("a: x y"));
        assert_eq!(run("a: ${NOPE:-}").as_deref(), Ok("a: "));
        assert_eq!(
            run("a: ${EMPTY:-d}").as_deref(),
            Ok("a: "),
            "set but empty is set"
        );
    }

    #[test]
    fn dollars_that_are_not_references_survive() {
        assert_eq!(run("p: a$b$$c$").as_deref(), Ok("p: a$b$c$"));
        assert_eq!(run("p: ünï ${HOST} ✓").as_deref(), Ok("p: ünï db.local ✓"));
    }

    #[test]
    fn unset_variable_is_an_error_with_its_line() {
        let err = run("a: 1\nb: x ${MISSING}\n").expect_err("unset");
        assert_eq!(
            err.to_string(),
            "t.yaml:2:6: environment variable `MISSING` is not set (set it, or write \
             `${MISSING:-default}` to give a default)"
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        let err = run("a: ${HOST\nb: 1").expect_err("unclosed");
        assert_eq!(
            err.to_string(),
            "t.yaml:1:4: `${` is not closed by `}` on the same line"
        );
        let err = run("a: ${}").expect_err("empty");
        assert!(
            err.to_string()
                .starts_with("t.yaml:1:4: `${}`: expected a variable name")
        );
        let err = run("a: ${1X}").expect_err("digit");
        assert!(err.to_string().contains("`${1X}`"));
        let err = run("a: ${A-B}").expect_err("dash");
        assert!(err.to_string().contains("`${A-B}`"));
    }
}
