//! go-zero's `.api` DSL: [`lexer`] and [`parser`] to a syntax tree ([`ast`]) that keeps
//! comments for [`format`], then [`load`] (imports and goctl's checks) to the resolved
//! [`spec`] that generators read. [`cmd`] holds `api new|validate|format`.

pub mod ast;
pub mod cmd;
pub mod format;
pub mod lexer;
pub mod load;
pub mod parser;
pub mod spec;

pub use load::{ApiError, load, load_source};
pub use parser::{ParseError, parse};
pub use spec::Spec;
