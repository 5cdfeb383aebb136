//! `pipescope watch`: attaches to a running pipeline found from any of its members through
//! the pipes at their standard input and output, and shows it live until every stage
//! exits or the user quits; then reports, as `run` does.

use pipescope_core::ProcessSelector;
use pipescope_core::sample::{self, Sampler, Target};

use crate::live::{self, Setup, ViewArgs};

/// Arguments of `pipescope watch`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example: pipescope watch gzip   (every pipeline with a gzip in it)")]
pub struct Args {
    #[command(flatten)]
    view: ViewArgs,
    /// Members of the pipeline: process ids or exact process names.
    #[arg(required = true, value_name = "PID|NAME")]
    targets: Vec<String>,
}

/// Runs `pipescope watch`.
pub fn run(args: Args) -> anyhow::Result<()> {
    sample::supported()?;
    let selectors: Vec<ProcessSelector> = args.targets.iter().map(|t| t.as_str().into()).collect();
    let sampler = Sampler::new(Target::Connected(selectors), Vec::new())?;
    let setup = Setup {
        verb: "watch",
        command: args.targets.join(" "),
        interval: args.view.interval,
        mode: args.view.mode(false),
        from_zero: false,
    };
    live::drive(sampler, setup, None, live::interrupt_flag())?;
    Ok(())
}
