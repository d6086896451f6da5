//! Recursive-descent parser for the `.api` DSL, following goctl's own parser
//! (`tools/goctl/pkg/parser/api/parser/parser.go`) rule for rule, so that what goctl
//! accepts parses here and what it rejects fails at the same token.
//!
//! The parser stops at the first syntax error and reports `file:line:column: expected
//! X, found Y`. Nesting depth is bounded so hostile input (`[][][]...`) cannot overflow
//! the stack; every loop consumes a token or stops, so no input can hang it.

mod service;
mod types;

use std::fmt;

use super::ast::{Comments, File, ImportStmt, Kv, KvBlock, Pos, Stmt, SyntaxStmt, Value};
use super::lexer::{Comment, Token, TokenKind, lex};

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

/// Parses one file's text; `file` names it in errors.
pub fn parse(file: &str, src: &str) -> Result<File, ParseError> {
    let lexed = lex(src).map_err(|e| ParseError {
        file: file.to_string(),
        pos: e.pos,
        message: e.message,
    })?;
    let mut p = Parser {
        file: file.to_string(),
        toks: lexed.tokens,
        i: 0,
        comments: lexed.comments,
        ci: 0,
        depth: 0,
    };
    p.file_stmts()
}

pub(crate) struct Parser {
    file: String,
    toks: Vec<Token>,
    i: usize,
    comments: Vec<Comment>,
    ci: usize,
    depth: u32,
}

type PResult<T> = Result<T, ParseError>;

const EOF: Token = Token {
    kind: TokenKind::Eof,
    pos: Pos { line: 0, column: 0 },
    end_line: 0,
};

// === impl Parser: tokens and comments ===

impl Parser {
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

    /// "expected `what`, found <the next token>".
    fn expected(&self, what: &str) -> ParseError {
        let t = self.peek();
        self.error_at(t.pos, format!("expected {what}, found {}", t.kind))
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

impl Parser {
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

/// Which block a `( key: value )` list belongs to: `@server` values have their own
/// grammar (paths, durations, lists), the others are strings or identifiers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KvKind {
    Info,
    Server,
    Doc,
}

impl Parser {
    /// `( key: value ... )`, the keyword at `pos` already consumed.
    fn kv_block(&mut self, pos: Pos, kind: KvKind) -> PResult<KvBlock> {
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
            let (key, at) = self.expect_ident("a key (`name:`) or `)`")?;
            self.expect_punct(':')?;
            let value = match kind {
                KvKind::Server => self.server_value()?,
                KvKind::Info | KvKind::Doc => self.plain_value()?,
            };
            block.pairs.push(Kv {
                key,
                value,
                pos: at,
                comments: self.finish(lead),
            });
        }
    }

    fn plain_value(&mut self) -> PResult<Value> {
        let v = match &self.peek().kind {
            TokenKind::Str(s) => Value::Str(s.clone()),
            TokenKind::Raw(s) => Value::Raw(s.clone()),
            TokenKind::Ident(s) | TokenKind::Int(s) => Value::Bare(s.clone()),
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

    /// `/seg[-seg]` repeated, appended to `text`.
    fn server_path(&mut self, mut text: String) -> PResult<String> {
        while self.is_punct('/') {
            self.bump();
            text.push('/');
            text.push_str(&self.path_word()?);
            if self.is_punct('-') {
                self.bump();
                text.push('-');
                text.push_str(&self.path_word()?);
            }
        }
        Ok(text)
    }

    fn path_word(&mut self) -> PResult<String> {
        match &self.peek().kind {
            TokenKind::Ident(s) | TokenKind::Int(s) | TokenKind::Duration(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expected("a path segment")),
        }
    }
}

#[cfg(test)]
mod tests;
