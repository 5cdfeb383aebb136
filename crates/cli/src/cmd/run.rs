//! `pipescope run`: runs a shell pipeline with stdin, stdout and the exit status passed
//! through untouched, shows it live on the terminal (stderr) and reports on stderr at the
//! end which stage held the others back.

use std::io::Write as _;
use std::process::Command;

use anyhow::Context as _;
use pipescope_core::sample::{self, Sampler, Target, split_pipeline};

use crate::Exit;

#[cfg(windows)]
mod windows;
use crate::live::{self, Setup, ViewArgs};

/// Arguments of `pipescope run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example: pipescope run -- 'zcat big.gz | grep foo | sort | uniq -c'\n\
The pipeline's stdout is untouched; the view and the report go to stderr."
)]
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
    let child = Command::new("sh")
        .arg("-c")
        .arg(&text)
        .spawn()
        .context("starting sh")?;
    let interrupted = live::interrupt_flag();
    let sampler = match Sampler::new(Target::Children(child.id()), split_pipeline(&text)) {
        Ok(s) => s,
        Err(e) => {
            // The pipeline is already running: let it finish, pass its status on.
            let _ = writeln!(
                std::io::stderr(),
                "pipescope: cannot sample the pipeline ({e}); it runs unobserved"
            );
            let mut child = child;
            let st = child.wait().context("waiting for the pipeline")?;
            return status(live::exit_code(st));
        }
    };
    let setup = Setup {
        verb: "run",
        command: text,
        interval: args.view.interval,
        mode,
        from_zero: true,
    };
    let outcome = live::drive(
        sampler,
        setup,
        Some(live::Supervised::from(child)),
        interrupted,
    )?;
    match outcome.status {
        Some(st) => status(live::exit_code(st)),
        None => Ok(()),
    }
}

fn status(code: i32) -> anyhow::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(Exit(u8::try_from(code).unwrap_or(255)).into())
    }
}
