//! `rzeroctl rpc new NAME` and `rzeroctl rpc protoc FILE.proto --dir DIR`: goctl's
//! `goctl rpc new` / `goctl rpc protoc`, a tonic service on rzero's rpc server.
//!
//! `protoc` reads the proto as protoc would (`-I`/`--proto_path`, imports, then the
//! file's own folder; parsed by `protox`, so no protoc is needed) and writes a crate into
//! DIR laid out like goctl's output. *Generated* files start with "DO NOT EDIT" and are
//! rewritten on every run; *once* files are the user's and are only created when absent:
//!
//! | file | owner | what |
//! |---|---|---|
//! | `Cargo.toml` | once | rzero (`rpc`), tonic, prost, tokio, serde; its own `[workspace]` |
//! | `build.rs` | generated | compiles `proto/` with `protoc-bin-vendored`, plus a descriptor set |
//! | `proto/<file>.proto` (+ imports) | generated | a copy of the proto (`rpc new` writes its starter here) |
//! | `etc/<file>.yaml` | once | `Name`, `ListenOn`, `Timeout`, `Etcd` (commented), `OpenTelemetry` |
//! | `src/main.rs` | generated | `-f etc/<file>.yaml`, else the embedded copy; prints the address |
//! | `src/lib.rs` | generated | the modules, `pb` (the messages), `server(config, guard)` |
//! | `src/config.rs` | once | `Config` flattening `RpcServerConf`, `load(args)` |
//! | `src/svc.rs` | once | `ServiceContext`, built once, shared by every call |
//! | `src/server.rs` | generated | per service, the tonic trait impl calling the logic |
//! | `src/client.rs` | generated | per service, `connect_<svc>(&RpcClientConf)` returning the tonic client |
//! | `src/logic/mod.rs` | generated | the list of logic modules |
//! | `src/logic/<rpc>.rs` | once each | one function per rpc; `src/logic/<svc>/<rpc>.rs` with several services |
//!
//! The crate (and binary) is named after DIR, as `cargo new` names it; the proto file's
//! stem names the YAML file and `Name: <stem>.rpc`.
//!
//! A new logic function answers `UNIMPLEMENTED` with "`<pkg.Service>/<Rpc>` has no logic
//! yet: edit `src/logic/<rpc>.rs`". goctl's stub answers an empty response and no error,
//! which a caller cannot tell from a real answer; the status names the file to edit and
//! works the same for streaming rpcs. An rpc added to the proto gets its file on the next
//! run; files of rpcs that left it are kept and reported.
//!
//! Layout of this module: `parse` reads the proto, `code` writes the Rust sources
//! that follow the services, `emit` lists the crate's files with the templates of
//! `templates/`, and this file runs the commands.

mod code;
mod emit;
mod parse;

use std::path::{Path, PathBuf};

use crate::cargo::RzeroArgs;
use crate::files;
use code::Layout;

/// `rzeroctl rpc new` options.
#[derive(Debug, Clone, clap::Args)]
pub struct NewArgs {
    /// The service: the proto's name, package and service (`greet`: `greet.proto`,
    /// `package greet`, `service Greet`).
    pub name: String,
    /// Where the crate goes (default: `./NAME`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Where the crate gets rzero from.
    #[command(flatten)]
    pub rzero: RzeroArgs,
}

/// `rzeroctl rpc protoc` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ProtocArgs {
    /// The `.proto` file.
    pub proto: PathBuf,
    /// Where the crate goes; created if absent. Its name is the crate's.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Where imports are searched, as protoc's `-I` (the file's own folder comes last).
    #[arg(short = 'I', long = "proto_path", visible_alias = "proto-path")]
    pub proto_path: Vec<PathBuf>,
    /// Where the crate gets rzero from.
    #[command(flatten)]
    pub rzero: RzeroArgs,
}

/// Runs `rzeroctl rpc new`: writes `DIR/proto/NAME.proto` (kept when it exists) and
/// generates the crate from it.
pub fn new(args: &NewArgs) -> Result<(), crate::CmdError> {
    let name = &args.name;
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(format!(
            "rpc new: `{name}` is not a service name: use letters, digits, `_` and `-`, \
             starting with a letter"
        )
        .into());
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    let proto = dir.join("proto").join(format!("{name}.proto"));
    let package = name.replace('-', "_").to_ascii_lowercase();
    let starter = emit::starter_proto(&package, &parse::to_upper_camel(&package))?;
    files::write_once(&proto, &starter)
        .map_err(|e| io_error(&proto, &e))?
        .report();
    protoc(&ProtocArgs {
        proto,
        dir,
        proto_path: Vec::new(),
        rzero: args.rzero.clone(),
    })
}

/// Runs `rzeroctl rpc protoc`: (re)generates the crate in `--dir` from the proto.
pub fn protoc(args: &ProtocArgs) -> Result<(), crate::CmdError> {
    let proto = parse::load(&args.proto, &args.proto_path)?;
    let mut sources = Vec::new();
    for (_, path) in &proto.sources {
        sources.push(std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?);
    }
    std::fs::create_dir_all(&args.dir).map_err(|e| io_error(&args.dir, &e))?;
    let crate_name = crate_name(&args.dir)?;
    let layout = Layout {
        lib: crate_name.replace('-', "_"),
        crate_name,
        stem: file_stem(&proto.name),
        multi: proto.services.len() > 1,
    };
    let rzero = args.rzero.source();
    let outputs = emit::plan(&proto, &sources, &layout, &rzero, &args.dir)?;
    for written in files::write_all(&args.dir, &outputs)? {
        written.report();
    }
    for stale in emit::stale_logic(&args.dir, &outputs) {
        println!(
            "note: {} is no longer listed in src/logic/mod.rs (its rpc left the proto, or the \
             number of services changed): move its code, then delete it",
            args.dir.join(stale).display()
        );
    }
    println!("Depends on {}.", rzero.describe());
    println!(
        "Done. Run it: cd {} && cargo run (the logic in src/logic/ is yours to fill)",
        args.dir.display()
    );
    Ok(())
}

/// The package name for `dir`, as `cargo new` derives it from the folder's name.
fn crate_name(dir: &Path) -> Result<String, crate::CmdError> {
    let full = dir.canonicalize().map_err(|e| io_error(dir, &e))?;
    let base = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = base
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    const TAKEN: &[&str] = &[
        "rzero",
        "tonic",
        "tonic-prost",
        "prost",
        "prost-types",
        "serde",
        "tokio",
        "test",
        "std",
        "core",
        "alloc",
        "build",
    ];
    let keyword = parse::to_snake(&name.replace('-', "_")) != name.replace('-', "_");
    if !name.starts_with(|c: char| c.is_ascii_alphabetic())
        || TAKEN.contains(&name.as_str())
        || keyword
    {
        return Err(format!(
            "rpc: the folder `{}` does not make a crate name (`{name}`): generate into a folder \
             named like a crate, such as `greet-rpc`",
            dir.display()
        )
        .into());
    }
    Ok(name)
}

/// `api/v1/order.proto` -> `order`, kept to characters safe in a path and a string.
fn file_stem(name: &str) -> String {
    let stem = Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn io_error(path: &Path, e: &std::io::Error) -> crate::CmdError {
    format!("{}: {e}", path.display()).into()
}
