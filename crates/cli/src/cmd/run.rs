//! `pipescope run`: runs a shell pipeline with stdin, stdout and the exit status passed
//! through untouched, shows it live on the terminal (stderr) and reports on stderr at the
//! end which stage held the others back.

use std::io::Write as _;

use anyhow::Context as _;
use pipescope_core::sample::{self, Sampler, Target, split_pipeline};

use crate::Exit;
use crate::live::{self, Setup, Signals, ViewArgs};

#[cfg(windows)]
mod windows;

/// Arguments of `pipescope run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example: pipescope run -- 'zcat big.gz | grep foo | sort | uniq -c' > counts\n\
(--help says more: what is shown, keys, signals, exit status)"
)]
#[command(after_long_help = "\
Examples:
  pipescope run -- 'zcat big.gz | grep foo | sort | uniq -c' > counts
  pipescope run --plain -i 1s -- 'tar c /data | zstd > /backup/data.tar.zst'
  pipescope run --json -- 'make 2>&1 | tee build.log' 2> live.jsonl

The pipeline runs under `sh -c` with pipescope's stdin and stdout; its output is
untouched, and pipescope exits with its status. The view and the final report go to
stderr: the terminal UI when stderr is a terminal and stdout is not, else one line per
interval (--plain), or JSON lines (--json).

What is shown: each stage's state (running, blocked reading or writing a pipe, sleeping
on its own work), its throughput and CPU, each pipe's fill against its capacity, and the
bottleneck: the stage the others wait for.

Keys in the terminal UI: q or Esc detaches (the view closes, the pipeline runs on and
is still waited for); Ctrl-C interrupts the pipeline; Left/Right scroll the stages when
they do not all fit.

Signals: SIGTERM, SIGHUP, SIGINT or SIGQUIT sent to pipescope are passed on to the
pipeline (its whole process group when stdin is not a terminal; else the shell and
every stage, which share pipescope's group and get what is typed at the terminal
directly); pipescope waits for the pipeline to end, prints the report and exits with
128 + the signal's number.")]
pub struct Args {
    #[command(flatten)]
    view: ViewArgs,
    /// The pipeline, as `sh -c` takes it (several words are joined with spaces).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PIPELINE"
    )]
    pipeline: Vec<String>,
}

/// Runs `pipescope run`.
pub fn run(args: Args) -> anyhow::Result<()> {
    #[cfg(windows)]
    return windows::run(args);
    #[cfg(not(windows))]
    run_sh(args)
}

/// `run` where there is `sh`: the shell starts the stages, pipescope follows its children.
#[cfg_attr(windows, allow(dead_code))]
fn run_sh(args: Args) -> anyhow::Result<()> {
    sample::supported()?;
    let text = args.pipeline.join(" ");
    if text.trim().is_empty() {
        anyhow::bail!("the pipeline is empty");
    }
    let mode = args.view.mode(true);
    // Caught before the pipeline starts, so that none can end pipescope without it.
    let signals = Signals::catch().context("catching signals")?;
    // Attached before the pipeline starts, so that it counts from the first byte.
    let (probe, source_note) = live::attach_probe(&args.view, mode);
    let child = live::spawn(&text).context("starting sh")?;
    let mut sampler = match Sampler::new(Target::Children(child.pids[0]), split_pipeline(&text)) {
        Ok(s) => s,
        Err(e) => {
            // The pipeline is already running: let it finish, pass its status on.
            let _ = writeln!(
                std::io::stderr(),
                "pipescope: cannot sample the pipeline ({e}); it runs unobserved"
            );
            return status(live::wait_unobserved(child, signals)?.code());
        }
    };
    if let Some(p) = probe {
        sampler.use_probe(p);
    }
    let setup = Setup {
        verb: "run",
        command: text,
        interval: args.view.interval,
        mode,
        from_zero: true,
        source: sampler.source(),
        source_note,
    };
    status(live::drive(sampler, setup, Some(child), signals)?.code())
}

/// Ends with `code`: 0, or an [`Exit`] with it.
fn status(code: i32) -> anyhow::Result<()> {
    match code {
        0 => Ok(()),
        code => Err(Exit(u8::try_from(code).unwrap_or(255)).into()),
    }
}
