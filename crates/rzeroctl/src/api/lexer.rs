//! Hand-written lexer for go-zero's `.api` DSL, token for token what goctl's scanner
//! (`tools/goctl/pkg/parser/api/scanner`) produces.
//!
//! Hand-written (no generator) so that every token carries a 1-based line and column
//! for `file:line:column` errors, comments are kept (the formatter must not lose them),
//! and no input can panic it: it walks `char`s and never indexes bytes.
//!
//! As in goctl: identifiers are ASCII letters, digits and `_`; strings (`"..."`) and raw
//! strings (`` `...` ``) are taken verbatim without escapes and may span lines;
//! `interface{}` is one token; a number followed by a unit (`3s`, `100ms`, `1h30m`) is a
//! duration; `@` starts only `@server`, `@handler` or `@doc`.
//!
//! A character that cannot start a token, a bad `@word` or a number with a bad unit is
//! not an error here but a [`TokenKind::Bad`] token, as goctl's scanner returns an
//! `ILLEGAL` token: the parser refuses it with the lexer's message wherever it meets
//! one, except inside the value of goctl's legacy `key: rest of the line` form (`title:
//! 用户服务`, `email: a@b.c`), which takes any text.

use std::fmt;

/// Kind of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// An identifier or keyword (`syntax`, `type`, `service`, `get`, `string`, ...).
    Ident(String),
    /// An integer, as written.
    Int(String),
    /// A Go duration such as `3s`, `100ms` or `1h30m`, as written.
    Duration(String),
    /// A double-quoted string: the content without the quotes.
    Str(String),
    /// A backtick raw string (struct tags): the content without the backticks.
    Raw(String),
    /// `interface{}`.
    Interface,
    /// `@server`.
    AtServer,
    /// `@handler`.
    AtHandler,
    /// `@doc`.
    AtDoc,
    /// One of `/ - * ( ) [ ] { } , . ; : =`.
    Punct(char),
    /// `...` (array length in `[...]int`).
    Ellipsis,
    /// Text that cannot start a token (`é`, `@foo`, `3mx`), and why.
    Bad {
        /// The text, as written.
        text: String,
        /// What was expected and found.
        message: String,
    },
    /// End of the file.
    Eof,
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Ident(s) => write!(f, "`{s}`"),
            TokenKind::Int(s) | TokenKind::Duration(s) => write!(f, "`{s}`"),
            TokenKind::Str(s) => write!(f, "\"{s}\""),
            TokenKind::Raw(s) => write!(f, "`{s}` (a raw string)"),
            TokenKind::Interface => f.write_str("`interface{}`"),
            TokenKind::AtServer => f.write_str("`@server`"),
            TokenKind::AtHandler => f.write_str("`@handler`"),
            TokenKind::AtDoc => f.write_str("`@doc`"),
            TokenKind::Punct(c) => write!(f, "`{c}`"),
            TokenKind::Ellipsis => f.write_str("`...`"),
            TokenKind::Bad { text, .. } => write!(f, "`{text}`"),
            TokenKind::Eof => f.write_str("end of file"),
        }
    }
}

/// A 1-based position in a file, columns counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it starts.
    pub pos: Pos,
    /// The line it ends on (strings may span lines).
    pub end_line: u32,
}

/// A comment, kept for the formatter: `// ...` or `/* ... */`, exactly as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The comment's text including its `//` or `/* */`.
    pub text: String,
    /// Where it starts.
    pub pos: Pos,
    /// The line it ends on.
    pub end_line: u32,
}

/// A lexing error: where, and what was expected and found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// Where.
    pub pos: Pos,
    /// What was expected and found.
    pub message: String,
}

/// The tokens of a file (ending with [`TokenKind::Eof`]) and its comments.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    /// Tokens in order, the last one `Eof`.
    pub tokens: Vec<Token>,
    /// Comments in order.
    pub comments: Vec<Comment>,
}

struct Cursor {
    chars: Vec<char>,
    i: usize,
    pos: Pos,
}

impl Cursor {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.i).copied()?;
        self.i += 1;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn take_while(&mut self, out: &mut String, f: impl Fn(char) -> bool) {
        while let Some(c) = self.peek(0).filter(|&c| f(c)) {
            out.push(c);
            self.bump();
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `src` into tokens and comments, or reports an unterminated string or comment.
pub fn lex(src: &str) -> Result<Lexed, LexError> {
    let mut cur = Cursor {
        chars: src.chars().collect(),
        i: 0,
        pos: Pos { line: 1, column: 1 },
    };
    let mut out = Lexed::default();
    while let Some(c) = cur.peek(0) {
        let start = cur.pos;
        let err = |message: String| LexError {
            pos: start,
            message,
        };
        let kind = match c {
            c if c.is_whitespace() => {
                cur.bump();
                continue;
            }
            '/' if cur.peek(1) == Some('/') => {
                let mut text = String::new();
                cur.take_while(&mut text, |c| c != '\n');
                let text = text.trim_end().to_string();
                out.comments.push(Comment {
                    text,
                    pos: start,
                    end_line: start.line,
                });
                continue;
            }
            '/' if cur.peek(1) == Some('*') => {
                let mut text = String::from("/*");
                cur.bump();
                cur.bump();
                loop {
                    match cur.bump() {
                        None => {
                            return Err(err(
                                "expected `*/` to close this comment, found end of file".into(),
                            ));
                        }
                        Some('*') if cur.peek(0) == Some('/') => {
                            cur.bump();
                            text.push_str("*/");
                            break;
                        }
                        Some(c) => text.push(c),
                    }
                }
                out.comments.push(Comment {
                    text,
                    pos: start,
                    end_line: cur.pos.line,
                });
                continue;
            }
            '"' | '`' => {
                cur.bump();
                let mut text = String::new();
                loop {
                    match cur.bump() {
                        None => {
                            return Err(err(format!(
                                "expected a closing {c} for this string, found end of file"
                            )));
                        }
                        Some(d) if d == c => break,
                        Some(d) => text.push(d),
                    }
                }
                if c == '"' {
                    TokenKind::Str(text)
                } else {
                    TokenKind::Raw(text)
                }
            }
            '@' => {
                cur.bump();
                let mut word = String::new();
                cur.take_while(&mut word, |c| c.is_ascii_alphabetic());
                match word.as_str() {
                    "server" => TokenKind::AtServer,
                    "handler" => TokenKind::AtHandler,
                    "doc" => TokenKind::AtDoc,
                    _ => TokenKind::Bad {
                        message: format!(
                            "expected `@server`, `@handler` or `@doc`, found `@{word}`"
                        ),
                        text: format!("@{word}"),
                    },
                }
            }
            '.' if cur.peek(1) == Some('.') && cur.peek(2) == Some('.') => {
                cur.bump();
                cur.bump();
                cur.bump();
                TokenKind::Ellipsis
            }
            '/' | '-' | '*' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | '.' | ';' | ':' | '=' => {
                cur.bump();
                TokenKind::Punct(c)
            }
            c if is_ident_start(c) => {
                let mut word = String::new();
                cur.take_while(&mut word, is_ident);
                if word == "interface" && cur.peek(0) == Some('{') && cur.peek(1) == Some('}') {
                    cur.bump();
                    cur.bump();
                    TokenKind::Interface
                } else {
                    TokenKind::Ident(word)
                }
            }
            c if c.is_ascii_digit() => number(&mut cur),
            c => {
                cur.bump();
                TokenKind::Bad {
                    text: c.to_string(),
                    message: format!(
                        "unexpected character {c:?}: outside strings and comments a .api file \
                         holds only ASCII identifiers, numbers and punctuation"
                    ),
                }
            }
        };
        out.tokens.push(Token {
            kind,
            pos: start,
            end_line: cur.pos.line,
        });
    }
    out.tokens.push(Token {
        kind: TokenKind::Eof,
        pos: cur.pos,
        end_line: cur.pos.line,
    });
    Ok(out)
}

/// An integer, or a duration when a unit follows (`ns us µs ms s m h`, repeated as in
/// Go's `time.ParseDuration`: `1h30m`); a bad unit makes the whole word a bad token.
fn number(cur: &mut Cursor) -> TokenKind {
    let mut text = String::new();
    cur.take_while(&mut text, |c| c.is_ascii_digit());
    if !matches!(cur.peek(0), Some('n' | 'u' | 'µ' | 'm' | 's' | 'h')) {
        return TokenKind::Int(text);
    }
    loop {
        let mut unit = String::new();
        cur.take_while(&mut unit, |c| c.is_alphabetic());
        if !matches!(unit.as_str(), "ns" | "us" | "µs" | "ms" | "s" | "m" | "h") {
            let message = format!(
                "expected a duration unit (ns, us, ms, s, m, h) after `{text}`, found `{unit}`"
            );
            text.push_str(&unit);
            return TokenKind::Bad { text, message };
        }
        text.push_str(&unit);
        if !cur.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            return TokenKind::Duration(text);
        }
        cur.take_while(&mut text, |c| c.is_ascii_digit());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        lex(src)
            .unwrap()
            .tokens
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn positions_and_comments() {
        let l = lex("syntax = \"v1\" // c\n/* x\n */ type `json:\"a\"`").unwrap();
        assert_eq!(l.tokens[0].kind, TokenKind::Ident("syntax".into()));
        assert_eq!(l.tokens[2].kind, TokenKind::Str("v1".into()));
        assert_eq!(l.tokens[3].pos, Pos { line: 3, column: 5 });
        assert_eq!(l.tokens[4].kind, TokenKind::Raw("json:\"a\"".into()));
        assert_eq!(l.comments.len(), 2);
        assert_eq!(l.comments[1].text, "/* x\n */");
        assert_eq!(l.comments[1].end_line, 3);
    }

    #[test]
    fn durations_interface_and_at_words() {
        assert_eq!(
            kinds("3s 100ms 1h30m 12 interface{} @doc ..."),
            vec![
                TokenKind::Duration("3s".into()),
                TokenKind::Duration("100ms".into()),
                TokenKind::Duration("1h30m".into()),
                TokenKind::Int("12".into()),
                TokenKind::Interface,
                TokenKind::AtDoc,
                TokenKind::Ellipsis,
                TokenKind::Eof,
            ]
        );
        let bad = |src: &str| matches!(kinds(src)[0], TokenKind::Bad { .. });
        assert!(bad("3mx") && bad("@serve") && bad("é"));
        assert_eq!(
            lex("a é").unwrap().tokens[1].pos,
            Pos { line: 1, column: 3 }
        );
    }

    #[test]
    fn unterminated_comment_is_an_error() {
        let e = lex("a /* b").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, column: 3 });
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5000 {
            let mut s = Vec::new();
            for _ in 0..(x % 64) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let alphabet = "ab(){}\"`/*\n @:1µs.\\é".as_bytes();
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = lex(&String::from_utf8_lossy(&s));
        }
    }
}
