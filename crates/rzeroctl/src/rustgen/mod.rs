//! `rzeroctl api rust`: being written (issue 8).

/// `rzeroctl api rust` options.
#[derive(Debug, clap::Args)]
pub struct RustArgs {}

/// Runs `rzeroctl api rust`.
pub fn run(_args: &RustArgs) -> Result<(), crate::CmdError> {
    Err("`api rust` is not written yet".into())
}
