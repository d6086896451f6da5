//! Where a generated crate gets rzero from, and the third-party versions it pins, in one
//! place so every generator writes the same `Cargo.toml` lines.
//!
//! By default a generated crate depends on the rzero that generated it, in a way that
//! builds: when this rzeroctl was built from a checkout of rzero (`cargo run -p rzeroctl`,
//! or `cargo install --path crates/rzeroctl`), that checkout's `crates/rzero`; otherwise
//! (installed from crates.io) the release of the same version. `--rzero-path` and
//! `--rzero-version` override the choice, which every command prints.

use std::path::{Path, PathBuf};

use crate::render::toml_str;

/// Where a generated crate gets rzero from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RzeroSource {
    /// A crates.io version.
    Version(String),
    /// A local checkout of the rzero workspace (the folder holding `crates/rzero`).
    Path(PathBuf),
}

/// `--rzero-path` / `--rzero-version`, shared by the commands that write a `Cargo.toml`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RzeroArgs {
    /// Depend on this local rzero checkout (its workspace root) instead of the default.
    #[arg(long, conflicts_with = "rzero_version")]
    pub rzero_path: Option<PathBuf>,
    /// Depend on this crates.io release of rzero instead of the default.
    #[arg(long)]
    pub rzero_version: Option<String>,
}

// === impl RzeroArgs ===

impl RzeroArgs {
    /// The source these flags choose, or the default (see the module docs).
    pub fn source(&self) -> RzeroSource {
        match (&self.rzero_path, &self.rzero_version) {
            (Some(path), _) => RzeroSource::Path(path.clone()),
            (None, Some(v)) => RzeroSource::Version(v.clone()),
            (None, None) => RzeroSource::detect(),
        }
    }
}

// === impl RzeroSource ===

impl RzeroSource {
    /// The checkout this rzeroctl was built from, if it is still there; else the release
    /// of this rzeroctl's version.
    pub fn detect() -> Self {
        match built_from_checkout() {
            Some(root) => RzeroSource::Path(root),
            None => RzeroSource::Version(env!("CARGO_PKG_VERSION").to_owned()),
        }
    }

    /// From a `--rzero-path` option alone (commands without `--rzero-version`).
    pub fn from_option(path: Option<PathBuf>) -> Self {
        path.map_or_else(Self::detect, RzeroSource::Path)
    }

    /// What `Cargo.toml` will say, for the command's output.
    pub fn describe(&self) -> String {
        match self {
            RzeroSource::Version(v) => format!("rzero {v} from crates.io"),
            RzeroSource::Path(p) => format!(
                "rzero from the local checkout {} (use --rzero-version to depend on a release)",
                p.display()
            ),
        }
    }

    /// The `[dependencies]` line for the `rzero` facade crate with `features`
    /// (default features off, so a generated crate only builds what it uses).
    pub fn dependency(&self, features: &[&str]) -> String {
        let features = features
            .iter()
            .map(|f| toml_str(f))
            .collect::<Vec<_>>()
            .join(", ");
        match self {
            RzeroSource::Version(v) => format!(
                "rzero = {{ version = {}, default-features = false, features = [{features}] }}",
                toml_str(v)
            ),
            RzeroSource::Path(root) => format!(
                "rzero = {{ path = {}, default-features = false, features = [{features}] }}",
                toml_str(&root.join("crates/rzero").to_string_lossy())
            ),
        }
    }
}

/// The rzero workspace root this binary was compiled in, when it still holds the facade
/// crate (a crates.io install was compiled in `~/.cargo/registry`, which does not).
fn built_from_checkout() -> Option<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent()?.parent()?;
    let facade = root.join("crates/rzero/Cargo.toml");
    let text = std::fs::read_to_string(facade).ok()?;
    text.contains("name = \"rzero\"")
        .then(|| root.to_path_buf())
}

/// Third-party versions generated crates depend on: the ones rzero itself is built with.
pub mod versions {
    /// `tokio`
    pub const TOKIO: &str = "1.48";
    /// `serde`
    pub const SERDE: &str = "1";
    /// `serde_json`
    pub const SERDE_JSON: &str = "1";
    /// `tonic`, `tonic-prost`, `tonic-prost-build`
    pub const TONIC: &str = "0.14";
    /// `prost`
    pub const PROST: &str = "0.14";
    /// `protoc-bin-vendored`
    pub const PROTOC_BIN_VENDORED: &str = "3";
    /// `opentelemetry`
    pub const OPENTELEMETRY: &str = "0.33";
    /// `tracing`
    pub const TRACING: &str = "0.1";
}

/// All of [`versions`] by name, for templates.
pub fn versions_map() -> std::collections::BTreeMap<&'static str, &'static str> {
    use versions::*;
    [
        ("tokio", TOKIO),
        ("serde", SERDE),
        ("serde_json", SERDE_JSON),
        ("tonic", TONIC),
        ("prost", PROST),
        ("protoc_bin_vendored", PROTOC_BIN_VENDORED),
        ("opentelemetry", OPENTELEMETRY),
        ("tracing", TRACING),
    ]
    .into_iter()
    .collect()
}

/// `s` as a TOML basic string, escaped (kept for callers outside the templates).
pub fn toml_string(s: &str) -> String {
    toml_str(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_dependency_is_escaped() {
        let d = RzeroSource::Path(PathBuf::from("/a \"b\"")).dependency(&["rest"]);
        assert_eq!(
            d,
            "rzero = { path = \"/a \\\"b\\\"/crates/rzero\", default-features = false, features = [\"rest\"] }"
        );
    }

    #[test]
    fn a_checkout_build_points_at_its_checkout() {
        // This test binary was built from the checkout, so the default is it.
        match RzeroSource::detect() {
            RzeroSource::Path(root) => assert!(root.join("crates/rzero/Cargo.toml").exists()),
            other => panic!("expected the checkout, got {other:?}"),
        }
        let args = RzeroArgs {
            rzero_path: None,
            rzero_version: Some("0.2.0".into()),
        };
        assert_eq!(args.source(), RzeroSource::Version("0.2.0".into()));
    }
}
