//! `rzeroctl api rust --api F --dir D`: a Rust service on rzero's rest server from a
//! `.api` file (goctl's `api go`); `services/order-api` is this command's output plus its
//! logic:
//!
//! | file | owner | holds |
//! |---|---|---|
//! | `Cargo.toml`, `etc/<name>.yaml` | you (written once) | the crate, the config |
//! | `src/config.rs`, `src/svc.rs` | you (written once) | config struct, service context |
//! | `src/logic/<group>/<handler>.rs` | you (written once) | one function per route: the work |
//! | `src/middleware/<name>.rs` | you (written once) | one `@server(middleware:)` each |
//! | `src/main.rs`, `src/lib.rs`, `src/types.rs`, `src/routes.rs` | rzeroctl (rewritten) | start-up, the contract, the routes |
//! | `src/handler/<group>.rs`, `src/logic/mod.rs`, ... | rzeroctl (rewritten) | one handler per route, module lists |
//!
//! The service context is built once, asynchronously, from the config and the telemetry
//! guard (so it can hold traced RPC clients, SQL pools and caches); handlers receive it
//! as axum's `State`. Output comes from `templates/api/` and `templates/service/` (shared
//! with `rpc protoc`), through rustfmt.
//!
//! Regenerating after the `.api` changes rewrites rzeroctl's files and creates the logic
//! files of new routes; it never touches yours. A route removed from the `.api` leaves its
//! logic file on disk, no longer compiled. Groups (`@server(group: a/b)`) become modules
//! named `a_b`; routes without a group live at the top of `handler` and `logic`.

mod plan;
mod types;

use std::path::{Path, PathBuf};

use crate::api::spec::Spec;
use crate::cargo::{RzeroArgs, RzeroSource};
use crate::files::{Existing, GenFile, Written, write_all};

/// `rzeroctl api rust` options.
#[derive(Debug, clap::Args)]
pub struct RustArgs {
    /// The `.api` file.
    #[arg(long)]
    pub api: PathBuf,
    /// The crate's folder (created if absent).
    #[arg(long)]
    pub dir: PathBuf,
    /// Where the crate gets rzero from.
    #[command(flatten)]
    pub rzero: RzeroArgs,
}

/// A generation problem the user can fix in the `.api` (or the target folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenError(pub String);

impl std::fmt::Display for GenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GenError {}

/// `PascalCase` of a name (`greet` -> `Greet`), as handler names use.
pub fn pascal_name(name: &str) -> String {
    crate::render::pascal(name)
}

/// Runs `rzeroctl api rust`.
pub fn run(args: &RustArgs) -> Result<(), crate::CmdError> {
    let spec = crate::api::load(&args.api)?;
    let rzero = args.rzero.source();
    let api_file = args
        .api
        .file_name()
        .map_or_else(|| "the .api".into(), |n| n.to_string_lossy().into_owned());
    let files = generate(&spec, &rzero, &api_file, Existing::scan(&args.dir))?;
    for w in write(&args.dir, &files)? {
        w.report();
    }
    println!("Depends on {}.", rzero.describe());
    println!(
        "Done. Run it: cd {} && cargo run (the logic in src/logic/ is yours to fill)",
        args.dir.display()
    );
    Ok(())
}

/// Every file of the service for `spec`, formatted, in memory; `api_file` names the
/// `.api` in the crate's docs; `existing` is what the output folder already has.
pub fn generate(
    spec: &Spec,
    rzero: &RzeroSource,
    api_file: &str,
    existing: Existing,
) -> Result<Vec<GenFile>, GenError> {
    if spec.service.name.is_empty() {
        return Err(GenError(
            "the .api has no `service` block: nothing to generate".into(),
        ));
    }
    plan::files(spec, rzero, api_file, existing)
}

/// Writes `files` under `dir` (see [`crate::files::write_all`]).
pub fn write(dir: &Path, files: &[GenFile]) -> Result<Vec<Written>, crate::CmdError> {
    write_all(dir, files)
}
