//! The live view shared by `run` and `watch`: a collector thread samples the pipeline
//! every interval and sends what it saw down a channel; the main thread folds samples
//! into the state and hands it to a view — the terminal UI, one plain line per interval,
//! or one JSON object per interval — then prints the final report.

use std::io::{self, Write};
use std::process::{Child, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pipescope_core::sample::{FillMissing, Pipeline, Report, Sample, Sampler, Tracker};

use crate::json;
use crate::out::escape_str;
use crate::tui::Tui;

/// Options shared by `run` and `watch`.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewArgs {
    /// How often to sample: `100ms`, `0.5s`, `1s` (at least 10ms).
    #[arg(long, short = 'i', default_value = "100ms", value_parser = parse_interval)]
    pub interval: Duration,
    /// One line per interval instead of the terminal UI (the default without a terminal).
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// One JSON object per interval, then a final report object (on stderr).
    #[arg(long)]
    pub json: bool,
}

/// Parses an interval: a number with `ms`, `s` or `us`; a bare number is milliseconds.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1e-3)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not an interval (try 100ms or 1s)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{text}` is not an interval (try 100ms or 1s)"));
    }
    let d = Duration::from_secs_f64(v * scale);
    if d < Duration::from_millis(10) {
        return Err(format!("interval `{text}` is below the minimum of 10ms"));
    }
    Ok(d)
}

/// How the live view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The terminal UI on stderr.
    Tui,
    /// One line per interval on stderr.
    Plain,
    /// One JSON object per interval on stderr.
    Json,
}

impl ViewArgs {
    /// The mode these options and the terminal call for. The UI needs stderr to be a
    /// terminal; for `run` it also needs stdout not to be that terminal, or the UI and
    /// the pipeline's output would draw over each other.
    pub fn mode(&self, stdout_is_data: bool) -> Mode {
        use std::io::IsTerminal;
        if self.json {
            Mode::Json
        } else if self.plain
            || !io::stderr().is_terminal()
            || (stdout_is_data && io::stdout().is_terminal())
        {
            Mode::Plain
        } else {
            Mode::Tui
        }
    }
}

/// What the view is about and how the main loop treats keys.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `run` or `watch`.
    pub verb: &'static str,
    /// The pipeline text or the processes asked for.
    pub command: String,
    /// Sampling period.
    pub interval: Duration,
    /// How to show it.
    pub mode: Mode,
    /// Counts from zero (stages we started) or from the first sample (attached).
    pub from_zero: bool,
}

/// What happened over the run.
#[derive(Debug)]
pub struct Outcome {
    /// The child's exit status (`run`), when it ended while we waited.
    pub status: Option<ExitStatus>,
}

/// Everything the views draw from.
#[derive(Debug)]
pub struct State {
    /// What the view is about.
    pub setup: Setup,
    /// The pipeline as last discovered.
    pub pipeline: Pipeline,
    /// The latest sample.
    pub last: Option<Sample>,
    /// Totals and the verdict so far.
    pub report: Report,
    tracker: Tracker,
    /// The user pressed `q` in `run`: the view is gone, the pipeline runs on.
    pub detached: bool,
}

impl State {
    fn add(&mut self, pipeline: Option<Pipeline>, sample: Sample) {
        if let Some(p) = pipeline {
            self.pipeline = p;
        }
        self.tracker.add(&sample);
        self.last = Some(sample);
        self.report = self.tracker.report(&self.pipeline);
    }

    /// A state fed with `samples` of `pipeline`, for view tests.
    #[cfg(test)]
    pub fn from_samples(setup: Setup, pipeline: Pipeline, samples: Vec<Sample>) -> State {
        let tracker = Tracker::new(setup.from_zero);
        let report = tracker.report(&pipeline);
        let mut state = State {
            setup,
            pipeline,
            last: None,
            report,
            tracker,
            detached: false,
        };
        for s in samples {
            state.add(None, s);
        }
        state
    }
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
    /// The user asked to quit (`q`) or detach.
    Quit,
    /// The user pressed Ctrl-C in the terminal UI.
    Interrupt,
    /// The terminal changed size.
    Redraw,
    /// Sampling failed for good.
    Failed(String),
}

/// Samples `sampler` until the child exits (`run`), every stage exits (`watch`), or the
/// user quits; shows the view meanwhile and prints the final report at the end.
pub fn drive(
    sampler: Sampler,
    setup: Setup,
    child: Option<Child>,
    interrupted: Arc<AtomicBool>,
) -> anyhow::Result<Outcome> {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let child_pids: Vec<u32> = child.iter().map(Child::id).collect();
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
    let waiter = child.map(|mut c| {
        let tx = tx.clone();
        thread::spawn(move || {
            let _ = tx.send(Event::Exited(c.wait()));
        })
    });

    let tracker = Tracker::new(setup.from_zero);
    let report = tracker.report(&pipeline);
    let mut state = State {
        setup: setup.clone(),
        pipeline,
        last: None,
        report,
        tracker,
        detached: false,
    };
    let mut view = match setup.mode {
        Mode::Tui => View::Tui(Tui::start(tx.clone())?),
        Mode::Plain => View::Plain(io::stderr(), Vec::new()),
        Mode::Json => View::Json(io::stderr()),
    };
    drop(tx);

    let mut status = None;
    let mut failure = None;
    loop {
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
            Event::Redraw => {
                let _ = view.show(&state);
            }
            Event::Exited(st) => {
                status = Some(st.context("waiting for the pipeline")?);
                break;
            }
            Event::Finished => break,
            Event::Quit if watching => break,
            Event::Quit => {
                view.finish();
                view = View::None;
                state.detached = true;
            }
            Event::Interrupt if watching => break,
            Event::Interrupt => interrupt(&child_pids, &state.pipeline),
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
    let _ = print_report(&state, code, setup.mode);
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

enum View {
    Tui(Tui),
    /// Stderr, and the pipes whose missing fill was explained (inode, reason).
    Plain(io::Stderr, Vec<(u64, String)>),
    Json(io::Stderr),
    None,
}

impl View {
    fn show(&mut self, state: &State) -> io::Result<()> {
        match self {
            View::Tui(t) => t.draw(state),
            View::Plain(w, noted) => {
                let mut w = io::BufWriter::new(w.lock());
                // Why a pipe's fill is missing, once per pipe and reason; a reader that
                // exited needs no note (its stage shows `exit`).
                let pipes = state.last.iter().flat_map(|s| &s.pipes);
                for (ps, p) in pipes.zip(&state.pipeline.pipes) {
                    let Err(why) = &ps.fill else { continue };
                    let note = (p.id, why.to_string());
                    if *why == FillMissing::Gone || noted.contains(&note) {
                        continue;
                    }
                    let (a, b) = (p.writer() + 1, p.reader() + 1);
                    writeln!(w, "pipe {a}→{b}: fill not measured: {why}")?;
                    noted.push(note);
                }
                writeln!(w, "{}", plain_line(state))?;
                w.flush()
            }
            View::Json(w) => {
                let mut w = io::BufWriter::new(w.lock());
                serde_json::to_writer(&mut w, &sample_json(state))?;
                writeln!(w)?;
                w.flush()
            }
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
            View::Json(_) => "Json",
            View::None => "None",
        })
    }
}

/// `12`, `4.0K`, `1.3M`, `2.1G` (binary units).
pub fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}{}", UNITS[u])
    } else {
        format!("{v:.1}{}", UNITS[u])
    }
}

/// [`size`], or `?` when the figure is hidden from us.
pub fn known(n: Option<u64>) -> String {
    n.map_or_else(|| "?".to_string(), size)
}

/// Shortens `s` to `n` characters with an ellipsis. Callers pass text already made safe
/// for a terminal (`out::escape_str`): commands come from the OS and may hold anything.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The fill of pipe `i` at the last sample, as `63K/64K`, or `?` when unknown.
pub fn fill_text(state: &State, i: usize) -> String {
    let Some(p) = state.last.as_ref().and_then(|s| s.pipes.get(i)) else {
        return "?".into();
    };
    match (&p.fill, p.capacity) {
        (Ok(f), Some(c)) => format!("{}/{}", size(*f), size(c)),
        (Ok(f), None) => size(*f),
        (Err(_), _) => "?".into(),
    }
}

fn plain_line(state: &State) -> String {
    let t = state.last.as_ref().map_or(0.0, |s| s.at.as_secs_f64());
    let mut line = format!("{t:7.2}s ");
    for (i, st) in state.report.stages.iter().enumerate() {
        if i > 0 {
            let fill = state
                .pipeline
                .pipes
                .iter()
                .position(|p| p.readers.contains(&i) && p.writers.contains(&(i - 1)))
                .map_or_else(|| "-".to_string(), |k| fill_text(state, k));
            line.push_str(&format!(" =({fill})=> "));
        }
        let mark = if state.report.bottleneck.stage == Some(i) {
            "*"
        } else {
            ""
        };
        line.push_str(&format!(
            "{mark}{} [{} {}/s]",
            clip(&escape_str(&st.command), 24),
            st.state.as_str(),
            known(st.rate_out)
        ));
    }
    // Pipes that do not join one stage to the next (back to an earlier stage, say).
    for (k, p) in state.pipeline.pipes.iter().enumerate() {
        if p.writers.iter().any(|&w| p.readers.contains(&(w + 1))) {
            continue;
        }
        line.push_str(&format!(
            "  ({}→{} {})",
            p.writer() + 1,
            p.reader() + 1,
            fill_text(state, k)
        ));
    }
    line
}

fn sample_json(state: &State) -> json::LiveSample {
    let last = state.last.as_ref();
    json::LiveSample {
        kind: "sample",
        t: last.map_or(0.0, |s| s.at.as_secs_f64()),
        stages: state
            .report
            .stages
            .iter()
            .map(|s| json::LiveStage {
                pid: s.pid,
                command: s.command.clone(),
                state: s.state.as_str(),
                bytes_in: s.bytes_in,
                bytes_out: s.bytes_out,
                rate_out: s.rate_out,
            })
            .collect(),
        pipes: state
            .pipeline
            .pipes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let ps = last.and_then(|s| s.pipes.get(i));
                json::LivePipe {
                    writer: p.writer(),
                    reader: p.reader(),
                    writers: p.writers.clone(),
                    readers: p.readers.clone(),
                    fill: ps.and_then(|s| s.fill.as_ref().ok().copied()),
                    capacity: ps.and_then(|s| s.capacity),
                    missing: ps.and_then(|s| s.fill.as_ref().err().map(ToString::to_string)),
                }
            })
            .collect(),
    }
}

fn report_json(state: &State, code: Option<i32>) -> json::LiveReport {
    let r = &state.report;
    json::LiveReport {
        kind: "report",
        command: state.setup.command.clone(),
        seconds: state.last.as_ref().map_or(0.0, |s| s.at.as_secs_f64()),
        exit_status: code,
        stages: r
            .stages
            .iter()
            .map(|s| json::ReportStage {
                command: s.command.clone(),
                pid: s.pid,
                bytes_in: s.bytes_in,
                bytes_out: s.bytes_out,
                throughput_in: s.throughput_in,
                throughput_out: s.throughput_out,
                cpu_percent: round2(s.cpu_percent),
                running: round2(s.running),
                blocked_read: round2(s.blocked_read),
                blocked_write: round2(s.blocked_write),
                waiting: round2(s.waiting),
                samples: s.samples,
            })
            .collect(),
        pipes: r
            .pipes
            .iter()
            .map(|p| json::ReportPipe {
                writer: p.writer(),
                reader: p.reader(),
                writers: p.writers.clone(),
                readers: p.readers.clone(),
                capacity: p.capacity,
                fill_avg: p.fill_avg,
                fill_max: p.fill_max,
                full: p.full.map(round2),
                empty: p.empty.map(round2),
                samples: p.samples,
                missing: p.missing.clone(),
            })
            .collect(),
        bottleneck: json::Bottleneck {
            stage: r.bottleneck.stage,
            reason: r.bottleneck.reason.clone(),
        },
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// The final report on stderr: a table per stage and per pipe, then the verdict (or one
/// JSON object with `--json`).
fn print_report(state: &State, code: Option<i32>, mode: Mode) -> io::Result<()> {
    let mut w = io::BufWriter::new(io::stderr().lock());
    if mode == Mode::Json {
        serde_json::to_writer(&mut w, &report_json(state, code))?;
        writeln!(w)?;
        return w.flush();
    }
    let r = &state.report;
    let secs = state.last.as_ref().map_or(0.0, |s| s.at.as_secs_f64());
    let end = match code {
        Some(c) => format!(", exit status {c}"),
        None => String::new(),
    };
    writeln!(
        w,
        "pipescope {}: `{}` — {secs:.2}s sampled every {}ms{end}",
        state.setup.verb,
        escape_str(&state.setup.command),
        state.setup.interval.as_millis()
    )?;
    writeln!(
        w,
        "{:>2} {:>7}  {:<28} {:>7} {:>7} {:>8} {:>6} {:>5} {:>5} {:>5} {:>5}",
        "#", "pid", "command", "in", "out", "out/s", "cpu", "run", "read", "write", "wait"
    )?;
    for (i, s) in r.stages.iter().enumerate() {
        let mark = if r.bottleneck.stage == Some(i) {
            "*"
        } else {
            " "
        };
        writeln!(
            w,
            "{:>2}{mark}{:>7}  {:<28} {:>7} {:>7} {:>8} {:>5.0}% {:>5} {:>5} {:>5} {:>5}",
            i + 1,
            s.pid.map_or_else(|| "-".into(), |p| p.to_string()),
            clip(&escape_str(&s.command), 28),
            known(s.bytes_in),
            known(s.bytes_out),
            format!("{}/s", known(s.throughput_out)),
            s.cpu_percent,
            pct(s.running),
            pct(s.blocked_read),
            pct(s.blocked_write),
            pct(s.waiting)
        )?;
    }
    if !r.pipes.is_empty() {
        writeln!(
            w,
            "{:>6} {:>8} {:>9} {:>9} {:>5} {:>6}",
            "pipe", "capacity", "avg fill", "peak fill", "full", "empty"
        )?;
        for p in &r.pipes {
            let between = format!("{}→{}", p.writer() + 1, p.reader() + 1);
            match (p.fill_avg, p.fill_max) {
                (Some(avg), Some(max)) => writeln!(
                    w,
                    "{between:>6} {:>8} {:>9} {:>9} {:>5} {:>6}",
                    p.capacity.map_or_else(|| "?".into(), size),
                    size(avg),
                    size(max),
                    p.full.map_or_else(|| "?".into(), pct),
                    p.empty.map_or_else(|| "?".into(), pct),
                )?,
                _ => writeln!(
                    w,
                    "{between:>6} fill not measured: {}",
                    p.missing.as_deref().unwrap_or("no sample")
                )?,
            }
        }
    }
    writeln!(w, "bottleneck: {}", escape_str(&r.bottleneck.reason))?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_interval("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("250"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("10ms"), Ok(Duration::from_millis(10)));
        assert!(parse_interval("5ms").unwrap_err().contains("minimum"));
        assert!(parse_interval("fast").is_err());
        assert!(parse_interval("-1s").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size(12), "12");
        assert_eq!(size(4096), "4K");
        assert_eq!(size(65536), "64K");
        assert_eq!(size(1_363_149), "1.3M");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
