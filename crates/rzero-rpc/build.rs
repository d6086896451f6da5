//! Compiles the crate's protos with the protoc that ships inside `protoc-bin-vendored`, so
//! a fresh machine builds without a system protoc: `etcd.proto` (the slice of etcd's API
//! that discovery uses: client only) and `echo.proto` (the service of the tests, examples
//! and benchmarks: client and server, with a descriptor set for reflection).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=proto");

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(&protoc);
    tonic_prost_build::configure()
        .build_server(false)
        .compile_with_config(config, &["proto/etcd.proto"], &["proto"])?;

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(&protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("echo_descriptor.bin"))
        .compile_with_config(config, &["proto/echo.proto"], &["proto"])?;
    Ok(())
}
