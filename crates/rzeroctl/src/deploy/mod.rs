//! `rzeroctl docker` and `rzeroctl kube deploy`: being written (issue 8).

/// `rzeroctl docker` options.
#[derive(Debug, clap::Args)]
pub struct DockerArgs {}

/// `rzeroctl kube deploy` options.
#[derive(Debug, clap::Args)]
pub struct KubeArgs {}

/// Runs `rzeroctl docker`.
pub fn docker(_args: &DockerArgs) -> Result<(), crate::CmdError> {
    Err("`docker` is not written yet".into())
}

/// Runs `rzeroctl kube deploy`.
pub fn kube(_args: &KubeArgs) -> Result<(), crate::CmdError> {
    Err("`kube deploy` is not written yet".into())
}
