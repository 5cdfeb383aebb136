//! `pipescope pipes`.

/// Arguments of `pipescope pipes`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `pipescope pipes`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pipescope pipes` is not implemented yet")
}
