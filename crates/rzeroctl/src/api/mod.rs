//! go-zero's `.api` DSL: lexer, parser (being written), commands.

pub mod cmd;
pub mod lexer;
