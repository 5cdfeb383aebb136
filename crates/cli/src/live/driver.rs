//! The driver of the live view: a collector thread samples the pipeline every interval
//! and sends what it saw down a channel, with the child's exit and the user's keys; the
//! main thread folds samples into the [`State`] and hands it to a view, then prints the
//! final report.

use std::io::{self, Write};
use std::process::{Child, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pipescope_core::sample::{Pipeline, Sample, Sampler};

use super::json;
use super::plain::{self, Plain};
use super::state::{Mode, Setup, State};
use super::tui::{Input, Tui};

/// What happened over the run.
#[derive(Debug)]
pub struct Outcome {
    /// The child's exit status (`run`), when it ended while we waited.
    pub status: Option<ExitStatus>,
}

/// Events the main loop reacts to.
#[derive(Debug)]
pub enum Event {
    /// A sample, with the pipeline when it changed.
    Sample(Option<Pipeline>, Sample),
    /// Every stage exited (`watch`).
    Finished,
    /// The child exited (`run`).
    Exited(io::Result<ExitStatus>),
    /// A key or a resize in the terminal UI.
    Input(Input),
    /// Sampling failed for good.
    Failed(String),
}

/// What `run` supervises: the processes it started, and how to learn the pipeline's
/// exit status (a shell child on Linux; the stages themselves on Windows).
pub struct Supervised {
    /// The processes an interrupt is passed on to.
    pub pids: Vec<u32>,
    /// Blocks until the pipeline has ended; returns its status.
    pub wait: Box<dyn FnOnce() -> io::Result<ExitStatus> + Send>,
}

impl std::fmt::Debug for Supervised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervised")
            .field("pids", &self.pids)
            .finish()
    }
}

impl From<Child> for Supervised {
    fn from(mut child: Child) -> Self {
        Supervised {
            pids: vec![child.id()],
            wait: Box::new(move || child.wait()),
        }
    }
}

/// Samples `sampler` until the child exits (`run`), every stage exits (`watch`), or the
/// user quits; shows the view meanwhile and prints the final report at the end.
pub fn drive(
    sampler: Sampler,
    setup: Setup,
    child: Option<Supervised>,
    interrupted: Arc<AtomicBool>,
) -> anyhow::Result<Outcome> {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let child_pids: Vec<u32> = child.iter().flat_map(|c| c.pids.clone()).collect();
    let watching = child.is_none();
    let pipeline = sampler.pipeline().clone();
    let collector = {
        let tx = tx.clone();
        let interval = setup.interval;
        thread::Builder::new()
            .name("collector".into())
            .spawn(move || collect(sampler, interval, &tx, &stop_rx, watching))
            .context("starting the collector thread")?
    };
    let waiter = child.map(|c| {
        let tx = tx.clone();
        thread::spawn(move || {
            let _ = tx.send(Event::Exited((c.wait)()));
        })
    });

    let mut state = State::new(setup.clone(), pipeline);
    let mut view = match setup.mode {
        Mode::Tui => {
            let tx = tx.clone();
            View::Tui(Tui::start(move |i| tx.send(Event::Input(i)).is_ok())?)
        }
        Mode::Plain => View::Plain(Plain::default()),
        Mode::Json => View::Json,
    };
    drop(tx);

    let mut status = None;
    let mut failure = None;
    loop {
        // Samples may come faster than the timeout below: look at the flag every time.
        if interrupted.load(Ordering::Relaxed) && watching {
            break;
        }
        let ev = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout) => {
                if interrupted.load(Ordering::Relaxed) && watching {
                    break;
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match ev {
            Event::Sample(p, s) => {
                state.add(p, s);
                if view.show(&state).is_err() {
                    view = View::None; // a closed log must not end the pipeline's supervision
                }
            }
            Event::Input(Input::Resize) => {
                let _ = view.show(&state);
            }
            Event::Input(Input::Key(_)) => {}
            Event::Exited(st) => {
                status = Some(st.context("waiting for the pipeline")?);
                break;
            }
            Event::Finished => break,
            Event::Input(Input::Quit) if watching => break,
            Event::Input(Input::Quit) => {
                // Detached: the view is gone, the pipeline runs on.
                view.finish();
                view = View::None;
            }
            Event::Input(Input::Interrupt) if watching => break,
            Event::Input(Input::Interrupt) => interrupt(&child_pids, &state.pipeline),
            Event::Failed(msg) if watching => {
                failure = Some(msg);
                break;
            }
            Event::Failed(msg) => {
                // The pipeline runs on unobserved; its status still passes through.
                view.finish();
                view = View::None;
                let _ = writeln!(
                    io::stderr(),
                    "pipescope: sampling failed ({msg}); the pipeline runs on unobserved"
                );
            }
        }
    }
    let _ = stop_tx.send(());
    let _ = collector.join();
    while let Ok(ev) = rx.try_recv() {
        if let Event::Sample(p, s) = ev {
            state.add(p, s);
        }
    }
    view.finish();
    if let Some(w) = waiter {
        let _ = w.join();
    }
    if let Some(msg) = failure {
        anyhow::bail!("sampling failed: {msg}");
    }
    let code = status.map(exit_code);
    let mut w = io::BufWriter::new(io::stderr().lock());
    let _ = match setup.mode {
        Mode::Json => json::report(&mut w, &state, code),
        Mode::Tui | Mode::Plain => plain::report(&mut w, &state, code, None),
    };
    Ok(Outcome { status })
}

/// Gives the calling thread (the collector) a nice value of 10: on a machine whose CPUs
/// the pipeline saturates, a sample then waits for a free moment instead of preempting a
/// stage, so watching takes as little as it can from the pipeline's own throughput.
/// Only this thread is lowered (Linux nice values are per thread); the pipeline, started
/// before it, keeps the priority it was given. Failure leaves the priority as it was.
fn lower_own_priority() {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10);
    }
}

/// The collector: refreshes the stage list (every interval for the first 200 ms, while
/// the shell forks its stages, then twice a second), samples, sends; stops when told or
/// when nobody listens.
fn collect(
    mut sampler: Sampler,
    interval: Duration,
    tx: &Sender<Event>,
    stop: &Receiver<()>,
    end_when_finished: bool,
) {
    lower_own_priority();
    let start = Instant::now();
    let mut next = start;
    let mut last_refresh = start;
    for tick in 0u64.. {
        let mut changed = tick == 0;
        if start.elapsed() < Duration::from_millis(200)
            || last_refresh.elapsed() >= Duration::from_millis(500)
        {
            match sampler.refresh() {
                Ok(c) => changed |= c,
                Err(e) => {
                    let _ = tx.send(Event::Failed(e.to_string()));
                    return;
                }
            }
            last_refresh = Instant::now();
        }
        let sample = sampler.sample();
        let pipeline = changed.then(|| sampler.pipeline().clone());
        if tx.send(Event::Sample(pipeline, sample)).is_err() {
            return;
        }
        if end_when_finished && sampler.finished() {
            let _ = tx.send(Event::Finished);
            return;
        }
        let now = Instant::now();
        while next <= now {
            next += interval;
        }
        match stop.recv_timeout(next - now) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
    }
}

/// Ctrl-C in the UI (raw mode swallows the signal): pass SIGINT on to the shell and the
/// stages, as the terminal would have.
fn interrupt(child: &[u32], pipeline: &Pipeline) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process};
        let pids = child
            .iter()
            .chain(pipeline.stages.iter().filter_map(|s| s.pid.as_ref()));
        for &pid in pids {
            if let Some(p) = Pid::from_raw(pid as i32) {
                let _ = kill_process(p, Signal::INT);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (child, pipeline);
}

/// A flag raised by SIGINT, so that Ctrl-C in plain or JSON mode still ends with the
/// report (the pipeline's stages get the signal from the terminal themselves).
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, flag.clone());
    flag
}

/// An exit status as a shell reports it: the code, or 128 + the signal.
pub fn exit_code(st: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = st.signal() {
            return 128 + sig;
        }
    }
    st.code().unwrap_or(1)
}

/// Where the state is shown.
enum View {
    Tui(Tui),
    Plain(Plain),
    Json,
    /// Nowhere: detached, or the view's output is gone.
    None,
}

impl View {
    fn show(&mut self, state: &State) -> io::Result<()> {
        match self {
            View::Tui(t) => t.draw(state),
            View::Plain(p) => p.show(&mut io::BufWriter::new(io::stderr().lock()), state),
            View::Json => json::show(&mut io::BufWriter::new(io::stderr().lock()), state),
            View::None => Ok(()),
        }
    }

    fn finish(&mut self) {
        if let View::Tui(t) = self {
            t.finish();
        }
    }
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            View::Tui(_) => "Tui",
            View::Plain(..) => "Plain",
            View::Json => "Json",
            View::None => "None",
        })
    }
}
