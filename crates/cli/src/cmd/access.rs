//! `pipescope access`.

/// Arguments of `pipescope access`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `pipescope access`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pipescope access` is not implemented yet")
}
