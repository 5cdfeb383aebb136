//! `pipescope pipe`.

/// Arguments of `pipescope pipe`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `pipescope pipe`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pipescope pipe` is not implemented yet")
}
