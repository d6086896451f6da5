//! `rzeroctl model mysql ddl`: typed models over rzero's stores from `CREATE TABLE`
//! statements, as goctl's `goctl model mysql ddl` makes them for go-zero.
//!
//! ```text
//! rzeroctl model mysql ddl --src schema.sql [--src seed.sql ...] --dir src/model [--cache] [--database shop]
//! ```
//!
//! The directory becomes one Rust module, declared in the service with `mod model;`.
//! Files of rzeroctl's start with its header and are rewritten; one whose header was
//! removed is the user's, and the command refuses to run rather than overwrite it:
//!
//! | file | owner | holds |
//! |---|---|---|
//! | `mod.rs` | rzeroctl, rewritten | one `mod` pair per table found in the directory, and `pub use` of each row and model type |
//! | `schema.rs` | rzeroctl, rewritten | `migrations(DbSystem) -> Migrations`: the `--src` files' tables, indexes and seed `INSERT`s, one migration per file, for MySQL (as written) and SQLite (translated, see `sqlite.rs`) |
//! | `vars.rs` | rzeroctl, rewritten | what every model shares: text decoding, insert ids |
//! | `<table>_model_gen.rs` | rzeroctl, rewritten | the row struct (serde, `FromRow`), SQL and cache-key constants, the model with `insert`, `find_one`, `find_one_by_<key>` per unique key, `update`, `delete` |
//! | `<table>_model.rs` | you, written once | an `impl <Table>Model` block for your own queries |
//!
//! In the service, for a table `user` (`--cache`):
//!
//! ```text
//! let conn = CachedConn::new(pool, redis, CacheConf::default());
//! let users = model::UserModel::new(conn);
//! let id = users.insert(&model::User { name: "ann".into(), ..Default::default() }).await?;
//! let ann = users.find_one_by_name("ann").await?;   // StoreError::NotFound if absent
//! ```
//!
//! and where the pool opens, on MySQL or on the embedded SQLite alike:
//!
//! ```text
//! db.migrate(&model::schema::migrations(db.system())).await?;
//! ```
//!
//! `mod.rs` lists every `<table>_model_gen.rs` in the directory, so models from several
//! DDL files can share it. Generated code needs only `rzero` (feature `stores`) and
//! `serde` (feature `derive`); the command prints both lines for `Cargo.toml`.
//!
//! Without `--cache` a model runs its statements on a `SqlPool`; with it, on a
//! `CachedConn`, cache-aside with goctl's keys `cache:[<db>:]<table>:<column>:<value>`
//! (see `queries.rs`). Errors are `StoreError`: `NotFound` when there is no row,
//! `Conflict` on a duplicate key. Column types map as `types.rs` describes; goctl's
//! `--ignore-columns` (default `create_at,created_at,create_time,update_at,updated_at,
//! update_time`) are left to the database on insert and update when it has a default
//! for them.
//!
//! | module | does |
//! |---|---|
//! | `ddl` | parses the DDL with sqlparser's MySQL dialect into tables, keys, columns, and the statements migrations carry |
//! | `source` | places in the file (`file:line:column` errors) and each statement's own text |
//! | `types` | maps MySQL types to Rust types `Any` can decode |
//! | `naming` | Rust identifiers from SQL names |
//! | `emit` | the templates' context (`templates/model/`): `<table>_model_gen.rs`, `<table>_model.rs`, `mod.rs`, `vars.rs` |
//! | `queries` | the model's methods |
//! | `sqlite` | the migrations' SQLite dialect: MySQL DDL and seed rows translated |

mod ddl;
mod emit;
mod naming;
mod queries;
mod source;
mod sqlite;
#[cfg(test)]
mod tests;
mod types;

use std::path::{Path, PathBuf};

use crate::cargo::{RzeroSource, versions};
use crate::files::{self, GenFile, Written};
use crate::render::{render_rust, rust_str, shouty};
use emit::{Model, Options};

/// The largest DDL file read: a schema is kilobytes, anything near this is the wrong file.
const MAX_DDL_BYTES: u64 = 4 * 1024 * 1024;

/// `rzeroctl model mysql ddl` options (goctl's flags).
#[derive(Debug, Clone, clap::Args)]
pub struct DdlArgs {
    /// The DDL file: `CREATE TABLE` statements and seed `INSERT`s (others are skipped).
    /// Repeat it for several files: each becomes one migration, in the order given.
    #[arg(long, short = 's', required = true)]
    pub src: Vec<PathBuf>,
    /// The directory of the generated module (created if absent).
    #[arg(long, short = 'd')]
    pub dir: PathBuf,
    /// Cache rows in Redis or memory (cache-aside through `CachedConn`).
    #[arg(long, short = 'c')]
    pub cache: bool,
    /// A local rzero checkout for the printed `Cargo.toml` line (default: the release).
    #[arg(long)]
    pub rzero_path: Option<PathBuf>,
    /// The database name in cache keys: `cache:<database>:<table>:<column>:<value>`.
    #[arg(long, visible_alias = "db")]
    pub database: Option<String>,
    /// Columns left to the database's default on insert and update.
    #[arg(long, short = 'i', value_delimiter = ',', default_value = DEFAULT_IGNORE_COLUMNS)]
    pub ignore_columns: Vec<String>,
}

/// goctl's default `--ignore-columns`: timestamps the database keeps.
pub const DEFAULT_IGNORE_COLUMNS: &str =
    "create_at,created_at,create_time,update_at,updated_at,update_time";

// === impl DdlArgs ===

impl DdlArgs {
    /// The options of `rzeroctl model mysql ddl --src <src> --dir <dir>`, for callers
    /// other than the command line.
    pub fn new(src: impl Into<PathBuf>, dir: impl Into<PathBuf>) -> Self {
        DdlArgs {
            src: vec![src.into()],
            dir: dir.into(),
            cache: false,
            rzero_path: None,
            database: None,
            ignore_columns: DEFAULT_IGNORE_COLUMNS
                .split(',')
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Runs `rzeroctl model mysql ddl`: parses `--src`, writes the module into `--dir` and
/// prints what it wrote and the `Cargo.toml` lines the module needs.
pub fn ddl(args: &DdlArgs) -> Result<(), crate::CmdError> {
    let written = generate(args)?;
    for w in &written {
        let what = match w {
            Written::Created(_) => "created",
            Written::Updated(_) => "updated",
            Written::Kept(_) => "kept",
        };
        println!("{what:>8} {}", w.path().display());
    }
    println!(
        "\nDeclare the module with `mod {};` and add to Cargo.toml [dependencies]:\n{}\n{}",
        args.dir
            .file_name()
            .map_or_else(|| "model".into(), |n| n.to_string_lossy()),
        RzeroSource::from_option(args.rzero_path.clone()).dependency(&["stores"]),
        serde_line()
    );
    Ok(())
}

/// The `serde` line generated models need.
fn serde_line() -> String {
    format!(
        "serde = {{ version = \"{}\", features = [\"derive\"] }}",
        versions::SERDE
    )
}

/// Everything [`ddl`] does but printing; the files in the order written.
pub fn generate(args: &DdlArgs) -> Result<Vec<Written>, crate::CmdError> {
    let files = plan(args)?;
    files::write_all(&args.dir, &files)
}

/// Every file of the module, before anything touches the disk.
fn plan(args: &DdlArgs) -> Result<Vec<GenFile>, String> {
    let opts = Options {
        cache: args.cache,
        database: args.database.clone().filter(|d| !d.is_empty()),
        ignore: args.ignore_columns.clone(),
    };
    let mut all = Vec::new();
    let mut made_by = Vec::new();
    let mut migrations = Vec::new();
    for (n, src) in args.src.iter().enumerate() {
        let sql = read_ddl(src)?;
        let statements = ddl::parse_into(&sql, &mut all).map_err(|e| e.in_file(src))?;
        migrations.push(migration(n + 1, src, &statements)?);
        made_by.resize(all.len(), src);
    }
    if all.is_empty() {
        let files: Vec<String> = args.src.iter().map(|s| s.display().to_string()).collect();
        return Err(format!("{}{}", files.join(", "), ddl::no_tables()));
    }
    let tables: Vec<(&PathBuf, ddl::Table)> = made_by.into_iter().zip(all).collect();
    let mut files = Vec::with_capacity(tables.len() * 2 + 2);
    let mut stems = stems_in(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    for (src, t) in &tables {
        let at = |e: String| format!("{}: {e}", src.display());
        let m = Model::new(t, &opts).map_err(at)?;
        let stem = &m.names.stem;
        if files
            .iter()
            .any(|f: &GenFile| f.path == Path::new(&format!("{stem}_model_gen.rs")))
        {
            return Err(at(format!(
                "table `{}` makes the file {stem}_model_gen.rs, which another table makes too; \
                 rename one",
                t.name
            )));
        }
        files.push(GenFile::generated(
            format!("{stem}_model_gen.rs"),
            &m.gen_file().map_err(at)?,
        ));
        files.push(GenFile::user(
            format!("{stem}_model.rs"),
            emit::user_file(&m.names, &t.name)?,
        ));
        stems.push(stem.clone());
    }
    stems.sort();
    stems.dedup();
    files.push(GenFile::generated("vars.rs", &emit::vars_file()?));
    files.push(GenFile::generated(
        "schema.rs",
        &render_rust(
            "model/schema.rs.tpl",
            serde_json::json!({"migrations": migrations}),
        )?,
    ));
    files.push(GenFile::generated("mod.rs", &emit::mod_file(&stems, true)?));
    Ok(files)
}

/// One `--src` file as a migration: its statements for MySQL (as written) and SQLite
/// (translated), one string literal each.
fn migration(
    version: usize,
    src: &Path,
    statements: &[ddl::Stmt],
) -> Result<serde_json::Value, String> {
    let mut mysql = Vec::with_capacity(statements.len());
    let mut sqlite = Vec::with_capacity(statements.len());
    for s in statements {
        mysql.push(rust_str(&format!("{};\n", s.mysql)));
        for t in sqlite::translate(s).map_err(|e| e.in_file(src))? {
            sqlite.push(rust_str(&format!("{t};\n")));
        }
    }
    let name = src.file_name().map_or_else(
        || src.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let stem = src
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(serde_json::json!({
        "version": version,
        "file": name,
        "description": rust_str(&name),
        "id": format!("{}_{version}", shouty(&stem)),
        "mysql": mysql,
        "sqlite": sqlite,
    }))
}

/// Reads the DDL, refusing what cannot be a schema before parsing it.
fn read_ddl(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("{shown}: no such file; pass the DDL file with --src")
        }
        _ => format!("{shown}: {e}"),
    })?;
    if !meta.is_file() {
        return Err(format!("{shown}: not a file; pass the DDL file with --src"));
    }
    if meta.len() > MAX_DDL_BYTES {
        return Err(format!(
            "{shown}: {} bytes is more than the {MAX_DDL_BYTES} a schema file may have; \
             pass the file with the CREATE TABLE statements only",
            meta.len()
        ));
    }
    let sql = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    if sql.trim().is_empty() {
        return Err(format!(
            "{shown}: the file is empty; expected CREATE TABLE statements"
        ));
    }
    Ok(sql)
}

/// The table stems with both files in `dir` already: `mod.rs` declares them with the
/// ones generated now.
fn stems_in(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut stems = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(stems),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix("_model_gen.rs")
            && dir.join(format!("{stem}_model.rs")).is_file()
        {
            stems.push(stem.to_owned());
        }
    }
    stems.sort();
    Ok(stems)
}
