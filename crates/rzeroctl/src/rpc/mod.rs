//! `rzeroctl rpc new|protoc`: being written (issue 8).

/// `rzeroctl rpc new` options.
#[derive(Debug, clap::Args)]
pub struct NewArgs {}

/// `rzeroctl rpc protoc` options.
#[derive(Debug, clap::Args)]
pub struct ProtocArgs {}

/// Runs `rzeroctl rpc new`.
pub fn new(_args: &NewArgs) -> Result<(), crate::CmdError> {
    Err("`rpc new` is not written yet".into())
}

/// Runs `rzeroctl rpc protoc`.
pub fn protoc(_args: &ProtocArgs) -> Result<(), crate::CmdError> {
    Err("`rpc protoc` is not written yet".into())
}
