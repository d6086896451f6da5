//! Where things are in a DDL file: errors at `file:line:column`, and a statement's own
//! text cut from the file by its tokens' places (sqlparser gives line and column, in
//! characters; the text is sliced by bytes).

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Whitespace};

/// An error in a DDL file, at a place in it when one is known.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DdlError {
    pub(super) at: Location,
    pub(super) message: String,
}

// === impl DdlError ===

impl DdlError {
    pub(super) fn new(at: Location, message: impl Into<String>) -> Self {
        DdlError {
            at,
            message: message.into(),
        }
    }

    /// `<file>:<line>:<column>: <message>`, as compilers say it.
    pub(super) fn in_file(&self, file: &std::path::Path) -> String {
        format!("{}{self}", file.display())
    }
}

impl std::fmt::Display for DdlError {
    /// `:<line>:<column>: <message>`, or `: <message>` when no place is known.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.line > 0 {
            write!(f, ":{}:{}: {}", self.at.line, self.at.column, self.message)
        } else {
            write!(f, ": {}", self.message)
        }
    }
}

/// sqlparser's message without its ` at Line: l, Column: c`, and that place.
pub(super) fn located(message: &str, fallback: Location) -> DdlError {
    let message = message
        .strip_prefix("sql parser error: ")
        .unwrap_or(message);
    if let Some(i) = message.rfind(" at Line: ") {
        let (text, place) = message.split_at(i);
        let mut nums = place
            .trim_start_matches(" at Line: ")
            .split(", Column: ")
            .map(|n| n.trim().parse::<u64>());
        if let (Some(Ok(line)), Some(Ok(column))) = (nums.next(), nums.next()) {
            return DdlError::new(
                Location { line, column },
                format!("not valid MySQL DDL: {text}"),
            );
        }
    }
    DdlError::new(fallback, format!("not valid MySQL DDL: {message}"))
}

/// The byte offset of each line's start.
pub(super) fn line_starts(sql: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The byte offset of a tokenizer location (1-based line, 1-based column in chars).
fn offset(sql: &str, lines: &[usize], at: Location) -> usize {
    let line = usize::try_from(at.line)
        .unwrap_or(usize::MAX)
        .saturating_sub(1);
    let Some(&start) = lines.get(line) else {
        return sql.len();
    };
    let col = usize::try_from(at.column)
        .unwrap_or(usize::MAX)
        .saturating_sub(1);
    sql[start..]
        .char_indices()
        .nth(col)
        .map_or(sql.len(), |(i, _)| start + i)
}

/// The statement's text from the file, comments dropped (a line comment leaves its line
/// break), `IF NOT EXISTS` put after `CREATE TABLE` when asked.
pub(super) fn source_text(
    sql: &str,
    lines: &[usize],
    chunk: &[TokenWithSpan],
    if_not_exists: bool,
) -> String {
    let mut out = String::new();
    let mut pending = if_not_exists;
    for t in chunk {
        match &t.token {
            // The line break after a `--` comment is in it or the next token.
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                if comment.ends_with('\n') {
                    out.push('\n');
                }
            }
            Token::Whitespace(Whitespace::MultiLineComment(_)) => out.push(' '),
            token => {
                let from = offset(sql, lines, t.span.start);
                let to = offset(sql, lines, t.span.end).max(from);
                out.push_str(&sql[from..to]);
                if pending && matches!(token, Token::Word(w) if w.keyword == Keyword::TABLE) {
                    out.push_str(" IF NOT EXISTS");
                    pending = false;
                }
            }
        }
    }
    out
}
