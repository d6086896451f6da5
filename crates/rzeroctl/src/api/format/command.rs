//! `rzeroctl api format --dir D | --stdin [--check]`.
//!
//! Files that do not parse are reported (`file:line:column: ...`) and left untouched;
//! the others are still formatted. The legacy forms a file held are listed as warnings
//! (`file:line:column: warning: ...`) on stderr: formatting rewrites them. A file is rewritten only when its text changes, via
//! a temporary file renamed over it so that a crash never leaves half a file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::format_checked;
use crate::CmdError;
use crate::api::load::MAX_FILE_BYTES;

/// Runs the command: `dir` in place, or stdin to stdout; `check` only lists changes.
pub fn run(dir: Option<&Path>, stdin: bool, check: bool) -> Result<(), CmdError> {
    match (dir, stdin) {
        (_, true) => run_stdin(check),
        (Some(dir), false) => run_dir(dir, check),
        (None, false) => Err("give --dir DIR (format .api files in place) or --stdin".into()),
    }
}

fn run_stdin(check: bool) -> Result<(), CmdError> {
    let mut src = String::new();
    std::io::stdin()
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut src)
        .map_err(|e| format!("reading stdin: {e}"))?;
    if src.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("stdin holds more than {MAX_FILE_BYTES} bytes; refused").into());
    }
    let (out, warnings) = format_checked("<stdin>", &src)?;
    for w in &warnings {
        eprintln!("{w}");
    }
    if check {
        if out != src {
            println!("<stdin>");
            return Err("<stdin> is not formatted".into());
        }
        return Ok(());
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

fn run_dir(dir: &Path, check: bool) -> Result<(), CmdError> {
    if !dir.is_dir() {
        return Err(format!("{}: no such directory", dir.display()).into());
    }
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
    files.sort();
    let (mut errors, mut changed) = (Vec::new(), Vec::new());
    for path in files {
        match format_one(&path, check) {
            Ok(true) => changed.push(path),
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
    }
    if check {
        for p in &changed {
            println!("{}", p.display());
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("\n").into());
    }
    if check && !changed.is_empty() {
        return Err(format!("{} file(s) are not formatted", changed.len()).into());
    }
    Ok(())
}

/// `.api` files under `dir`; symlinked directories are not followed (no loops).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "api") && !kind.is_dir() {
            out.push(path);
        }
    }
    Ok(())
}

/// Formats one file; `Ok(true)` when it changed (or would, with `check`).
fn format_one(path: &Path, check: bool) -> Result<bool, String> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{name}: larger than {MAX_FILE_BYTES} bytes; left untouched"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: {e}"))?;
    let src =
        String::from_utf8(bytes).map_err(|e| format!("{name}: not UTF-8 ({e}); left untouched"))?;
    let (out, warnings) =
        format_checked(&name, &src).map_err(|e| format!("{e} (left untouched)"))?;
    for w in &warnings {
        eprintln!("{w}");
    }
    if out == src {
        return Ok(false);
    }
    if !check {
        let tmp = path.with_extension("api.rzeroctl-fmt");
        std::fs::write(&tmp, &out)
            .and_then(|()| std::fs::set_permissions(&tmp, meta.permissions()))
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("{name}: writing: {e}")
            })?;
    }
    Ok(true)
}
