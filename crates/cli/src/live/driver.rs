//! The driver of the live view: a collector thread samples the pipeline every interval
//! and sends what it saw down one channel, along with the child's exit, the signals we
//! catch and the user's keys; the main thread folds samples into the [`State`] and hands
//! it to a view, then prints the final report.
//!
//! The terminal UI is drawn at most 5 times a second and only when something changed: a
//! backlog of samples is folded in at once, so the view never falls behind the pipeline
//! and ends as soon as the pipeline does.

use std::io::{self, Write};
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pipescope_core::flow::FlowSource;
use pipescope_core::sample::{Pipeline, Sample, Sampler};

use super::json;
use super::plain::{self, Plain};
use super::state::{Mode, Setup, State};
use super::tui::{Input, Tui};

/// The terminal UI is redrawn at most this often, however short the interval.
const FRAME: Duration = Duration::from_millis(200);

/// What happened over the run.
#[derive(Debug)]
pub struct Outcome {
    /// The child's exit status (`run`), when it ended while we waited.
    pub status: Option<ExitStatus>,
    /// The signal that ended the watching (`watch`) or that was passed on to the
    /// pipeline (`run`), as a number.
    pub signal: Option<i32>,
}

impl Outcome {
    /// The exit status pipescope should end with: 128 + the signal it was sent, else the
    /// pipeline's own status as a shell gives it, else 0.
    pub fn code(&self) -> i32 {
        match (self.signal, self.status) {
            (Some(sig), _) => 128 + sig,
            (None, Some(st)) => exit_code(st),
            (None, None) => 0,
        }
    }
}

/// What `run` supervises: the processes it started, how signals reach the pipeline, and
/// how to learn the pipeline's exit status (a shell child on Unix; the stages themselves
/// on Windows).
pub struct Supervised {
    /// The processes started (the shell, or every stage). Signals passed on go to these
    /// and to the stages found, unless `group` is set.
    pub pids: Vec<u32>,
    /// A process group holding the whole pipeline and nothing else: signals passed on go
    /// to the whole group.
    pub group: Option<u32>,
    /// Blocks until the pipeline has ended; returns its status.
    pub wait: Box<dyn FnOnce() -> io::Result<ExitStatus> + Send>,
}

impl std::fmt::Debug for Supervised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervised")
            .field("pids", &self.pids)
            .field("group", &self.group)
            .finish()
    }
}

impl From<Child> for Supervised {
    fn from(mut child: Child) -> Self {
        Supervised {
            pids: vec![child.id()],
            group: None,
            wait: Box::new(move || child.wait()),
        }
    }
}

/// Starts `sh -c TEXT` with stdin, stdout and stderr inherited.
///
/// When our stdin is not a terminal the pipeline gets a process group of its own, as
/// `timeout` gives its command: a signal sent to pipescope is passed on to that whole
/// group, and nothing else. When stdin is a terminal the pipeline stays in our group, so
/// that its stages may read the terminal and get Ctrl-C, Ctrl-\ and Ctrl-Z from it as any
/// foreground job does; signals sent to pipescope alone are then passed on to the shell
/// and every stage.
pub fn spawn(text: &str) -> io::Result<Supervised> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(text);
    #[cfg(unix)]
    let own_group = {
        use std::io::IsTerminal;
        use std::os::unix::process::CommandExt;
        let own = !io::stdin().is_terminal();
        if own {
            cmd.process_group(0);
        }
        own
    };
    #[cfg(not(unix))]
    let own_group = false;
    let child = cmd.spawn()?;
    let id = child.id();
    Ok(Supervised {
        group: own_group.then_some(id),
        ..Supervised::from(child)
    })
}

/// The signals `run` and `watch` catch (SIGINT, SIGTERM, SIGHUP, SIGQUIT), taken from
/// the moment this is made: make it before starting the pipeline, so that no signal can
/// end pipescope and leave the pipeline behind.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    inner: signal_hook::iterator::Signals,
}

impl Signals {
    /// Starts catching the signals.
    pub fn catch() -> io::Result<Signals> {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
            Ok(Signals {
                inner: signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Sends each signal caught, from now on, down `tx` as an event.
    fn deliver(self, tx: Sender<Event>) {
        #[cfg(unix)]
        {
            let mut inner = self.inner;
            let _ = thread::Builder::new()
                .name("signals".into())
                .spawn(move || {
                    for sig in inner.forever() {
                        if tx.send(Event::Signal(sig)).is_err() {
                            return;
                        }
                    }
                });
        }
        #[cfg(not(unix))]
        let _ = tx;
    }
}

/// The name of a signal, `SIGTERM`, for reports.
pub fn signal_name(sig: i32) -> String {
    #[cfg(unix)]
    if let Some(name) = signal_hook::low_level::signal_name(sig) {
        return name.to_string();
    }
    format!("signal {sig}")
}

/// Events the main loop reacts to.
#[derive(Debug)]
enum Event {
    /// A sample, with the pipeline when it changed.
    Sample(Option<Pipeline>, Sample),
    /// Every stage exited (`watch`).
    Finished,
    /// The child exited (`run`).
    Exited(io::Result<ExitStatus>),
    /// A key or a resize in the terminal UI.
    Input(Input),
    /// A signal was sent to pipescope (caught on Unix only).
    #[cfg_attr(not(unix), allow(dead_code))]
    Signal(i32),
    /// Sampling failed for good.
    Failed(String),
}

/// Samples `sampler` until the child exits (`run`), every stage exits (`watch`), the user
/// quits or a signal ends the watching; shows the view meanwhile and prints the final
/// report at the end. A signal caught in `run` is passed on to the pipeline, which is
/// then waited for; in `watch` it only ends the watching.
pub fn drive(
    sampler: Sampler,
    setup: Setup,
    child: Option<Supervised>,
    signals: Signals,
) -> anyhow::Result<Outcome> {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
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
    let mut driver = Driver {
        state: State::new(setup.clone(), pipeline),
        view: View::None,
        group: child.as_ref().map(|c| (c.pids.clone(), c.group)),
        status: None,
        signal: None,
        failure: None,
    };
    let waiter = child.map(|c| wait_in_thread(c.wait, tx.clone()));
    signals.deliver(tx.clone());
    driver.view = match setup.mode {
        Mode::Tui => {
            let tx = tx.clone();
            View::Tui(Tui::start(move |i| tx.send(Event::Input(i)).is_ok())?)
        }
        Mode::Plain => View::Plain(Plain::default()),
        Mode::Json => View::Json,
    };
    drop(tx);

    driver.run(&rx)?;

    let _ = stop_tx.send(());
    let _ = collector.join();
    while let Ok(ev) = rx.try_recv() {
        if let Event::Sample(p, s) = ev {
            driver.state.add(p, s);
        }
    }
    driver.view.finish();
    if let Some(w) = waiter {
        let _ = w.join();
    }
    if let Some(msg) = driver.failure {
        anyhow::bail!("sampling failed: {msg}");
    }
    let code = driver.status.map(exit_code);
    let signal = driver.signal.map(signal_name);
    let mut w = io::BufWriter::new(io::stderr().lock());
    let _ = match setup.mode {
        Mode::Json => json::report(&mut w, &driver.state, code, signal.as_deref()),
        Mode::Tui | Mode::Plain => plain::report(&mut w, &driver.state, code, signal.as_deref()),
    };
    Ok(Outcome {
        status: driver.status,
        signal: driver.signal,
    })
}

/// Waits for a pipeline that cannot be sampled, passing on the signals caught meanwhile
/// as [`drive`] does.
pub fn wait_unobserved(child: Supervised, signals: Signals) -> anyhow::Result<Outcome> {
    let (tx, rx) = mpsc::channel();
    let group = Some((child.pids, child.group));
    let waiter = wait_in_thread(child.wait, tx.clone());
    signals.deliver(tx);
    let mut signal = None;
    let status = loop {
        match rx.recv() {
            Ok(Event::Exited(st)) => break st.context("waiting for the pipeline")?,
            Ok(Event::Signal(sig)) => {
                signal.get_or_insert(sig);
                pass_on(sig, group.as_ref(), &Pipeline::default(), false);
            }
            Ok(_) => {}
            Err(_) => anyhow::bail!("lost the pipeline's shell"),
        }
    };
    let _ = waiter.join();
    Ok(Outcome {
        status: Some(status),
        signal,
    })
}

type Wait = Box<dyn FnOnce() -> io::Result<ExitStatus> + Send>;

fn wait_in_thread(wait: Wait, tx: Sender<Event>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let _ = tx.send(Event::Exited(wait()));
    })
}

/// The main loop's state.
#[derive(Debug)]
struct Driver {
    state: State,
    view: View,
    /// The processes `run` started and the pipeline's own process group, if it has one.
    group: Option<(Vec<u32>, Option<u32>)>,
    status: Option<ExitStatus>,
    signal: Option<i32>,
    failure: Option<String>,
}

/// What an event asks of the main loop.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Go,
    Redraw,
    Stop,
}

impl Driver {
    fn run(&mut self, rx: &Receiver<Event>) -> anyhow::Result<()> {
        let mut dirty = false;
        let mut drawn: Option<Instant> = None;
        loop {
            // Wait for an event; with a frame pending, no longer than until it is due.
            let wait = match drawn {
                Some(t) if dirty => FRAME.saturating_sub(t.elapsed()),
                _ if dirty => Duration::ZERO,
                _ => Duration::from_secs(3600),
            };
            let mut next = match rx.recv_timeout(wait) {
                Ok(ev) => Some(ev),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            // Fold in everything already waiting before drawing once.
            while let Some(ev) = next {
                match self.handle(ev)? {
                    Step::Stop => return Ok(()),
                    Step::Redraw => dirty = true,
                    Step::Go => {}
                }
                next = rx.try_recv().ok();
            }
            if dirty && drawn.is_none_or(|t| t.elapsed() >= FRAME) {
                dirty = false;
                drawn = Some(Instant::now());
                if self.view.draw(&self.state).is_err() {
                    self.view.finish();
                    self.view = View::None; // a terminal gone must not end supervision
                }
            }
        }
    }

    fn handle(&mut self, ev: Event) -> anyhow::Result<Step> {
        let watching = self.group.is_none();
        Ok(match ev {
            Event::Sample(p, s) => {
                self.state.add(p, s);
                // Plain and JSON lines are written for every sample; the UI coalesces.
                if self.view.line(&self.state).is_err() {
                    // A closed log must not end supervision of a pipeline we run; a
                    // watch with nowhere left to write ends, as a scan into `| head` does.
                    self.view = View::None;
                    if watching {
                        return Ok(Step::Stop);
                    }
                }
                Step::Redraw
            }
            Event::Input(Input::Redraw) => Step::Redraw,
            Event::Input(Input::Key(_)) => Step::Go,
            Event::Exited(st) => {
                self.status = Some(st.context("waiting for the pipeline")?);
                Step::Stop
            }
            Event::Finished => Step::Stop,
            Event::Input(Input::Quit) if watching => Step::Stop,
            Event::Input(Input::Quit) => {
                // Detached: the view is gone, the pipeline runs on.
                self.view.finish();
                self.view = View::None;
                Step::Go
            }
            Event::Input(Input::Interrupt) if watching => {
                self.signal = Some(SIGINT);
                Step::Stop
            }
            Event::Input(Input::Interrupt) => {
                // Raw mode kept the terminal from sending SIGINT: send it as it would.
                pass_on(SIGINT, self.group.as_ref(), &self.state.pipeline, true);
                Step::Go
            }
            Event::Signal(sig) if watching => {
                self.signal = Some(sig);
                Step::Stop
            }
            Event::Signal(sig) => {
                self.signal.get_or_insert(sig);
                let tui = matches!(self.view, View::Tui(_));
                pass_on(sig, self.group.as_ref(), &self.state.pipeline, tui);
                Step::Go
            }
            Event::Failed(msg) if watching => {
                self.failure = Some(msg);
                Step::Stop
            }
            Event::Failed(msg) => {
                // The pipeline runs on unobserved; its status still passes through.
                self.view.finish();
                self.view = View::None;
                let _ = writeln!(
                    io::stderr(),
                    "pipescope: sampling failed ({msg}); the pipeline runs on unobserved"
                );
                Step::Go
            }
        })
    }
}

#[cfg(unix)]
const SIGINT: i32 = signal_hook::consts::SIGINT;
#[cfg(not(unix))]
const SIGINT: i32 = 2;

/// Passes signal `sig`, sent to pipescope, on to the pipeline: to its whole process group
/// when it has one of its own; otherwise to the processes started (`started`: the shell),
/// every process descended from them (a stage's own children too) and every stage found.
/// In the latter case the pipeline shares our process group, so SIGINT and SIGQUIT typed
/// at the terminal reached it already: those two are passed on only when the terminal
/// could not have sent them (`raw`: the UI holds it in raw mode).
fn pass_on(sig: i32, group: Option<&(Vec<u32>, Option<u32>)>, pipeline: &Pipeline, raw: bool) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process, kill_process_group};
        use signal_hook::consts::SIGQUIT;
        let (Some((started, own_group)), Some(signal)) = (group, Signal::from_named_raw(sig))
        else {
            return;
        };
        if let Some(pg) = own_group.and_then(|pg| Pid::from_raw(pg as i32)) {
            let _ = kill_process_group(pg, signal);
            return;
        }
        if (sig == SIGINT || sig == SIGQUIT) && !raw {
            return;
        }
        // The tree as it stands, taken before any of it is signalled (a shell that dies
        // first would leave its children to init, out of the tree).
        let mut pids: Vec<u32> = started.clone();
        for &p in started {
            pids.extend(pipescope_core::sample::descendants(p).unwrap_or_default());
        }
        pids.extend(pipeline.stages.iter().filter_map(|s| s.pid));
        pids.sort_unstable();
        pids.dedup();
        for pid in pids.into_iter().filter_map(|p| Pid::from_raw(p as i32)) {
            let _ = kill_process(pid, signal);
        }
    }
    // Windows: Ctrl-C typed while the UI holds the console in raw mode reached no stage;
    // end the stages as the console would have (other signals do not exist there).
    #[cfg(windows)]
    if let (true, SIGINT, Some((started, _))) = (raw, sig, group) {
        let stages = pipeline.stages.iter().filter_map(|s| s.pid);
        for pid in started.iter().copied().chain(stages) {
            let _ = pipescope_core::launch::interrupt(pid);
        }
    }
    #[cfg(not(any(unix, windows)))]
    let _ = (sig, group, pipeline, raw);
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
        // The next tick on the interval's grid, skipping ticks already missed (the
        // interval is bounded by `parse_interval`, so this cannot overflow).
        let now = Instant::now();
        while next <= now {
            next += interval;
        }
        match stop.recv_timeout(next - now) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => {
                // The probe still holds the final counts of stages that just exited.
                if sampler.source() == FlowSource::Probe {
                    let _ = tx.send(Event::Sample(None, sampler.sample()));
                }
                return;
            }
        }
    }
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
    /// Writes the line for a new sample (plain and JSON views).
    fn line(&mut self, state: &State) -> io::Result<()> {
        match self {
            View::Plain(p) => p.show(&mut io::BufWriter::new(io::stderr().lock()), state),
            View::Json => json::show(&mut io::BufWriter::new(io::stderr().lock()), state),
            View::Tui(_) | View::None => Ok(()),
        }
    }

    /// Draws the state (terminal UI).
    fn draw(&mut self, state: &State) -> io::Result<()> {
        match self {
            View::Tui(t) => t.draw(state),
            _ => Ok(()),
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
