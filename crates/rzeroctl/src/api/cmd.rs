//! `rzeroctl api new|validate|format`: being written (issue 8).

/// `rzeroctl api new` options.
#[derive(Debug, clap::Args)]
pub struct NewArgs {}
/// `rzeroctl api validate` options.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}
/// `rzeroctl api format` options.
#[derive(Debug, clap::Args)]
pub struct FormatArgs {}

/// Runs `rzeroctl api new`.
pub fn new(_args: &NewArgs) -> Result<(), crate::CmdError> {
    Err("`api new` is not written yet".into())
}
/// Runs `rzeroctl api validate`.
pub fn validate(_args: &ValidateArgs) -> Result<(), crate::CmdError> {
    Err("`api validate` is not written yet".into())
}
/// Runs `rzeroctl api format`.
pub fn format(_args: &FormatArgs) -> Result<(), crate::CmdError> {
    Err("`api format` is not written yet".into())
}
