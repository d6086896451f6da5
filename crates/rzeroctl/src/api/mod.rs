//! go-zero's `.api` DSL: [`lexer`] and [`parser`] to a syntax tree ([`ast`]) that keeps
//! comments for [`format`], then [`load`] (imports and goctl's checks) to the resolved
//! [`spec`] that generators read; [`tag`] reads struct tags as go-zero does. [`cmd`]
//! holds `api new|validate|format`.
//!
//! What loads is what a released goctl (v1.10) loads: its current parser's grammar,
//! plus the legacy forms its older parser (still run with `GOCTL_EXPERIMENTAL=off`)
//! takes and real projects still hold, each with a [`Warning`] that `api format`
//! resolves by writing the current form.

pub mod ast;
mod check;
pub mod cmd;
pub mod format;
pub mod lexer;
pub mod load;
pub mod parser;
pub mod spec;
pub mod tag;

pub use load::{ApiError, Loaded, load, load_checked, load_source};
pub use parser::{ParseError, Warning, parse};
pub use spec::Spec;
