//! The Dockerfile of `rzeroctl docker`: `deploy/docker/Dockerfile` for one package.
//!
//! The builder compiles `cargo build --release --locked -p NAME` with the workspace as
//! context (cargo needs `Cargo.lock` and every member), using BuildKit cache mounts for
//! the registry and `target/`. The runtime stage has no `RUN` at all: the `/app` tree,
//! owned by uid 10001, and the CA bundle (and the zone file, with `--tz`) are copied
//! from the builder. So the base can be anything with glibc, `debian:bookworm-slim` or a
//! distroless `cc` image alike, as goctl's `--base` can be `scratch` for Go.

use super::validate::{self, Invalid};
use super::{DockerArgs, Kind};

/// The uid and gid the service runs as (the same as `deploy/docker/Dockerfile` and the
/// manifests' `runAsUser`).
pub(super) const APP_UID: u32 = 10001;

/// Checked `rzeroctl docker` options.
#[derive(Debug)]
pub(super) struct Spec<'a> {
    service: &'a str,
    exe: &'a str,
    port: u16,
    metrics_port: u16,
    base: &'a str,
    rust_version: &'a str,
    tz: Option<&'a str>,
    config: String,
}

/// The default port of each kind (the SPEC's: order-api 8888, order-rpc 8080).
pub(super) fn default_port(kind: Kind) -> u16 {
    match kind {
        Kind::Rest => 8888,
        Kind::Rpc => 8080,
    }
}

/// The config file copied into the image, relative to the build context.
pub(super) fn config_path(args: &DockerArgs) -> String {
    args.config
        .clone()
        .unwrap_or_else(|| format!("etc/{}.yaml", args.service))
}

// === impl Spec ===

impl<'a> Spec<'a> {
    /// Checks every option; the first failure names its flag.
    pub(super) fn new(args: &'a DockerArgs) -> Result<Self, Invalid> {
        validate::cargo_package("service", &args.service)?;
        if let Some(exe) = &args.exe {
            validate::cargo_package("exe", exe)?;
        }
        validate::image("base", &args.base)?;
        validate::rust_version("rust-version", &args.rust_version)?;
        if let Some(tz) = &args.tz {
            validate::time_zone("tz", tz)?;
        }
        let config = config_path(args);
        validate::context_path("config", &config)?;
        let port = args.port.unwrap_or_else(|| default_port(args.kind));
        if port == args.metrics_port {
            return Err(format!(
                "--metrics-port {} is the service's port too; give them different ports",
                args.metrics_port
            ));
        }
        Ok(Spec {
            service: &args.service,
            exe: args.exe.as_deref().unwrap_or(&args.service),
            port,
            metrics_port: args.metrics_port,
            base: &args.base,
            rust_version: &args.rust_version,
            tz: args.tz.as_deref(),
            config,
        })
    }
}

/// The Dockerfile's text (`templates/deploy/Dockerfile.tpl`).
pub(super) fn render(s: &Spec<'_>) -> Result<String, String> {
    crate::render::render(
        "deploy/Dockerfile.tpl",
        serde_json::json!({
            "service": s.service,
            "exe": s.exe,
            "port": s.port,
            "metrics_port": s.metrics_port,
            "base": s.base,
            "rust_version": s.rust_version,
            "tz": s.tz,
            "config": s.config,
            "uid": APP_UID,
        }),
    )
}
