//! `${VAR}` expansion, done on the text before parsing as go-zero's `conf.UseEnv()` does.
//!
//! - `${VAR}` is the variable's value; `${VAR:-default}` gives a default when it is unset
//!   (a variable set to the empty string is set).
//! - `$$` is a literal `$`; a `$` followed by anything else is left as it is, so passwords
//!   with a `$` in them survive.
//! - A malformed reference (`${` not closed on its line, an empty name, a name with a
//!   character other than letters, digits and `_`) is an error at its line and column.
//!
//! One deliberate difference: go-zero (`os.ExpandEnv`) turns an unset variable into an
//! empty string, which turns a forgotten `MYSQL_PASSWORD` into a confusing failure far
//! away (an "access denied" from the database minutes later, or a service that listens
//! on the wrong address). Here an unset variable is an error naming it and its line;
//! write `${VAR:-}` when empty is really meant.
//!
//! Lines that are comments (`#` first) are expanded where they can be, but an unset or
//! malformed reference there is left as written: a commented-out `# Pass: ${REDIS_PASS}`
//! must not stop the service.
//!
//! Expansion changes lengths, so positions found later in the expanded text are mapped
//! back to the file's with [`Expanded::original`].

use crate::error::{ConfError, ErrorKind};

/// The expanded text and where its replacements came from.
pub(crate) struct Expanded {
    pub(crate) text: String,
    /// One per replacement, in order: (start, end) in the expanded text and (start, end)
    /// in the file, all as 1-based (line, column), ends exclusive.
    edits: Vec<Edit>,
}

#[derive(Clone, Copy)]
struct Edit {
    new: ((usize, usize), (usize, usize)),
    old: ((usize, usize), (usize, usize)),
}

/// A cursor that counts lines and columns (in characters, as the YAML parsers do).
#[derive(Clone, Copy)]
struct Cursor(usize, usize);

impl Cursor {
    fn advance(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                *self = Cursor(self.0 + 1, 1);
            } else {
                self.1 += 1;
            }
        }
    }
}

/// Expands `${VAR}`, `${VAR:-default}` and `$$` in `text`.
pub(crate) fn expand(
    source: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Expanded, ConfError> {
    let mut out = Expanded {
        text: String::with_capacity(text.len()),
        edits: Vec::new(),
    };
    let (mut old, mut new) = (Cursor(1, 1), Cursor(1, 1));
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        let (before, at) = rest.split_at(i);
        out.text.push_str(before);
        old.advance(before);
        new.advance(before);
        let comment = out
            .text
            .rsplit('\n')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('#');
        let (written, replacement) = match reference(at, lookup) {
            Ok(Some(pair)) => pair,
            Ok(None) => ("$", "$".to_owned()),
            // A comment is not config: leave what cannot be expanded as it is.
            Err(_) if comment => ("$", "$".to_owned()),
            Err(msg) => {
                return Err(ConfError::new(source, ErrorKind::Env(msg)).at(old.0, old.1));
            }
        };
        let (old_start, new_start) = (old, new);
        old.advance(written);
        new.advance(&replacement);
        if written != replacement {
            out.edits.push(Edit {
                new: ((new_start.0, new_start.1), (new.0, new.1)),
                old: ((old_start.0, old_start.1), (old.0, old.1)),
            });
        }
        out.text.push_str(&replacement);
        rest = &at[written.len()..];
    }
    out.text.push_str(rest);
    Ok(out)
}

/// The reference at the start of `at` (which starts with `$`): the text it spans and
/// what replaces it; `None` for a `$` that starts no reference.
fn reference<'a>(
    at: &'a str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(&'a str, String)>, String> {
    if at.starts_with("$$") {
        return Ok(Some((&at[..2], "$".to_owned())));
    }
    let Some(body) = at.strip_prefix("${") else {
        return Ok(None);
    };
    let Some(end) = body
        .find(['}', '\n'])
        .filter(|&e| body.as_bytes()[e] == b'}')
    else {
        return Err("`${` is not closed by `}` on the same line".to_owned());
    };
    let inner = &body[..end];
    let (name, default) = match inner.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (inner, None),
    };
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(format!(
            "`${{{inner}}}`: expected a variable name of letters, digits and `_`, \
             optionally followed by `:-default`"
        ));
    }
    let value = match (lookup(name), default) {
        (Some(v), _) => v,
        (None, Some(d)) => d.to_owned(),
        (None, None) => {
            return Err(format!(
                "environment variable `{name}` is not set (set it, or write \
                 `${{{name}:-default}}` to give a default)"
            ));
        }
    };
    Ok(Some((&at[..end + 3], value)))
}

// === impl Expanded ===

impl Expanded {
    /// The file's position of a position in the expanded text: inside a replacement,
    /// the start of the `${...}` it came from.
    pub(crate) fn original(&self, line: usize, col: usize) -> (usize, usize) {
        let p = (line, col);
        let Some(edit) = self.edits.iter().rev().find(|e| e.new.0 <= p) else {
            return p;
        };
        let (new_end, old_end) = (edit.new.1, edit.old.1);
        if p < new_end {
            edit.old.0
        } else if line == new_end.0 {
            (old_end.0, old_end.1 + (col - new_end.1))
        } else {
            (old_end.0 + (line - new_end.0), col)
        }
    }

    /// `err` with its position mapped back to the file's.
    pub(crate) fn map_error(&self, err: ConfError) -> ConfError {
        match (err.line, err.column) {
            (Some(line), Some(col)) => {
                let (line, col) = self.original(line as usize, col as usize);
                err.at(line, col)
            }
            _ => err,
        }
    }
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
