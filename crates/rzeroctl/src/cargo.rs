//! The `Cargo.toml` dependencies generated crates use, in one place so every generator
//! pins the same versions as the rzero release that generated them.

use std::path::PathBuf;

/// Where a generated crate gets rzero from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RzeroSource {
    /// A crates.io version (the default: this rzeroctl's own version).
    Version(String),
    /// A local checkout of the rzero workspace (`--rzero-path`): used by rzero's own tests
    /// and by teams vendoring rzero. Points at the workspace root (the folder holding
    /// `crates/rzero`).
    Path(PathBuf),
}

impl Default for RzeroSource {
    fn default() -> Self {
        RzeroSource::Version(env!("CARGO_PKG_VERSION").to_string())
    }
}

impl RzeroSource {
    /// From the `--rzero-path` option: `None` means the crates.io release.
    pub fn from_option(path: Option<PathBuf>) -> Self {
        path.map_or_else(Self::default, RzeroSource::Path)
    }

    /// The `[dependencies]` line for the `rzero` facade crate with `features`
    /// (default features off, so a generated crate only builds what it uses).
    pub fn dependency(&self, features: &[&str]) -> String {
        let features = features
            .iter()
            .map(|f| format!("\"{f}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match self {
            RzeroSource::Version(v) => format!(
                "rzero = {{ version = \"{v}\", default-features = false, features = [{features}] }}"
            ),
            RzeroSource::Path(root) => format!(
                "rzero = {{ path = {}, default-features = false, features = [{features}] }}",
                toml_string(&root.join("crates/rzero").to_string_lossy())
            ),
        }
    }
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

/// `s` as a TOML basic string, escaped.
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
}
