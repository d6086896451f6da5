//! Loading an API: the file and its imports (relative to the importing file, cycles
//! refused, a file imported twice read once), then goctl's checks ([`check`]: `api.go`'s
//! `SelfCheck` and the analyzer), then the resolved [`Spec`].
//!
//! Every problem is reported with `file:line:column`; all of them, not just the first.
//! So is every warning: the legacy forms goctl still loads (see [`crate::api::parser`])
//! and tags go-zero reads only in part (see [`crate::api::tag`]).
//!
//! [`check`]: super::check

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ast::{self, File, Stmt};
use super::parser::{ParseError, Warning, parse};
use super::spec::Spec;
pub use super::tag::parse_tag;

/// Files larger than this are refused: an API description is never this big.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Everything wrong with an API, each with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The problems, in the order found.
    pub errors: Vec<ParseError>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        ApiError { errors: vec![e] }
    }
}

/// A parsed file and the name errors use for it.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The path as displayed.
    pub name: String,
    /// The syntax tree.
    pub file: File,
}

/// Reads and parses `path` alone (no imports, no checks): what the formatter needs.
pub fn parse_file(path: &Path) -> Result<Parsed, ApiError> {
    let name = path.display().to_string();
    let src = read(path, &name, None)?;
    Ok(Parsed {
        file: parse(&name, &src)?,
        name,
    })
}

/// An API that loaded, and the warnings it gave.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The resolved API.
    pub spec: Spec,
    /// Legacy forms and half-read tags, in the order found, each with its position.
    pub warnings: Vec<Warning>,
}

/// Loads `path` with its imports, checks it and resolves it. Warnings go to stderr, as
/// every command wants them; [`load_checked`] returns them instead.
pub fn load(path: &Path) -> Result<Spec, ApiError> {
    let name = path.display().to_string();
    let src = read(path, &name, None)?;
    load_source(path, &src)
}

/// Like [`load`] for text already read; imports are resolved relative to `path`.
pub fn load_source(path: &Path, src: &str) -> Result<Spec, ApiError> {
    let loaded = load_checked(path, Some(src))?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    Ok(loaded.spec)
}

/// Loads `path` (or `src`, standing for its text) with its imports and checks it,
/// returning the warnings with the spec.
pub fn load_checked(path: &Path, src: Option<&str>) -> Result<Loaded, ApiError> {
    let owned;
    let src = match src {
        Some(s) => s,
        None => {
            owned = read(path, &path.display().to_string(), None)?;
            &owned
        }
    };
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = Vec::new();
    collect(path, Some(src), None, &mut files, &mut seen, &mut stack)?;
    super::check::resolve(&files)
}

fn read(path: &Path, name: &str, at: Option<(&str, ast::Pos)>) -> Result<String, ApiError> {
    let fail = |message: String| -> ApiError {
        let (file, pos) = at.map_or((name.to_string(), ast::Pos::default()), |(f, p)| {
            (f.to_string(), p)
        });
        ParseError { file, pos, message }.into()
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read {name}: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "{name} is {} bytes; .api files above {MAX_FILE_BYTES} bytes are refused",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read {name}: {e}")))?;
    String::from_utf8(bytes).map_err(|e| fail(format!("{name} is not UTF-8: {e}")))
}

fn collect(
    path: &Path,
    src: Option<&str>,
    at: Option<(&str, ast::Pos)>,
    files: &mut Vec<Parsed>,
    seen: &mut HashSet<PathBuf>,
    stack: &mut Vec<PathBuf>,
) -> Result<(), ApiError> {
    let name = path.display().to_string();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if stack.contains(&key) {
        let chain: Vec<String> = stack
            .iter()
            .chain(std::iter::once(&key))
            .map(|p| p.display().to_string())
            .collect();
        let (file, pos) = at.map_or((name.clone(), ast::Pos::default()), |(f, p)| {
            (f.to_string(), p)
        });
        return Err(ParseError {
            file,
            pos,
            message: format!("import cycle: {}", chain.join(" -> ")),
        }
        .into());
    }
    if !seen.insert(key.clone()) {
        return Ok(());
    }
    let src = match src {
        Some(s) => s.to_string(),
        None => read(path, &name, at)?,
    };
    let file = parse(&name, &src)?;
    stack.push(key);
    let dir = path.parent().unwrap_or(Path::new(""));
    let imports: Vec<(String, ast::Pos)> = file
        .stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Import(i) => Some(i.paths.iter().map(|(p, pos, _)| (p.clone(), *pos))),
            _ => None,
        })
        .flatten()
        .collect();
    files.push(Parsed {
        name: name.clone(),
        file,
    });
    for (imp, pos) in imports {
        if imp.trim().is_empty() {
            return Err(ParseError {
                file: name,
                pos,
                message: "empty import path".into(),
            }
            .into());
        }
        let target = dir.join(&imp);
        collect(&target, None, Some((&name, pos)), files, seen, stack)?;
    }
    stack.pop();
    Ok(())
}
