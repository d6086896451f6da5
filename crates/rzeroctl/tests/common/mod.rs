//! Support for tests that build what rzeroctl generates with a real `cargo`.
//!
//! Every generated crate is built in its own `[workspace]` under `target/rzeroctl-gen/`,
//! with rzero's own `Cargo.lock` copied in (the same dependency versions as the
//! workspace) and one shared `CARGO_TARGET_DIR` (`target/rzeroctl-gen/target`), so the
//! dependencies compile once for all such tests. Cargo's lock on that directory
//! serialises concurrent builds.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The rzero workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/rzeroctl sits two levels under the workspace")
        .to_path_buf()
}

/// A fresh directory for `name` under `target/rzeroctl-gen/work/` (emptied first).
pub fn scratch(name: &str) -> PathBuf {
    let dir = workspace_root().join("target/rzeroctl-gen/work").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The shared target directory of generated crates.
pub fn target_dir() -> PathBuf {
    workspace_root().join("target/rzeroctl-gen/target")
}

/// `cargo <args>` in `dir` with the shared target dir and rzero's lock file; panics with
/// cargo's output when it fails.
pub fn cargo(dir: &Path, args: &[&str]) {
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(workspace_root().join("Cargo.lock"), &lock).expect("copy Cargo.lock");
    }
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {args:?} in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The path of a binary built by [`cargo`] in the debug profile.
pub fn binary(name: &str) -> PathBuf {
    target_dir().join("debug").join(name)
}
