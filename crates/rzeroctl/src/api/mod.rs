//! go-zero `.api` DSL. Only the lexer exists so far; the parser and AST are unfinished.

pub mod lexer;
