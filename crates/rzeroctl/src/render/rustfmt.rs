//! Rust output through `rustfmt`, so a generated crate passes `cargo fmt --check`.
//!
//! There is no maintained rustfmt library on crates.io (the `rustfmt-nightly` crate is
//! the compiler's own, unstable); tools that emit Rust (bindgen, the old prost-build)
//! call the `rustfmt` binary, and so does this. It reads the code on stdin with a config
//! of defaults only (`--config-path` an empty file), edition 2024 as generated crates
//! are. Without a rustfmt (`$RUSTFMT`, else on `PATH`), the code is written as the
//! templates give it, which compiles, and a warning says to run `cargo fmt`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// `code` formatted by rustfmt; an error means the code does not parse.
pub(crate) fn format_rust(code: &str) -> Result<String, String> {
    let Some(config) = empty_config() else {
        return Ok(unformatted(code));
    };
    let program = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let child = Command::new(&program)
        .args([
            "--edition",
            "2024",
            "--emit",
            "stdout",
            "--quiet",
            "--config-path",
        ])
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) => return Ok(unformatted(code)),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // rustfmt reads all of stdin before writing: no deadlock on the pipes.
        stdin
            .write_all(code.as_bytes())
            .map_err(|e| format!("cannot feed rustfmt: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt did not finish: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rzeroctl generated Rust that does not parse; please report this with your input:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("rustfmt wrote non-UTF-8: {e}"))
}

fn unformatted(code: &str) -> String {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "warning: rustfmt not found (install it with `rustup component add rustfmt`); \
             the generated code is not formatted: run `cargo fmt` in the crate"
        );
    }
    code.to_owned()
}

/// An empty `rustfmt.toml` of our own, so a user's config does not change our output.
fn empty_config() -> Option<&'static std::path::Path> {
    static PATH: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rzeroctl-rustfmt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join("rustfmt.toml");
        std::fs::write(&path, "").ok()?;
        Some(path)
    })
    .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_cargo_fmt_and_refuses_what_does_not_parse() {
        let out = format_rust("fn  main( ) { let x=1;  }\nstruct A{a:u8}").expect("formats");
        assert_eq!(
            out,
            "fn main() {\n    let x = 1;\n}\nstruct A {\n    a: u8,\n}\n"
        );
        assert!(format_rust("fn main( {").is_err());
    }
}
