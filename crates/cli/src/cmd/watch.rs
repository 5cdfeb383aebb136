//! `pipescope watch`.

/// Arguments of `pipescope watch`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `pipescope watch`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pipescope watch` is not implemented yet")
}
