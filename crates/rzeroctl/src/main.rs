//! The `rzeroctl` binary: goctl's command tree, each command in its library module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// go-zero's goctl for rzero: generate Rust services, models, docs and deployment
/// files from `.api`, `.proto` and SQL DDL.
#[derive(Parser)]
#[command(name = "rzeroctl", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// `.api` files: new, validate, format, rust, swagger.
    #[command(subcommand)]
    Api(ApiCmd),
    /// gRPC services from `.proto` files.
    #[command(subcommand)]
    Rpc(RpcCmd),
    /// Typed models over rzero's stores from SQL DDL.
    #[command(subcommand)]
    Model(ModelCmd),
    /// A Dockerfile for a service.
    Docker(rzeroctl::deploy::DockerArgs),
    /// Kubernetes manifests.
    #[command(subcommand)]
    Kube(KubeCmd),
}

#[derive(Subcommand)]
enum ApiCmd {
    /// A new service from a starter `.api` (goctl api new).
    New(rzeroctl::api::cmd::NewArgs),
    /// Parse and check a `.api` file; errors as file:line:column.
    Validate(rzeroctl::api::cmd::ValidateArgs),
    /// Format `.api` files in place.
    Format(rzeroctl::api::cmd::FormatArgs),
    /// Generate (or regenerate) a Rust service on rzero from a `.api` (goctl api go).
    Rust(rzeroctl::rustgen::RustArgs),
    /// OpenAPI 3 documentation from a `.api`.
    Swagger(rzeroctl::swagger::SwaggerArgs),
}

#[derive(Subcommand)]
enum RpcCmd {
    /// A new gRPC service with a starter `.proto` (goctl rpc new).
    New(rzeroctl::rpc::NewArgs),
    /// Generate (or regenerate) a gRPC service from a `.proto` (goctl rpc protoc).
    Protoc(rzeroctl::rpc::ProtocArgs),
}

#[derive(Subcommand)]
enum ModelCmd {
    /// MySQL models.
    #[command(subcommand)]
    Mysql(MysqlCmd),
}

#[derive(Subcommand)]
enum MysqlCmd {
    /// From a DDL file (`CREATE TABLE ...`).
    Ddl(rzeroctl::model::DdlArgs),
}

#[derive(Subcommand)]
enum KubeCmd {
    /// A Deployment, Service, HPA and PDB for a service.
    Deploy(rzeroctl::deploy::KubeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Api(ApiCmd::New(a)) => rzeroctl::api::cmd::new(&a),
        Cmd::Api(ApiCmd::Validate(a)) => rzeroctl::api::cmd::validate(&a),
        Cmd::Api(ApiCmd::Format(a)) => rzeroctl::api::cmd::format(&a),
        Cmd::Api(ApiCmd::Rust(a)) => rzeroctl::rustgen::run(&a),
        Cmd::Api(ApiCmd::Swagger(a)) => rzeroctl::swagger::run(&a),
        Cmd::Rpc(RpcCmd::New(a)) => rzeroctl::rpc::new(&a),
        Cmd::Rpc(RpcCmd::Protoc(a)) => rzeroctl::rpc::protoc(&a),
        Cmd::Model(ModelCmd::Mysql(MysqlCmd::Ddl(a))) => rzeroctl::model::ddl(&a),
        Cmd::Docker(a) => rzeroctl::deploy::docker(&a),
        Cmd::Kube(KubeCmd::Deploy(a)) => rzeroctl::deploy::kube(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rzeroctl: {e}");
            ExitCode::FAILURE
        }
    }
}
