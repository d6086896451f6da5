//! `cargo xtask codegen-check`: the order system is rzeroctl's output, so regenerating
//! every service from its contract must change nothing. Each service is copied to a temp
//! folder, regenerated there with the rzeroctl of this checkout, and compared file by file
//! with the original: a changed, new or vanished file fails with the commands to rerun.
//!
//! `cargo xtask codegen` runs the same commands in place, to bless an intended change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Result;

/// How each service in `services/` is generated: rzeroctl's arguments, run in the
/// service's folder, in order (models first: the rpc and api generators declare
/// `src/model/` when it exists).
const SERVICES: &[(&str, &[&[&str]])] = &[
    (
        "user-rpc",
        &[
            &[
                "model",
                "mysql",
                "ddl",
                "--src",
                "migrations/mysql.sql",
                "--dir",
                "src/model",
                "--cache",
            ],
            &["rpc", "protoc", "proto/user.proto", "--dir", "."],
        ],
    ),
    (
        "order-rpc",
        &[
            &[
                "model",
                "mysql",
                "ddl",
                "--src",
                "migrations/mysql.sql",
                "--src",
                "migrations/mysql_2.sql",
                "--dir",
                "src/model",
                "--cache",
            ],
            &["rpc", "protoc", "proto/order.proto", "--dir", "."],
        ],
    ),
    (
        "order-api",
        &[&["api", "rust", "--api", "order.api", "--dir", "."]],
    ),
];

/// Folders (at any depth) that generation never touches: build output, the embedded
/// run's SQLite files.
const SKIP: &[&str] = &["target", "data"];

/// Regenerates every service in place (to bless an intended generator change).
pub(crate) fn regenerate() -> Result {
    let rzeroctl = build_rzeroctl()?;
    for (name, commands) in SERVICES {
        run_all(&rzeroctl, &services().join(name), commands)?;
    }
    Ok(())
}

/// Regenerates every service in a copy and fails on any difference.
pub(crate) fn check() -> Result {
    let rzeroctl = build_rzeroctl()?;
    let scratch = std::env::temp_dir().join(format!("rzero-codegen-{}", std::process::id()));
    let outcome = check_in(&rzeroctl, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}

fn check_in(rzeroctl: &Path, scratch: &Path) -> Result {
    let mut drift = Vec::new();
    for (name, commands) in SERVICES {
        let original = services().join(name);
        let copy = scratch.join(name);
        copy_tree(&original, &copy).map_err(|e| format!("copying {name}: {e}"))?;
        run_all(rzeroctl, &copy, commands)?;
        let before = read_tree(&original).map_err(|e| format!("reading {name}: {e}"))?;
        let after = read_tree(&copy).map_err(|e| format!("reading the copy of {name}: {e}"))?;
        for (path, text) in &after {
            match before.get(path) {
                None => drift.push(format!("{name}/{}: new file", path.display())),
                Some(old) if old != text => {
                    drift.push(format!("{name}/{}: differs", path.display()))
                }
                Some(_) => {}
            }
        }
        for path in before.keys().filter(|p| !after.contains_key(*p)) {
            drift.push(format!("{name}/{}: removed", path.display()));
        }
    }
    if drift.is_empty() {
        eprintln!("codegen-check: every service is what rzeroctl generates");
        return Ok(());
    }
    Err(format!(
        "services/ drifted from what rzeroctl generates:\n  {}\n\
         Regenerate with `cargo xtask codegen` (then review the diff), or change the \
         generator instead of the generated file.",
        drift.join("\n  ")
    ))
}

fn services() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../services")
}

fn build_rzeroctl() -> Result<PathBuf> {
    crate::cargo(&["build", "--quiet", "-p", "rzeroctl"])?;
    Ok(crate::target_dir().join("debug/rzeroctl"))
}

fn run_all(rzeroctl: &Path, dir: &Path, commands: &[&[&str]]) -> Result {
    for args in commands {
        let out = std::process::Command::new(rzeroctl)
            .args(*args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot start {}: {e}", rzeroctl.display()))?;
        if !out.status.success() {
            return Err(format!(
                "`rzeroctl {}` in {} failed:\n{}{}",
                args.join(" "),
                dir.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if SKIP.iter().any(|s| name == *s) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Every file under `root` (less [`SKIP`] folders) by its relative path.
fn read_tree(root: &Path) -> std::io::Result<BTreeMap<PathBuf, Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if SKIP.iter().any(|s| entry.file_name() == *s) {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.insert(rel.to_path_buf(), std::fs::read(&path)?);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out)?;
    Ok(out)
}
