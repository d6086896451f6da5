//! Hand-written lexer for go-zero's `.api` DSL.
//!
//! Hand-written (not generated) so that every token carries a 1-based line and
//! column for `file:line:column` errors, and so that no input can panic it: it walks
//! `char`s, never indexes bytes. Comments (`//`, `/* */`) are skipped here.

/// Kind of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// An identifier or keyword, also `@server`-style at-words (with the `@`).
    Ident(String),
    /// A double-quoted string, unescaped content.
    Str(String),
    /// A backtick raw string (tags), content without the backticks.
    Raw(String),
    /// A number literal, as written.
    Number(String),
    /// Any single punctuation character: `( ) { } [ ] : , * / - .` and so on.
    Punct(char),
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// A lexing error: where, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What was expected and found.
    pub message: String,
}

/// Splits `src` into tokens, or reports the first unterminated literal or comment.
pub fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let mut out = Vec::new();
    while let Some(&c) = chars.get(i) {
        let (sl, sc) = (line, col);
        let bump = |i: &mut usize, line: &mut u32, col: &mut u32| {
            if chars.get(*i) == Some(&'\n') {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            *i += 1;
        };
        let err = |m: &str| LexError {
            line: sl,
            column: sc,
            message: m.to_string(),
        };
        if c.is_whitespace() {
            bump(&mut i, &mut line, &mut col);
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while chars.get(i).is_some_and(|&c| c != '\n') {
                bump(&mut i, &mut line, &mut col);
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            bump(&mut i, &mut line, &mut col);
            bump(&mut i, &mut line, &mut col);
            loop {
                match chars.get(i) {
                    None => {
                        return Err(err("expected `*/` to close the comment, found end of file"));
                    }
                    Some('*') if chars.get(i + 1) == Some(&'/') => {
                        bump(&mut i, &mut line, &mut col);
                        bump(&mut i, &mut line, &mut col);
                        break;
                    }
                    Some(_) => bump(&mut i, &mut line, &mut col),
                }
            }
        } else if c == '"' || c == '`' {
            bump(&mut i, &mut line, &mut col);
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(err("expected a closing quote, found end of file")),
                    Some('\n') if c == '"' => {
                        return Err(err("expected a closing `\"`, found end of line"));
                    }
                    Some('\\') if c == '"' => {
                        bump(&mut i, &mut line, &mut col);
                        if let Some(&e) = chars.get(i) {
                            s.push(e);
                            bump(&mut i, &mut line, &mut col);
                        }
                    }
                    Some(&d) if d == c => {
                        bump(&mut i, &mut line, &mut col);
                        break;
                    }
                    Some(&d) => {
                        s.push(d);
                        bump(&mut i, &mut line, &mut col);
                    }
                }
            }
            out.push(Token {
                kind: if c == '"' {
                    TokenKind::Str(s)
                } else {
                    TokenKind::Raw(s)
                },
                line: sl,
                column: sc,
            });
        } else {
            let word = |d: char| d.is_alphanumeric() || d == '_' || d == '.';
            let kind = if c.is_ascii_digit() || c.is_alphabetic() || c == '_' || c == '@' {
                let mut s = String::new();
                s.push(c);
                bump(&mut i, &mut line, &mut col);
                while let Some(&d) = chars.get(i).filter(|&&d| word(d)) {
                    s.push(d);
                    bump(&mut i, &mut line, &mut col);
                }
                if c.is_ascii_digit() {
                    TokenKind::Number(s)
                } else {
                    TokenKind::Ident(s)
                }
            } else {
                bump(&mut i, &mut line, &mut col);
                TokenKind::Punct(c)
            };
            out.push(Token {
                kind,
                line: sl,
                column: sc,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_comments() {
        let toks = lex("syntax = \"v1\" // c\n/* x\n */ type `json:\"a\"`").unwrap();
        assert_eq!(toks[0].kind, TokenKind::Ident("syntax".into()));
        assert_eq!(toks[2].kind, TokenKind::Str("v1".into()));
        assert_eq!((toks[3].line, toks[3].column), (3, 5));
        assert_eq!(toks[4].kind, TokenKind::Raw("json:\"a\"".into()));
    }

    #[test]
    fn unterminated_comment_is_an_error() {
        let e = lex("a /* b").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
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
                let alphabet = b"ab(){}\"`/*\n @:1\\";
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = lex(&String::from_utf8_lossy(&s));
        }
    }
}
