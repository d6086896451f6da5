//! Compiles the order system's protos with the protoc inside `protoc-bin-vendored`, so a
//! fresh machine needs no system protoc. Clients and servers of both services, plus a
//! descriptor set for gRPC reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=proto");
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(&protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("orders_descriptor.bin"))
        .compile_with_config(
            config,
            &["proto/order.proto", "proto/user.proto"],
            &["proto"],
        )?;
    Ok(())
}
