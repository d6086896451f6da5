//! rzeroctl: go-zero's `goctl` for rzero services (issue 8).
//!
//! **Status: skeleton only.** Nothing is implemented yet. Planned layout, in the
//! order the work will land:
//!
//! - `api/` — hand-written lexer and parser for go-zero's `.api` DSL (`syntax`,
//!   `info`, `import`, `type` groups, `@server`, `@doc`, `@handler`, `service`),
//!   with `file:line:column` errors and a no-panic property test;
//! - `gen/` — `rzeroctl api rust`: a compiling service on `rzero-rest`
//!   (generated files rewritten, `logic/` files scaffolded once);
//! - `swagger`, `format`, `new`; later `rpc`, `model`, `docker`, `kube`.
//!
//! The binary reports that commands are unfinished rather than pretending.

pub mod api;

/// What the binary prints for every command until the generator exists.
pub const UNFINISHED: &str =
    "rzeroctl: not implemented yet (issue 8); no command is available in this build";
