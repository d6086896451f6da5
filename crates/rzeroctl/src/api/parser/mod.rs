//! Recursive-descent parser for the `.api` DSL, following goctl's own parser
//! (`tools/goctl/pkg/parser/api/parser/parser.go`) rule for rule, so that what goctl
//! accepts parses here and what it rejects fails at the same token.
//!
//! The parser stops at the first syntax error and reports `file:line:column: expected
//! X, found Y`. Nesting depth is bounded so hostile input (`[][][]...`) cannot overflow
//! the stack; every loop consumes a token or stops, so no input can hang it.
//!
//! goctl v1.10 still ships its legacy parser (`tools/goctl/api/parser/g4`, run with
//! `GOCTL_EXPERIMENTAL=off`; `tools/goctl/api/parser/parser.go` picks it), and real
//! projects' files were written for it. Where the current grammar fails and the
//! legacy one reads a form, we read it too, into the tree's current form, with a
//! [`Warning`]: unquoted `key: rest of the line` values in `info`, `@server` and `@doc`
//! ([`kv`]), `@doc ("text")` and a route-level `@server(handler: X)` ([`service`]), and
//! `type X struct {` ([`types`]). What neither grammar takes is an error.

mod kv;
mod service;
mod types;

use std::fmt;

use super::ast::{Comments, File, ImportStmt, Pos, Stmt, SyntaxStmt};
use super::lexer::{Comment, Token, TokenKind, lex};
use kv::KvKind;

/// How deep type expressions may nest (`[]map[string]*{...}` counts 4).
const MAX_DEPTH: u32 = 64;

/// A syntax error in a `.api` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file, as given.
    pub file: String,
    /// Where.
    pub pos: Pos,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.pos, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Something goctl loads but that should change: a form of goctl's legacy grammar
/// (which its current parser rejects; `rzeroctl api format` rewrites it), or text goctl
/// keeps without reading all of it (a malformed struct tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file, as given.
    pub file: String,
    /// Where.
    pub pos: Pos,
    /// What it is and what to write instead.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: warning: {}", self.file, self.pos, self.message)
    }
}

/// Parses one file's text; `file` names it in errors.
pub fn parse(file: &str, src: &str) -> Result<File, ParseError> {
    let lexed = lex(src).map_err(|e| ParseError {
        file: file.to_string(),
        pos: e.pos,
        message: e.message,
    })?;
    let mut p = Parser {
        file: file.to_string(),
        lines: src.split('\n').collect(),
        toks: lexed.tokens,
        i: 0,
        comments: lexed.comments,
        ci: 0,
        depth: 0,
        warnings: Vec::new(),
    };
    let mut tree = p.file_stmts()?;
    tree.warnings = p.warnings;
    Ok(tree)
}

pub(crate) struct Parser<'a> {
    file: String,
    /// The source's lines: legacy `key: rest of the line` values are taken as written.
    lines: Vec<&'a str>,
    toks: Vec<Token>,
    i: usize,
    comments: Vec<Comment>,
    ci: usize,
    depth: u32,
    warnings: Vec<Warning>,
}

type PResult<T> = Result<T, ParseError>;

const EOF: Token = Token {
    kind: TokenKind::Eof,
    pos: Pos { line: 0, column: 0 },
    end_line: 0,
};

// === impl Parser: tokens and comments ===

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> &Token {
        self.toks
            .get(self.i + n)
            .or_else(|| self.toks.last())
            .unwrap_or(&EOF)
    }

    fn prev(&self) -> &Token {
        self.toks
            .get(self.i.wrapping_sub(1))
            .or_else(|| self.toks.first())
            .unwrap_or(&EOF)
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.kind != TokenKind::Eof {
            self.i += 1;
        }
        t
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek().kind == TokenKind::Punct(c)
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Ident(w) if w == word)
    }

    fn error_at(&self, pos: Pos, message: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.clone(),
            pos,
            message: message.into(),
        }
    }

    /// "expected `what`, found <the next token>", or the lexer's word on a bad token.
    fn expected(&self, what: &str) -> ParseError {
        let t = self.peek();
        if let TokenKind::Bad { message, .. } = &t.kind {
            return self.error_at(t.pos, message.clone());
        }
        self.error_at(t.pos, format!("expected {what}, found {}", t.kind))
    }

    fn warn(&mut self, pos: Pos, message: String) {
        self.warnings.push(Warning {
            file: self.file.clone(),
            pos,
            message,
        });
    }

    fn expect_punct(&mut self, c: char) -> PResult<Token> {
        if self.is_punct(c) {
            Ok(self.bump())
        } else {
            Err(self.expected(&format!("`{c}`")))
        }
    }

    fn expect_ident(&mut self, what: &str) -> PResult<(String, Pos)> {
        match &self.peek().kind {
            TokenKind::Ident(w) => {
                let r = (w.clone(), self.peek().pos);
                self.bump();
                Ok(r)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(
                self.peek().pos,
                format!("types nest deeper than {MAX_DEPTH} levels; declare named types instead"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Comments before position `before`, taken.
    fn take_comments_before(&mut self, before: Pos) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.ci).filter(|c| c.pos < before) {
            out.push(c.text.clone());
            self.ci += 1;
        }
        out
    }

    /// The comments before the next token: an item's leading comments.
    fn leading(&mut self) -> Vec<String> {
        let at = self.peek().pos;
        let at = if self.peek().kind == TokenKind::Eof {
            Pos {
                line: u32::MAX,
                column: u32::MAX,
            }
        } else {
            at
        };
        self.take_comments_before(at)
    }

    /// Finishes an item that started with `leading` comments: comments that were inside
    /// it join them, and a comment on the same line after it becomes its trailing one.
    fn finish(&mut self, mut leading: Vec<String>) -> Comments {
        let last = self.prev().clone();
        leading.extend(self.take_comments_before(last.pos));
        let next = self.peek().pos;
        let trailing = match self.comments.get(self.ci) {
            Some(c)
                if c.pos.line == last.end_line
                    && (self.peek().kind == TokenKind::Eof || c.pos < next) =>
            {
                self.ci += 1;
                Some(c.text.clone())
            }
            _ => None,
        };
        Comments { leading, trailing }
    }
}

// === impl Parser: top-level statements ===

impl Parser<'_> {
    fn file_stmts(&mut self) -> PResult<File> {
        let mut file = File::default();
        loop {
            let leading = self.leading();
            let t = self.peek().clone();
            let stmt = match &t.kind {
                TokenKind::Eof => {
                    file.tail = leading;
                    file.tail.extend(self.take_comments_before(Pos {
                        line: u32::MAX,
                        column: u32::MAX,
                    }));
                    return Ok(file);
                }
                TokenKind::Ident(w) if w == "syntax" => self.syntax(leading)?,
                TokenKind::Ident(w) if w == "info" => {
                    self.bump();
                    let mut block = self.kv_block(t.pos, KvKind::Info)?;
                    block.comments = self.finish(leading);
                    Stmt::Info(block)
                }
                TokenKind::Ident(w) if w == "import" => self.import(leading)?,
                TokenKind::Ident(w) if w == "type" => Stmt::Type(self.type_stmt(leading)?),
                TokenKind::Ident(w) if w == "service" => {
                    Stmt::Service(self.service(None, leading)?)
                }
                TokenKind::AtServer => {
                    self.bump();
                    let server = self.kv_block(t.pos, KvKind::Server)?;
                    Stmt::Service(self.service(Some(server), leading)?)
                }
                _ => {
                    return Err(
                        self.expected("`syntax`, `info`, `import`, `type`, `service` or `@server`")
                    );
                }
            };
            file.stmts.push(stmt);
        }
    }

    fn syntax(&mut self, leading: Vec<String>) -> PResult<Stmt> {
        self.bump();
        self.expect_punct('=')?;
        let (version, pos) = match &self.peek().kind {
            TokenKind::Str(s) => (s.clone(), self.peek().pos),
            _ => return Err(self.expected("the syntax version string, e.g. \"v1\"")),
        };
        self.bump();
        Ok(Stmt::Syntax(SyntaxStmt {
            version,
            pos,
            comments: self.finish(leading),
        }))
    }

    fn import(&mut self, leading: Vec<String>) -> PResult<Stmt> {
        let pos = self.bump().pos;
        let mut stmt = ImportStmt {
            grouped: false,
            paths: Vec::new(),
            pos,
            comments: Comments::default(),
            tail: Vec::new(),
        };
        if self.is_punct('(') {
            self.bump();
            stmt.grouped = true;
            loop {
                let lead = self.leading();
                if self.is_punct(')') {
                    stmt.tail = lead;
                    self.bump();
                    break;
                }
                let (path, at) = self.import_path("an import path string or `)`")?;
                stmt.paths.push((path, at, self.finish(lead)));
            }
        } else {
            let (path, at) = self.import_path("an import path string or `(`")?;
            stmt.paths.push((path, at, Comments::default()));
        }
        stmt.comments = self.finish(leading);
        Ok(Stmt::Import(stmt))
    }

    fn import_path(&mut self, what: &str) -> PResult<(String, Pos)> {
        match &self.peek().kind {
            TokenKind::Str(s) => {
                let r = (s.clone(), self.peek().pos);
                self.bump();
                Ok(r)
            }
            _ => Err(self.expected(what)),
        }
    }
}

#[cfg(test)]
mod tests;
