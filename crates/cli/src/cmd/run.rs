//! `pipescope run`.

/// Arguments of `pipescope run`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `pipescope run`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pipescope run` is not implemented yet")
}
