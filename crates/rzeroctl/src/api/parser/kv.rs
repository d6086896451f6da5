//! `( key: value ... )` after `info`, `@server` and `@doc`, in goctl's two grammars.
//!
//! The current one (`tools/goctl/pkg/parser/api/parser/parser.go`: `parseKVExpression`,
//! `parseAtServerKVExpression`) reads tokens: `info`/`@doc` values are one string,
//! raw string or identifier; `@server` values are a string, a duration, an integer, a
//! path (`/a/b-c`, `a/b`), a list (`A,B`) or a dashed word (`a-b-c`).
//!
//! The legacy one, which goctl v1.10 still runs with `GOCTL_EXPERIMENTAL=off` and which
//! real projects were written for (`tools/goctl/api/parser/g4/ApiLexer.g4`: `LINE_VALUE:
//! ':' [ \t]* (STRING|(~[\r\n"`]*))`, trimmed by `checkKeyValue` in
//! `g4/gen/api/baseparser.go`, cut at `//` or `/*` by `VisitKvLit` in `g4/ast/kv.go`),
//! reads a value as a string right after the colon or else the rest of the line:
//! `title: doc title`, `version: 1.0`, `prefix: go-zero/`.
//!
//! A line is read in the current grammar when it can be (it is what goctl runs by
//! default); only when that fails is it read as the legacy form, with a warning, into a
//! [`Value::Str`] so that the formatter writes the current form (`title: "doc title"`).

use super::{PResult, Parser};
use crate::api::ast::{Kv, KvBlock, Pos, Value};
use crate::api::lexer::TokenKind;

/// Which block a `( key: value )` list belongs to: `@server` values have their own
/// grammar (paths, durations, lists), the others are strings or identifiers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum KvKind {
    Info,
    Server,
    Doc,
}

impl KvKind {
    fn block(self) -> &'static str {
        match self {
            KvKind::Info => "info",
            KvKind::Server => "@server",
            KvKind::Doc => "@doc",
        }
    }
}

/// Legacy values are quoted in warnings; a long one is cut.
pub(super) fn shown(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(MAX).collect::<String>())
    }
}

impl Parser<'_> {
    /// `( key: value ... )`, the keyword at `pos` already consumed.
    pub(super) fn kv_block(&mut self, pos: Pos, kind: KvKind) -> PResult<KvBlock> {
        self.expect_punct('(')?;
        let mut block = KvBlock {
            pos,
            ..KvBlock::default()
        };
        loop {
            let lead = self.leading();
            if self.is_punct(')') {
                block.tail = lead;
                self.bump();
                return Ok(block);
            }
            let saved = (self.i, self.ci);
            match self.current_line(kind, lead.clone()) {
                Ok(pairs) => block.pairs.extend(pairs),
                Err(e) => {
                    (self.i, self.ci) = saved;
                    match self.legacy_line(kind, lead) {
                        Some(pairs) => block.pairs.extend(pairs),
                        None => return Err(e),
                    }
                }
            }
        }
    }

    /// The pairs that start on the next key's line, in the current grammar: after each
    /// value comes `)`, a later line, or another `key:` on the same line
    /// (`info(foo:"foo" bar:"bar")`).
    fn current_line(&mut self, kind: KvKind, mut lead: Vec<String>) -> PResult<Vec<Kv>> {
        let mut pairs = Vec::new();
        loop {
            let (key, at) = self.expect_ident("a key (`name:`) or `)`")?;
            self.expect_punct(':')?;
            let value = match kind {
                KvKind::Server => self.server_value()?,
                KvKind::Info | KvKind::Doc => self.plain_value()?,
            };
            pairs.push(Kv {
                key,
                value,
                pos: at,
                comments: self.finish(lead),
            });
            let end = self.prev().end_line;
            let next = self.peek();
            if matches!(next.kind, TokenKind::Punct(')') | TokenKind::Eof) || next.pos.line > end {
                return Ok(pairs);
            }
            let another = matches!(next.kind, TokenKind::Ident(_))
                && self.peek_at(1).kind == TokenKind::Punct(':');
            if !another {
                return Err(self.expected("a key (`name:`) or `)`"));
            }
            lead = self.leading();
        }
    }

    /// The pairs that start on the next key's line, in the legacy grammar (each line is
    /// read once in each grammar at most, so a long line costs linear time), or `None`.
    fn legacy_line(&mut self, kind: KvKind, mut lead: Vec<String>) -> Option<Vec<Kv>> {
        let mut pairs = Vec::new();
        loop {
            pairs.push(self.legacy_pair(kind, lead)?);
            // After `key: "text"` another pair may follow on the same line (a value
            // without quotes took the rest of the line).
            let next = self.peek();
            let same_line = next.pos.line == self.prev().end_line;
            if !(same_line && matches!(next.kind, TokenKind::Ident(_))) {
                return Some(pairs);
            }
            lead = self.leading();
        }
    }

    /// One pair in the legacy grammar, or `None` when it is not one either: `key:` then
    /// a string starting on the colon's line, or the rest of that line up to a comment
    /// (no string or raw string in it, no token after the comment).
    fn legacy_pair(&mut self, kind: KvKind, lead: Vec<String>) -> Option<Kv> {
        let TokenKind::Ident(key) = self.peek().kind.clone() else {
            return None;
        };
        if self.peek_at(1).kind != TokenKind::Punct(':') {
            return None;
        }
        let at = self.peek().pos;
        let colon = self.peek_at(1).pos;
        let line = colon.line;
        let first = self.peek_at(2).clone();
        if let TokenKind::Str(s) = &first.kind
            && first.pos.line == line
        {
            // `key: "text"` reads the same in both grammars.
            self.i += 3;
            return Some(Kv {
                key,
                value: Value::Str(s.clone()),
                pos: at,
                comments: self.finish(lead),
            });
        }
        let cut = self.comments[self.ci..]
            .iter()
            .find(|c| c.pos > colon)
            .filter(|c| c.pos.line == line)
            .map(|c| c.pos.column);
        let mut end = self.i + 2;
        while let Some(t) = self.toks.get(end).filter(|t| t.pos.line == line) {
            match t.kind {
                TokenKind::Str(_) | TokenKind::Raw(_) => return None,
                TokenKind::Eof => break,
                _ if cut.is_some_and(|c| t.pos.column > c) => return None,
                _ => end += 1,
            }
        }
        let text: String = self
            .lines
            .get(line as usize - 1)
            .map(|l| {
                let from = colon.column as usize;
                let to = cut.map_or(usize::MAX, |c| c as usize - 1);
                l.chars().take(to).skip(from).collect()
            })
            .unwrap_or_default();
        let text = text.trim().to_string();
        let value_pos = if end > self.i + 2 { first.pos } else { colon };
        self.i = end;
        let written = format!("{key}: {}", shown(&text));
        let quoted = format!("{key}: \"{}\"", shown(&text));
        self.warn(
            value_pos,
            format!(
                "`{}` in `{}` is goctl's legacy form (an unquoted value runs to the end of the \
                 line; only GOCTL_EXPERIMENTAL=off reads it); write `{quoted}` \
                 (`rzeroctl api format` does)",
                written.trim_end(),
                kind.block()
            ),
        );
        Some(Kv {
            key,
            value: Value::Str(text),
            pos: at,
            comments: self.finish(lead),
        })
    }

    /// An `info` or `@doc` value: goctl's `parseKVExpression` takes a string, a raw
    /// string or an identifier (a number is the legacy form).
    fn plain_value(&mut self) -> PResult<Value> {
        let v = match &self.peek().kind {
            TokenKind::Str(s) => Value::Str(s.clone()),
            TokenKind::Raw(s) => Value::Raw(s.clone()),
            TokenKind::Ident(s) => Value::Bare(s.clone()),
            _ => return Err(self.expected("a string value")),
        };
        self.bump();
        Ok(v)
    }

    /// goctl's `@server` value: a string, duration, integer, path (`/a/b-c`), a
    /// comma list (`A,B`), a dashed word (`foo-bar`) or `word/more/path`.
    fn server_value(&mut self) -> PResult<Value> {
        let what =
            "a value (a path like /api/v1, a name, a duration like 3s, a number or a string)";
        let v = match &self.peek().kind {
            TokenKind::Str(s) => Value::Str(s.clone()),
            TokenKind::Duration(s) | TokenKind::Int(s) => Value::Bare(s.clone()),
            TokenKind::Punct('/') => return self.server_path(String::new()).map(Value::Bare),
            TokenKind::Ident(s) => {
                let mut text = s.clone();
                self.bump();
                if self.is_punct(',') || self.is_punct('-') {
                    let sep = if self.is_punct(',') { ',' } else { '-' };
                    while self.is_punct(sep) {
                        self.bump();
                        let (w, _) = self.expect_ident("a name")?;
                        text.push(sep);
                        text.push_str(&w);
                    }
                    return Ok(Value::Bare(text));
                }
                return self.server_path(text).map(Value::Bare);
            }
            _ => return Err(self.expected(what)),
        };
        self.bump();
        Ok(v)
    }

    /// `/word[-word]` repeated, appended to `text` (goctl takes only identifiers here:
    /// `/v1/2024` is the legacy form).
    fn server_path(&mut self, mut text: String) -> PResult<String> {
        while self.is_punct('/') {
            self.bump();
            text.push('/');
            text.push_str(&self.expect_ident("a path segment (a name)")?.0);
            if self.is_punct('-') {
                self.bump();
                text.push('-');
                text.push_str(&self.expect_ident("a path segment (a name)")?.0);
            }
        }
        Ok(text)
    }
}
