//! `rzeroctl api swagger`: being written (issue 8).

/// `rzeroctl api swagger` options.
#[derive(Debug, clap::Args)]
pub struct SwaggerArgs {}

/// Runs `rzeroctl api swagger`.
pub fn run(_args: &SwaggerArgs) -> Result<(), crate::CmdError> {
    Err("`api swagger` is not written yet".into())
}
