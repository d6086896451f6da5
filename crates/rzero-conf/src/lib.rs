//! rzero-conf: a service's YAML config file, read the way go-zero reads it, with errors
//! that say where and what.
//!
//! A go-zero team moving to Rust keeps its `etc/*.yaml` files: the keys are go-zero's
//! (`Name`, `ListenOn`, `Timeout`, `Etcd: {Hosts, Key}`, `Mysql: {DataSource}`,
//! `Redis: {Host, Type, Pass, Tls}`), the config structs are the user's own serde types,
//! and sections are composed the way go-zero embeds `zrpc.RpcServerConf`: with
//! `#[serde(flatten)]`. Unlike go-zero's `conf.MustLoad`, nothing here exits the process:
//! [`load`] returns a [`ConfError`] and `main` decides.
//!
//! # Layout
//!
//! | file | what |
//! |---|---|
//! | `lib.rs` | [`load`], [`Loader`]: read, expand, parse, check |
//! | `env.rs` | `${VAR}` expansion, and mapping positions back to the file |
//! | `tree.rs` | the file as keys and values with their line and column |
//! | `keys.rs` | unknown keys, also through `flatten` |
//! | `report.rs` | serde's errors turned into [`ConfError`]s a person can act on |
//! | `duration.rs` | [`duration`]: `Timeout: 3000` or `"5s"` |
//! | `sections.rs` | [`EtcdConf`], [`RedisConf`], [`SqlConf`], [`Mode`] |
//!
//! # `${VAR}` expansion
//!
//! As go-zero's `conf.UseEnv()`, on the text before parsing: `${VAR}` is the variable,
//! `${VAR:-default}` gives a default when it is unset, `$$` is a literal `$`, and any other
//! `$` is kept (passwords with `$` survive). A malformed `${` is an error at its line and
//! column. **One deliberate difference**: go-zero (`os.ExpandEnv`) turns an unset variable
//! into an empty string, which turns a forgotten `MYSQL_PASS` into an "access denied"
//! minutes later, far from its cause. Here an unset `${VAR}` without a default is an error
//! naming the variable and its line; write `${VAR:-}` where empty is meant. On comment
//! lines (`#` first) an unset or malformed reference is left as written. Errors after
//! expansion point at the file's columns, not the expanded text's.
//!
//! # Defaults
//!
//! A key with a default names a function (`#[serde(default = "default_timeout")]`), as
//! vector's configs do: the default is then one greppable place, documented beside the
//! field. `Option<T>` fields are optional without one. Durations use
//! `#[serde(with = "rzero_conf::duration")]` (or [`duration::option`]).
//!
//! # Unknown keys, and the one rule for config structs
//!
//! serde's `deny_unknown_fields` does not work with `flatten`, so the loader checks after
//! deserializing: it serializes the value back and reports every key of the file that
//! did not come back, with its path, line and the keys that were expected. So **a config
//! struct must write back what it reads, under the same name**: no `skip_serializing`,
//! no `skip_serializing_if` that drops a key the file had, no `alias`. Keys of map
//! fields (`HashMap<String, String>` headers) are data and always come back.
//!
//! # Errors
//!
//! `etc/order.yaml:3:7: Port: invalid type: string "abc", expected u16 (a whole number
//! from 0 to 65535)`: file, line and column (when known), the key path, what is wrong and
//! what fits. Also for a missing file, a file over [`MAX_FILE_BYTES`], non-UTF-8 text, an
//! empty file, invalid YAML, a duplicate key and a missing key (with the typo that was
//! probably meant). Inside a `flatten` part serde forgets the key path; the loader finds
//! it again from the value serde quotes, or by trying the fix, and leaves the position
//! out rather than guess when more than one place fits.
//!
//! ```
//! use std::time::Duration;
//!
//! use rzero_conf::{EtcdConf, Loader};
//! use serde::{Deserialize, Serialize};
//!
//! /// The part every service has, flattened as go-zero embeds it.
//! #[derive(Debug, Deserialize, Serialize)]
//! struct Base {
//!     #[serde(rename = "Name")]
//!     name: String,
//! }
//!
//! #[derive(Debug, Deserialize, Serialize)]
//! struct Config {
//!     #[serde(flatten)]
//!     service: Base,
//!     /// Where to listen; default `0.0.0.0:8080`.
//!     #[serde(rename = "ListenOn", default = "default_listen_on")]
//!     listen_on: String,
//!     /// Per-request timeout; default 2s.
//!     #[serde(rename = "Timeout", with = "rzero_conf::duration", default = "default_timeout")]
//!     timeout: Duration,
//!     #[serde(rename = "Etcd")]
//!     etcd: EtcdConf,
//! }
//! fn default_listen_on() -> String { "0.0.0.0:8080".into() }
//! fn default_timeout() -> Duration { Duration::from_secs(2) }
//!
//! let yaml = "Name: order.rpc\nTimeout: 500ms\nEtcd:\n  Hosts: [\"${ETCD:-127.0.0.1:2379}\"]\n  Key: order.rpc\n";
//! let c: Config = Loader::new().env(|_| None).load_str("order.yaml", yaml)?;
//! assert_eq!(c.etcd.hosts, ["127.0.0.1:2379"]);
//! assert_eq!(c.listen_on, "0.0.0.0:8080");
//! assert_eq!(c.timeout, Duration::from_millis(500));
//!
//! let typo = "Name: order.rpc\nEtcd:\n  Hosts: [x]\n  Key: k\n  Lease: 5\n";
//! let err = Loader::new().load_str::<Config>("order.yaml", typo).unwrap_err();
//! assert!(err.to_string().starts_with("order.yaml:5:3: Etcd.Lease: unknown key"));
//!
//! let typo = "Name: order.rpc\nEtcd:\n  Hostz: [x]\n  Key: k\n";
//! let err = Loader::new().load_str::<Config>("order.yaml", typo).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "order.yaml:3:3: Etcd.Hosts: this key is required but missing; found `Hostz`: \
//!      did you mean `Hosts`? (keys are case-sensitive)"
//! );
//! # Ok::<(), rzero_conf::ConfError>(())
//! ```
#![warn(missing_docs)]

pub mod duration;
mod env;
mod error;
mod keys;
mod report;
mod sections;
mod tree;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::{ConfError, ErrorKind};
pub use sections::{EtcdConf, Mode, RedisConf, RedisType, Secret, SqlConf, redact_dsn};

/// Config files larger than this are refused: configs are small, and a huge file is a
/// mistake (or an attack) that would otherwise cost memory at start.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Loads `path` into `T` with the process environment. See [`Loader`].
pub fn load<T: DeserializeOwned + Serialize>(path: impl AsRef<Path>) -> Result<T, ConfError> {
    Loader::new().load(path)
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Reads config files; [`Loader::env`] replaces the environment (tests use it).
pub struct Loader {
    lookup: Lookup,
}

impl Default for Loader {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader").finish_non_exhaustive()
    }
}

impl Loader {
    /// A loader that expands `${VAR}` from the process environment.
    pub fn new() -> Self {
        Loader {
            lookup: Box::new(|k| std::env::var(k).ok()),
        }
    }

    /// Expands `${VAR}` with `lookup` instead of the process environment.
    pub fn env(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.lookup = Box::new(lookup);
        self
    }

    /// Reads the file at `path` and parses it into `T`.
    ///
    /// Fails with a [`ConfError`] naming the file when it is missing, unreadable, not a
    /// file, over [`MAX_FILE_BYTES`] or not UTF-8, and otherwise as [`Loader::load_str`].
    pub fn load<T: DeserializeOwned + Serialize>(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<T, ConfError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let read_err = |msg: String| ConfError::new(&name, ErrorKind::Read(msg));
        let io_err = |e: std::io::Error| {
            read_err(match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "no such file: pass the config file's path (e.g. `-f etc/service.yaml`)".into()
                }
                _ => format!("cannot read: {e}"),
            })
        };
        let file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if !meta.is_file() {
            return Err(read_err("not a file: expected a YAML config file".into()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_large(&name, meta.len()));
        }
        // Read at most one byte past the cap: the file may have grown since `metadata`.
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large(&name, bytes.len() as u64));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let before = String::from_utf8_lossy(valid);
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            read_err(format!(
                "not UTF-8 text (invalid byte at offset {}): save the file as UTF-8",
                valid.len()
            ))
            .at(line, col)
        })?;
        self.load_str(&name, &text)
    }

    /// Expands `${VAR}`s in `text` and parses it into `T`; `source_name` is what errors
    /// call it (the file name, usually).
    ///
    /// Fails with a [`ConfError`] at the line and column for an unset variable, invalid
    /// YAML, an empty text, a missing key, a value of the wrong type and an unknown key.
    pub fn load_str<T: DeserializeOwned + Serialize>(
        &self,
        source_name: &str,
        text: &str,
    ) -> Result<T, ConfError> {
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large(source_name, text.len() as u64));
        }
        let expanded = env::expand(source_name, text, &*self.lookup)?;
        if expanded.text.len() as u64 > 2 * MAX_FILE_BYTES {
            return Err(ConfError::new(
                source_name,
                ErrorKind::Env(format!(
                    "the file grows to {} bytes once its `${{VAR}}`s are expanded (at most {}): \
                     check what the variables hold",
                    expanded.text.len(),
                    2 * MAX_FILE_BYTES
                )),
            ));
        }
        parse(source_name, &expanded.text).map_err(|e| expanded.map_error(e))
    }
}

fn too_large(source: &str, len: u64) -> ConfError {
    ConfError::new(
        source,
        ErrorKind::Read(format!(
            "{len} bytes is more than the {MAX_FILE_BYTES} a config file may have (configs \
             are small: is this the right file?)"
        )),
    )
}

/// Parses expanded text: the tree first (syntax errors with positions), then serde, then
/// the unknown-key check against what serde kept.
fn parse<T: DeserializeOwned + Serialize>(source: &str, text: &str) -> Result<T, ConfError> {
    let root = match tree::parse(source, text)? {
        Some(root) if !root.is_null() => root,
        _ => {
            return Err(ConfError::new(
                source,
                ErrorKind::Read(
                    "the file is empty: expected keys such as `Name: my-service`".into(),
                ),
            ));
        }
    };
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let retry = |text: &str| {
            serde_yaml_ng::from_str::<T>(text)
                .err()
                .map(|e| e.to_string())
        };
        let input = report::Input {
            source,
            text,
            root: &root,
            retry: &retry,
        };
        report::serde_error(&input, e)
    })?;
    let written = serde_json::to_value(&value).map_err(|e| {
        ConfError::new(
            source,
            ErrorKind::Invalid(format!(
                "the config type cannot be checked for unknown keys (it must serialize \
                 to a JSON-like tree): {e}"
            )),
        )
    })?;
    keys::check(source, &root, &written)?;
    Ok(value)
}
