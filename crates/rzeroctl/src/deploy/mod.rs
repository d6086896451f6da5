//! `rzeroctl docker` and `rzeroctl kube deploy`: goctl's `goctl docker` and
//! `goctl kube deploy` for rzero services.
//!
//! Both commands parameterise the files the repository ships by hand
//! (`deploy/docker/Dockerfile`, `deploy/k8s/1x-*.yaml`), so what they write is what
//! `deploy-check` validates there: a multi-stage Dockerfile that builds one cargo
//! package and runs it as a non-root user; a Deployment (gRPC or HTTP probes, metrics
//! port with Prometheus annotations, `OTEL_*` env, requests/limits, read-only root fs),
//! a Service, an HPA at 70% CPU / 80% memory with the guide's behaviour, and a PDB.
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | the flags (goctl's camelCase names kept) and the two commands |
//! | `validate.rs` | the checks on every value, each naming its flag |
//! | `docker.rs` | the Dockerfile's values (`templates/deploy/Dockerfile.tpl`) |
//! | `kube.rs` | the manifests' values (`templates/deploy/kube.yaml.tpl`) |
//!
//! Both files belong to the user once written (they edit resources, add env): an
//! existing file is never overwritten without `--force`.

mod docker;
mod kube;
mod validate;

use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};

use crate::CmdError;
use crate::files::{self, GenFile, Written};

/// What kind of service is deployed: it decides the probes and the port's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// An HTTP gateway on rzero's rest server: HTTP `/health` and `/ready` probes.
    Rest,
    /// A gRPC service on rzero's rpc server: `grpc.health.v1` probes.
    Rpc,
}

/// `rzeroctl docker` options (goctl's `--port`, `--exe`, `--base`, `--tz`; `--service`
/// and `--rust-version` take the place of `--go` and `--version`).
#[derive(Debug, Clone, Args)]
pub struct DockerArgs {
    /// The cargo package to build (`cargo build -p NAME`).
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// The binary to run, when it is not named after the package.
    #[arg(long, value_name = "BIN")]
    pub exe: Option<String>,
    /// The kind of service (decides the default port).
    #[arg(long, value_enum, default_value_t = Kind::Rest)]
    pub kind: Kind,
    /// The port the service listens on [default: 8888 for rest, 8080 for rpc].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// The Prometheus metrics port, exposed too.
    #[arg(long = "metrics-port", default_value_t = 9090, value_parser = clap::value_parser!(u16).range(1..))]
    pub metrics_port: u16,
    /// The runtime base image; it must provide glibc and CA certificates
    /// (e.g. `gcr.io/distroless/cc-debian12`).
    #[arg(long, default_value = "debian:bookworm-slim", value_name = "IMG")]
    pub base: String,
    /// The Rust toolchain of the builder image (`rust:<V>-slim-bookworm`).
    #[arg(long = "rust-version", default_value = "1.88", value_name = "V")]
    pub rust_version: String,
    /// A time zone to bake in (`TZ`), e.g. `Asia/Shanghai`; none means UTC.
    #[arg(long, value_name = "TZ")]
    pub tz: Option<String>,
    /// The config file to copy into the image as `/app/etc/config.yaml`, relative to the
    /// build context (the directory with `Cargo.lock`) [default: etc/<NAME>.yaml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// Where to write the Dockerfile.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// Overwrite an existing Dockerfile.
    #[arg(long)]
    pub force: bool,
}

/// `rzeroctl kube deploy` options: goctl's flags (camelCase, as goctl spells them), plus
/// what an rzero service needs (kind, metrics port, OpenTelemetry, config mount).
#[derive(Debug, Clone, Args)]
pub struct KubeArgs {
    /// The Deployment and Service name (a DNS-1035 label).
    #[arg(long)]
    pub name: String,
    /// The namespace.
    #[arg(long)]
    pub namespace: String,
    /// The container image, e.g. `registry.example.com/team/order-api:1.2.3`.
    #[arg(long)]
    pub image: String,
    /// The Service's port (and the container's, unless --targetPort).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// The port the container listens on [default: --port].
    #[arg(long = "targetPort", value_parser = clap::value_parser!(u16).range(1..))]
    pub target_port: Option<u16>,
    /// Expose the Service as a NodePort on this port (30000-32767).
    #[arg(long = "nodePort", value_parser = clap::value_parser!(u16).range(30000..=32767))]
    pub node_port: Option<u16>,
    /// Pods before the HPA takes over.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub replicas: u32,
    /// Old ReplicaSets kept for rollback (`revisionHistoryLimit`).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub revisions: u32,
    /// The HPA's lower bound.
    #[arg(long = "minReplicas", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub min_replicas: u32,
    /// The HPA's upper bound.
    #[arg(long = "maxReplicas", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub max_replicas: u32,
    /// The kind of service: decides probes (HTTP /health and /ready, or gRPC health).
    #[arg(long, value_enum, default_value_t = Kind::Rest)]
    pub kind: Kind,
    /// The Prometheus metrics port (annotated for scraping).
    #[arg(long = "metrics-port", default_value_t = 9090, value_parser = clap::value_parser!(u16).range(1..))]
    pub metrics_port: u16,
    /// A headless Service (`clusterIP: None`), so `k8s://NS/NAME:PORT` clients balance
    /// across pods [default: true for rpc without --nodePort].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub headless: Option<bool>,
    /// The file to write [default: <name>.yaml].
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    // Last: a help heading applies to every argument after it.
    /// Pod details: resources, images, config and OpenTelemetry (boxed: clap's
    /// flattened group keeps the command enum small).
    #[command(flatten, next_help_heading = "Pod options")]
    pub pod: Box<PodArgs>,
}

/// `rzeroctl kube deploy`'s pod options: goctl's resource and image flags, and rzero's
/// config and OpenTelemetry settings.
#[derive(Debug, Clone, Args)]
pub struct PodArgs {
    /// CPU request: `250m`, or millicores as a bare number (goctl).
    #[arg(long = "requestCpu", default_value = "250m")]
    pub request_cpu: String,
    /// Memory request: `256Mi`, or MiB as a bare number (goctl).
    #[arg(long = "requestMem", default_value = "256Mi")]
    pub request_mem: String,
    /// CPU limit: `500m`, or millicores as a bare number (goctl).
    #[arg(long = "limitCpu", default_value = "500m")]
    pub limit_cpu: String,
    /// Memory limit: `512Mi`, or MiB as a bare number (goctl).
    #[arg(long = "limitMem", default_value = "512Mi")]
    pub limit_mem: String,
    /// The pods' ServiceAccount.
    #[arg(long = "serviceAccount")]
    pub service_account: Option<String>,
    /// `Always`, `IfNotPresent` or `Never` [default: the cluster's].
    #[arg(long = "imagePullPolicy", value_parser = ["Always", "IfNotPresent", "Never"])]
    pub image_pull_policy: Option<String>,
    /// An image pull Secret (`imagePullSecrets`).
    #[arg(long)]
    pub secret: Option<String>,
    /// A ConfigMap whose key `<name>.yaml` is mounted as `/app/etc/config.yaml`
    /// [default: the config baked into the image].
    #[arg(long = "config-map", value_name = "NAME")]
    pub config_map: Option<String>,
    /// OTEL_EXPORTER_OTLP_ENDPOINT [default: http://otel-collector.<namespace>:4317].
    #[arg(long = "otlp-endpoint", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// OTEL_EXPORTER_OTLP_PROTOCOL.
    #[arg(long = "otlp-protocol", default_value = "grpc", value_parser = ["grpc", "http/protobuf"])]
    pub otlp_protocol: String,
    /// `deployment.environment` in OTEL_RESOURCE_ATTRIBUTES.
    #[arg(long, default_value = "production")]
    pub environment: String,
}

// === impl DockerArgs ===

impl DockerArgs {
    /// Parses `rzeroctl docker`'s flags (without the command word), as the CLI does.
    pub fn from_flags<I, T>(flags: I) -> Result<Self, CmdError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        parse_flags("rzeroctl docker", flags)
    }
}

// === impl KubeArgs ===

impl KubeArgs {
    /// Parses `rzeroctl kube deploy`'s flags (without the command words), as the CLI does.
    pub fn from_flags<I, T>(flags: I) -> Result<Self, CmdError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        parse_flags("rzeroctl kube deploy", flags)
    }
}

fn parse_flags<A, I, T>(name: &'static str, flags: I) -> Result<A, CmdError>
where
    A: Args + FromArgMatches,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cmd = A::augment_args(clap::Command::new(name).no_binary_name(true));
    let matches = cmd.try_get_matches_from(flags)?;
    Ok(A::from_arg_matches(&matches)?)
}

/// The Dockerfile `rzeroctl docker` writes for these options, after checking them.
pub fn render_dockerfile(args: &DockerArgs) -> Result<String, CmdError> {
    Ok(docker::render(&docker::Spec::new(args)?)?)
}

/// The manifests (Deployment, Service, HPA, PDB) `rzeroctl kube deploy` writes for these
/// options, after checking them.
pub fn render_kube(args: &KubeArgs) -> Result<String, CmdError> {
    Ok(kube::render(&kube::Spec::new(args)?)?)
}

/// Runs `rzeroctl docker`: writes `<dir>/Dockerfile`.
pub fn docker(args: &DockerArgs) -> Result<(), CmdError> {
    let text = render_dockerfile(args)?;
    let path = args.dir.join("Dockerfile");
    write(&path, &text, args.force)?;
    let config = docker::config_path(args);
    if !args.dir.join(&config).is_file() {
        eprintln!(
            "note: `{config}` is not under {}; the build context must hold it (or pass --config)",
            args.dir.display()
        );
    }
    println!(
        "Hint: from the build context (the directory with Cargo.lock), run\n    docker build -f {} -t {}:latest .",
        path.display(),
        args.service
    );
    Ok(())
}

/// Runs `rzeroctl kube deploy`: writes the manifests to `-o FILE`.
pub fn kube(args: &KubeArgs) -> Result<(), CmdError> {
    let text = render_kube(args)?;
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.yaml", args.name)));
    write(&path, &text, args.force)?;
    println!("Hint: kubectl apply -f {}", path.display());
    Ok(())
}

/// Writes a user-owned file: refuses to replace one that exists unless `force`.
fn write(path: &Path, text: &str, force: bool) -> Result<(), CmdError> {
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => (dir, name),
        _ => return Err(format!("{}: not a file path", path.display()).into()),
    };
    let file = if force {
        GenFile::replaced(name, text.to_owned())
    } else {
        GenFile::user(name, text.to_owned())
    };
    let written = files::write_all(dir, &[file])?;
    match written.first() {
        Some(Written::Kept(_)) if !force => Err(format!(
            "{} already exists; not overwriting it (pass --force to replace it)",
            path.display()
        )
        .into()),
        Some(w) => {
            let verb = match w {
                Written::Created(_) => "created",
                Written::Updated(_) => "updated",
                Written::Kept(_) => "unchanged",
            };
            println!("{verb} {}", path.display());
            Ok(())
        }
        None => Ok(()),
    }
}
