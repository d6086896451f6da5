//! `rzeroctl model mysql ddl`: being written (issue 8).

/// `rzeroctl model mysql ddl` options.
#[derive(Debug, clap::Args)]
pub struct DdlArgs {}

/// Runs `rzeroctl model mysql ddl`.
pub fn ddl(_args: &DdlArgs) -> Result<(), crate::CmdError> {
    Err("`model mysql ddl` is not written yet".into())
}
