//! The one error of this crate: where (file, line, column, key) and what was expected.

use std::fmt;

/// A config file that cannot be used, with everything a person needs to fix it.
///
/// Displays as `etc/order.yaml:3:7: Port: expected u16, found "abc"`; parts that are not
/// known (a missing file has no line) are left out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfError {
    /// The file name as given, or the source name given to `load_str`.
    pub source_name: String,
    /// 1-based line, when known (a `u32` keeps the error small; files are at most 1 MiB).
    pub line: Option<u32>,
    /// 1-based column in characters, when known.
    pub column: Option<u32>,
    /// The dotted key path at fault, e.g. `Etcd.Hosts[0]`; empty for the whole file.
    pub key: String,
    /// What is wrong and what was expected.
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file cannot be read (missing, permissions, not UTF-8, too large, empty).
    Read(String),
    /// The text is not valid YAML.
    Syntax(String),
    /// A `${VAR}` reference cannot be expanded.
    Env(String),
    /// A key the config does not know; `expected` lists the keys it does know.
    UnknownKey {
        /// Keys valid at that place, sorted.
        expected: Vec<String>,
        /// The expected key it is a likely typo of (`Hostz` for `Hosts`).
        did_you_mean: Option<String>,
    },
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong type or out of range.
    Invalid(String),
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source_name)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        match &self.kind {
            ErrorKind::Read(m)
            | ErrorKind::Syntax(m)
            | ErrorKind::Env(m)
            | ErrorKind::Invalid(m) => f.write_str(m),
            ErrorKind::MissingKey => f.write_str("this key is required but missing"),
            ErrorKind::UnknownKey { expected, .. } if expected.is_empty() => {
                f.write_str("unknown key: this section takes no keys")
            }
            ErrorKind::UnknownKey {
                expected,
                did_you_mean: Some(near),
            } => write!(
                f,
                "unknown key: did you mean `{near}`? (keys are case-sensitive; expected one \
                 of {})",
                expected.join(", ")
            ),
            ErrorKind::UnknownKey { expected, .. } => write!(
                f,
                "unknown key (check its spelling and case): expected one of {}",
                expected.join(", ")
            ),
        }
    }
}

impl ConfError {
    pub(crate) fn new(source_name: &str, kind: ErrorKind) -> Self {
        ConfError {
            source_name: source_name.to_owned(),
            line: None,
            column: None,
            key: String::new(),
            kind,
        }
    }

    pub(crate) fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(u32::try_from(line).unwrap_or(u32::MAX));
        self.column = Some(u32::try_from(column).unwrap_or(u32::MAX));
        self
    }

    pub(crate) fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }
}
