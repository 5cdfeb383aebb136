//! `pipescope handles`.

/// Arguments of `pipescope handles`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `pipescope handles`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pipescope handles` is not implemented yet")
}
