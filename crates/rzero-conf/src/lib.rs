//! rzero-conf: a service's YAML config file, read the way go-zero reads it, with errors
//! that say where and what.
//!
//! - go-zero's key names (`Name`, `ListenOn`, `Etcd: {Hosts, Key}`, ...), composed the way
//!   go-zero embeds `rest.RestConf`: with `#[serde(flatten)]`;
//! - `${VAR}` and `${VAR:-default}` expanded before parsing (see [`mod@env`] for why an unset
//!   variable is an error);
//! - defaults as serde `default = "fn"` functions on the fields;
//! - unknown keys rejected even through `flatten` (see `keys` for how, and the constraint
//!   that puts on config structs);
//! - every error is a [`ConfError`] naming the file, line, column and key.
//!
//! ```
//! use rzero_conf::{EtcdConf, Loader, ServiceConf};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Deserialize, Serialize)]
//! struct Config {
//!     #[serde(flatten)]
//!     service: ServiceConf,
//!     #[serde(rename = "ListenOn", default = "default_listen_on")]
//!     listen_on: String,
//!     #[serde(rename = "Etcd")]
//!     etcd: EtcdConf,
//! }
//! fn default_listen_on() -> String { "0.0.0.0:8080".into() }
//!
//! let yaml = "Name: order.rpc\nEtcd:\n  Hosts: [\"${ETCD:-127.0.0.1:2379}\"]\n  Key: order.rpc\n";
//! let c: Config = Loader::new().env(|_| None).load_str("order.yaml", yaml).unwrap();
//! assert_eq!(c.etcd.hosts, ["127.0.0.1:2379"]);
//! assert_eq!(c.listen_on, "0.0.0.0:8080");
//!
//! let typo = "Name: order.rpc\nEtcd:\n  Hosts: [x]\n  Key: k\n  Lease: 5\n";
//! let err = Loader::new().load_str::<Config>("order.yaml", typo).unwrap_err();
//! assert!(err.to_string().starts_with("order.yaml:5:3: Etcd.Lease: unknown key"));
//!
//! let typo = "Name: order.rpc\nEtcd:\n  Hostz: [x]\n  Key: k\n";
//! let err = Loader::new().load_str::<Config>("order.yaml", typo).unwrap_err();
//! assert!(err.to_string().ends_with("found `Hostz`: did you mean `Hosts`? (keys are case-sensitive)"));
//! ```
#![warn(missing_docs)]

pub mod duration;
mod env;
mod error;
mod keys;
mod sections;

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::{ConfError, ErrorKind};
pub use sections::{
    EtcdConf, Mode, RedisConf, RedisType, Secret, ServiceConf, SqlConf, redact_dsn,
};

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

    /// Reads and parses the file at `path`.
    pub fn load<T: DeserializeOwned + Serialize>(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<T, ConfError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let read_err = |msg: String| ConfError::new(&name, ErrorKind::Read(msg));
        let meta = std::fs::metadata(path).map_err(|e| {
            read_err(match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "no such file: pass the config file's path (e.g. `-f etc/service.yaml`)".into()
                }
                _ => format!("cannot read: {e}"),
            })
        })?;
        if !meta.is_file() {
            return Err(read_err("not a file: expected a YAML config file".into()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(read_err(format!(
                "{} bytes is more than the {MAX_FILE_BYTES} a config file may have",
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| read_err(format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            read_err(format!(
                "not UTF-8 text (invalid byte at offset {}): save the file as UTF-8",
                e.utf8_error().valid_up_to()
            ))
        })?;
        self.load_str(&name, &text)
    }

    /// Parses `text`; `source_name` is what errors call it.
    pub fn load_str<T: DeserializeOwned + Serialize>(
        &self,
        source_name: &str,
        text: &str,
    ) -> Result<T, ConfError> {
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(ConfError::new(
                source_name,
                ErrorKind::Read(format!(
                    "more than the {MAX_FILE_BYTES} bytes a config may have"
                )),
            ));
        }
        let text = env::expand(source_name, text, &*self.lookup)?;
        let blank = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if blank {
            return Err(ConfError::new(
                source_name,
                ErrorKind::Read(
                    "the file is empty: expected keys such as `Name: my-service`".into(),
                ),
            ));
        }
        let de = serde_yaml_ng::Deserializer::from_str(&text);
        let value: T =
            serde_path_to_error::deserialize(de).map_err(|e| serde_error(source_name, &text, e))?;
        let tree = serde_json::to_value(&value).map_err(|e| {
            ConfError::new(
                source_name,
                ErrorKind::Invalid(format!(
                    "the config type cannot be checked for unknown keys: {e}"
                )),
            )
        })?;
        keys::check(source_name, &text, &tree)?;
        Ok(value)
    }
}

fn serde_error(
    source: &str,
    text: &str,
    err: serde_path_to_error::Error<serde_yaml_ng::Error>,
) -> ConfError {
    let path = err.path().to_string();
    let mut path = if path == "." || path == "?" {
        String::new()
    } else {
        path
    };
    let inner = err.into_inner();
    let full = inner.to_string();
    // serde_yaml_ng writes "PATH: message at line L column C[, while ...]"; we print the
    // position as file:line:col and the path as the key, so drop both from the message.
    let mut message = match full.find(" at line ") {
        Some(i) => {
            let rest = &full[i + 1..];
            let tail = rest.find(", ").map(|j| &rest[j..]).unwrap_or("");
            format!("{}{tail}", &full[..i])
        }
        None => full,
    };
    if let Some(m) = message.strip_prefix(&format!("{path}: "))
        && !path.is_empty()
    {
        message = m.to_owned();
    }
    let quoted = |open: &str, close: char| {
        let start = message.find(open)? + open.len();
        let len = message[start..].find(close)?;
        Some(message[start..start + len].to_owned())
    };
    let mut at = None;
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        let key = if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        let near_miss = keys::keys_at(text, &path)
            .into_iter()
            .find(|k| k != field && close_to(k, field));
        let mut error = match near_miss {
            Some(found) => ConfError::new(
                source,
                ErrorKind::Invalid(format!(
                    "this key is required but missing; found `{found}`: did you mean \
                     `{field}`? (keys are case-sensitive)"
                )),
            ),
            None => ConfError::new(source, ErrorKind::MissingKey),
        }
        .key(key);
        if let Some((line, col)) = keys::locate(text, &path).filter(|_| !path.is_empty()) {
            error = error.at(line, col);
        }
        return error;
    }
    if let Some(field) = quoted("unknown field `", '`') {
        // A user struct with deny_unknown_fields: answer as our own check does.
        if let Some((p, line, col)) = keys::find(text, &field, true) {
            return ConfError::new(
                source,
                ErrorKind::UnknownKey {
                    expected: expected_fields(&message),
                },
            )
            .at(line, col)
            .key(p);
        }
    }
    if path.is_empty() {
        // Inside a flattened part serde forgets the path; find the value it complains about.
        let value = quoted("string \"", '"')
            .or_else(|| quoted("found \"", '"'))
            .or_else(|| quoted("variant `", '`'))
            .or_else(|| quoted("integer `", '`'))
            .or_else(|| quoted("floating point `", '`'))
            .or_else(|| quoted("boolean `", '`'))
            .or_else(|| {
                let (_, after) = message.rsplit_once("found ")?;
                let token = after
                    .split_whitespace()
                    .next()?
                    .trim_matches(['"', '`', ',']);
                (!token.is_empty()).then(|| token.to_owned())
            });
        if let Some((p, line, col)) = value.and_then(|v| keys::find(text, &v, false)) {
            path = p;
            at = Some((line, col));
        }
    }
    let mut error = if inner.location().is_none() && path.is_empty() {
        ConfError::new(source, ErrorKind::Syntax(message))
    } else {
        ConfError::new(source, ErrorKind::Invalid(message)).key(path.clone())
    };
    let at = at
        .or_else(|| keys::locate(text, &path).filter(|_| !path.is_empty()))
        .or_else(|| inner.location().map(|l| (l.line(), l.column())));
    if let Some((line, col)) = at {
        error = error.at(line, col);
    }
    error
}

/// A likely typo: equal but for case, or at most two edits apart (Levenshtein).
fn close_to(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 || b.len() > 64 {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

/// The field list of serde's "expected one of `A`, `B`" message.
fn expected_fields(message: &str) -> Vec<String> {
    let mut fields: Vec<String> = message
        .split("expected one of ")
        .nth(1)
        .unwrap_or("")
        .split(", ")
        .map(|f| f.trim_matches('`').to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    fields.sort();
    fields
}
