//! rzeroctl: go-zero's `goctl` for rzero services.
//!
//! | module | command | what it does |
//! |---|---|---|
//! | [`api`] | `api new`, `api validate`, `api format` | the `.api` DSL: lexer, parser, imports, checks, formatter |
//! | [`rustgen`] | `api rust` | a Rust service on rzero's rest server from a `.api` |
//! | [`swagger`] | `api swagger` | OpenAPI 3 from a `.api` |
//! | [`rpc`] | `rpc new`, `rpc protoc` | a tonic service on rzero's rpc server from a `.proto` |
//! | [`model`] | `model mysql ddl` | typed models over rzero's stores from `CREATE TABLE` |
//! | [`deploy`] | `docker`, `kube deploy` | Dockerfile and Kubernetes manifests |
//!
//! Generated files that rzeroctl owns start with [`files::GENERATED_HEADER`] and are
//! rewritten on every run; files the user edits (logic, config) are written once.

pub mod api;
pub mod cargo;
pub mod deploy;
pub mod files;
pub mod model;
mod render;
pub mod rpc;
pub mod rustgen;
pub mod swagger;

/// The error every command returns: a message a person can act on.
pub type CmdError = Box<dyn std::error::Error + Send + Sync>;
