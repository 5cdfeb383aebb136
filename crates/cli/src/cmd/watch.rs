//! `pipescope watch`: attaches to a running pipeline found from any of its members through
//! the pipes at their standard input and output, and shows it live until every stage
//! exits or the user quits; then reports, as `run` does.

use anyhow::Context as _;
use pipescope_core::ProcessSelector;
use pipescope_core::sample::{self, Sampler, Target};

use crate::Exit;
use crate::live::{self, Setup, Signals, ViewArgs};

/// Arguments of `pipescope watch`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example: pipescope watch gzip   (every pipeline with a gzip in it)\n\
(--help says more: what is shown, keys, signals, exit status)"
)]
#[command(after_long_help = "\
Examples:
  pipescope watch gzip              every pipeline with a process named gzip in it
  pipescope watch 4242              the pipeline process 4242 belongs to
  pipescope watch --plain -i 1s tar one line a second, for a log

The pipeline is found from any of its members, through the pipes at their standard
input and output, and followed until every stage exits, q is pressed, or pipescope gets
SIGINT, SIGTERM, SIGHUP or SIGQUIT; then the report is printed. Counts start at the
moment of attaching. Watching only reads: the watched processes are never signalled,
paused or slowed, whatever happens to pipescope.

Exit status: 0 when the pipeline ended or q was pressed; 128 + N when signal N (or
Ctrl-C in the terminal UI, as SIGINT) ended the watching; 2 on an error.")]
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
    let signals = Signals::catch().context("catching signals")?;
    let mode = args.view.mode(false);
    // The stages are found first: one that hides its ends soon after it starts (made
    // non-dumpable) is still found.
    let mut sampler = Sampler::new(Target::Connected(selectors), Vec::new())?;
    let (probe, source_note) = live::attach_probe(&args.view, mode);
    if let Some(p) = probe {
        sampler.use_probe(p);
    }
    let setup = Setup {
        verb: "watch",
        command: args.targets.join(" "),
        interval: args.view.interval,
        mode,
        from_zero: false,
        source: sampler.source(),
        source_note,
    };
    match live::drive(sampler, setup, None, signals)?.code() {
        0 => Ok(()),
        code => Err(Exit(u8::try_from(code).unwrap_or(255)).into()),
    }
}
