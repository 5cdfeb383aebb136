//! `run` on Windows, where there is no `sh`: pipescope starts the stages itself (see
//! `pipescope_core::launch`: one process per stage, a pipe per joint, each stage holding
//! only its own ends; `cmd /c` for a stage that needs it) and follows them as its
//! children. Data, stdin, stdout and the last stage's exit code pass through untouched.

use std::io::{self, Write as _};
use std::os::windows::process::ExitStatusExt as _;
use std::sync::Arc;

use pipescope_core::launch::launch;
use pipescope_core::sample::{Sampler, Target, split_pipeline};

use super::{Args, status};
use crate::live::{self, Setup, Supervised};

pub(super) fn run(args: Args) -> anyhow::Result<()> {
    let text = args.pipeline.join(" ");
    if text.trim().is_empty() {
        anyhow::bail!("the pipeline is empty");
    }
    let stages = split_pipeline(&text);
    let mode = args.view.mode(true);
    let launched = Arc::new(launch(&stages)?);
    let signals = live::Signals::catch()?;
    let sampler = match Sampler::new(Target::Children(std::process::id()), stages) {
        Ok(s) => s,
        Err(e) => {
            // The pipeline is already running: let it finish, pass its status on.
            let _ = writeln!(
                io::stderr(),
                "pipescope: cannot sample the pipeline ({e}); it runs unobserved"
            );
            return status(launched.wait()? as i32);
        }
    };
    let setup = Setup {
        verb: "run",
        command: text,
        interval: args.view.interval,
        mode,
        from_zero: true,
        source: pipescope_core::flow::FlowSource::Sampling,
        source_note: pipescope_core::flow::unavailable().map(str::to_string),
    };
    let waiter = Arc::clone(&launched);
    let supervised = Supervised {
        pids: launched.pids(),
        group: None,
        wait: Box::new(move || {
            waiter
                .wait()
                .map(std::process::ExitStatus::from_raw)
                .map_err(io::Error::other)
        }),
    };
    status(live::drive(sampler, setup, Some(supervised), signals)?.code())
}
