//! Compiles rzero-rpc's `echo.proto` (client and server) with the protoc that ships inside
//! `protoc-bin-vendored`, as `crates/rzero-rpc/build.rs` does, so a fresh machine builds
//! without a system protoc.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let proto_dir = "../../crates/rzero-rpc/proto";
    let echo = "../../crates/rzero-rpc/proto/echo.proto";
    println!("cargo:rerun-if-changed={echo}");
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(&protoc);
    tonic_prost_build::configure().compile_with_config(config, &[echo], &[proto_dir])?;
    Ok(())
}
