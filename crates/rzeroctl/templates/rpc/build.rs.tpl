//! Compiles `proto/{{ proto | comment }}` with the protoc inside `protoc-bin-vendored`, so no
//! system protoc is needed: the messages, each service's server and client, and a
//! descriptor set for gRPC reflection. Regenerate with
//! `rzeroctl rpc protoc <file.proto> --dir .` after editing the proto.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=proto");
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let protos = [PathBuf::from({{ ("proto/" ~ proto) | rust_str }})];
    let includes = [PathBuf::from("proto"), protoc_bin_vendored::include_path()?];
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("descriptor.bin"))
        .include_file("pb.rs")
        .compile_with_config(config, &protos, &includes)?;
    Ok(())
}
