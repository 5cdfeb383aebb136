//! Live sampling of a running pipeline: its stages, the pipes between them, what each
//! stage is doing from one moment to the next, and which stage holds the others back.
//!
//! The model and the arithmetic here are OS-neutral and pure: [`assemble`] orders stages
//! from the pipe ends they hold, [`Tracker`] accumulates [`Sample`]s, and [`verdict`]
//! names the bottleneck from the totals. A [`Sampler`] fills samples in through the OS
//! backend (Linux only; elsewhere it returns [`crate::Error::Unsupported`]).
//!
//! Stage *i* writes into pipe *i*, which stage *i + 1* reads; a pipeline of *n* stages has
//! at most *n − 1* pipes, each known by the inode it is.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

#[cfg(not(target_os = "linux"))]
use crate::Error;
use crate::{HandleRef, Pid, ProcessSelector, Result};

/// One end of a pipe held at a stage's fd 0 (input) or fd 1 (output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PipeEnd {
    /// The pipe's inode.
    pub ino: u64,
    /// The handle (fd) number holding it.
    pub handle: u64,
    /// Whether the handle was opened read-only: only such an end is ever duplicated to
    /// measure the fill, since a held write end would delay the reader's end of file.
    pub read_only: bool,
}

/// A process as pipeline discovery sees it: who its parent is and which pipes sit at its
/// standard input and output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcEnds {
    /// Process id.
    pub pid: Pid,
    /// Parent process id, when known.
    pub ppid: Option<Pid>,
    /// The pipe at fd 0, if fd 0 is a pipe.
    pub input: Option<PipeEnd>,
    /// The pipe at fd 1, if fd 1 is a pipe.
    pub output: Option<PipeEnd>,
    /// The command line, words joined by spaces (or the short name when it has none).
    pub command: String,
}

/// One stage of a pipeline: a process reading the previous pipe and writing the next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Process id.
    pub pid: Pid,
    /// What the stage runs: its text in the pipeline when known, else its command line.
    pub command: String,
    /// The pipe at its fd 0.
    pub input: Option<PipeEnd>,
    /// The pipe at its fd 1.
    pub output: Option<PipeEnd>,
}

/// A pipe between stage `writer` and stage `reader` (`reader == writer + 1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipe {
    /// The pipe's inode.
    pub ino: u64,
    /// Index of the stage writing into it.
    pub writer: usize,
    /// Index of the stage reading from it.
    pub reader: usize,
    /// The read end a sampler may duplicate to measure the fill; `None` when the reader
    /// holds no read-only end of it.
    pub read_end: Option<HandleRef>,
}

/// The stages of a pipeline in order, and the pipes between neighbours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// Stages, first (the source) to last (the sink).
    pub stages: Vec<Stage>,
    /// Pipes between neighbouring stages, in order.
    pub pipes: Vec<Pipe>,
}

impl Pipeline {
    /// Gives stages their text in the pipeline (`labels[i]` for stage `i`) when there are
    /// exactly as many labels as stages; otherwise keeps their command lines.
    pub fn label(&mut self, labels: &[String]) {
        if labels.len() == self.stages.len() {
            for (stage, label) in self.stages.iter_mut().zip(labels) {
                stage.command.clone_from(label);
            }
        }
    }

    /// The pipe stage `i` reads, if it is one of this pipeline's.
    pub fn input_of(&self, i: usize) -> Option<&Pipe> {
        self.pipes.iter().find(|p| p.reader == i)
    }

    /// The pipe stage `i` writes, if it is one of this pipeline's.
    pub fn output_of(&self, i: usize) -> Option<&Pipe> {
        self.pipes.iter().find(|p| p.writer == i)
    }
}

/// Orders processes into a pipeline by the pipes at their fds 0 and 1.
///
/// A process whose nearest ancestor among `procs` holds the very same input and output is
/// part of that ancestor's stage (a subshell's children, `sleep` in a `while` loop), not
/// a stage of its own. Stages are chained writer → reader; chains start at stages whose
/// input no other stage writes, lowest pid first; stages in no chain follow by pid.
pub fn assemble(procs: &[ProcEnds]) -> Pipeline {
    let by_pid: HashMap<Pid, &ProcEnds> = procs.iter().map(|p| (p.pid, p)).collect();
    let ino = |e: Option<PipeEnd>| e.map(|e| e.ino);
    let absorbed = |p: &ProcEnds| {
        let mut seen = BTreeSet::new();
        let mut cur = p.ppid;
        while let Some(pp) = cur {
            if !seen.insert(pp) {
                break;
            }
            let Some(parent) = by_pid.get(&pp) else {
                break;
            };
            if ino(parent.input) == ino(p.input) && ino(parent.output) == ino(p.output) {
                return true;
            }
            cur = parent.ppid;
        }
        false
    };
    let own: Vec<&ProcEnds> = procs.iter().filter(|p| !absorbed(p)).collect();
    // A wrapper — a subshell running `(a | b) > f` or `{ a | b; } | c` — has stages of
    // its own below it and no pipe role they do not already fill: no input none of them
    // reads, no output someone reads that none of them writes. It is no stage.
    let below = |anc: Pid, p: &ProcEnds| {
        let mut seen = BTreeSet::new();
        let mut cur = p.ppid;
        while let Some(pp) = cur {
            if pp == anc {
                return true;
            }
            if !seen.insert(pp) {
                break;
            }
            cur = by_pid.get(&pp).and_then(|q| q.ppid);
        }
        false
    };
    let read_by_someone = |n: u64| own.iter().any(|q| ino(q.input) == Some(n));
    let wrapper = |c: &ProcEnds| {
        let inner: Vec<&&ProcEnds> = own.iter().filter(|d| below(c.pid, d)).collect();
        if inner.is_empty() {
            return false;
        }
        let unique_input =
            ino(c.input).is_some_and(|n| inner.iter().all(|d| ino(d.input) != Some(n)));
        let unique_output = ino(c.output)
            .is_some_and(|n| read_by_someone(n) && inner.iter().all(|d| ino(d.output) != Some(n)));
        !(unique_input || unique_output)
    };
    let mut stages: Vec<&ProcEnds> = own.iter().copied().filter(|p| !wrapper(p)).collect();
    stages.sort_by_key(|p| p.pid);

    // Who reads each pipe (lowest pid first), and which pipes some stage writes.
    let mut reader_of: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, s) in stages.iter().enumerate() {
        if let Some(e) = s.input {
            reader_of.entry(e.ino).or_insert(i);
        }
    }
    let written: BTreeSet<u64> = stages.iter().filter_map(|s| ino(s.output)).collect();

    let mut order = Vec::with_capacity(stages.len());
    let mut placed = vec![false; stages.len()];
    let heads: Vec<usize> = (0..stages.len())
        .filter(|&i| ino(stages[i].input).is_none_or(|n| !written.contains(&n)))
        .collect();
    for head in heads.into_iter().chain(0..stages.len()) {
        let mut cur = Some(head);
        while let Some(i) = cur {
            if placed[i] {
                break;
            }
            placed[i] = true;
            order.push(i);
            cur = ino(stages[i].output).and_then(|n| reader_of.get(&n).copied());
        }
    }

    let stages: Vec<Stage> = order
        .into_iter()
        .map(|i| Stage {
            pid: stages[i].pid,
            command: stages[i].command.clone(),
            input: stages[i].input,
            output: stages[i].output,
        })
        .collect();
    let pipes = stages
        .windows(2)
        .enumerate()
        .filter_map(|(i, w)| {
            let (out, inp) = (w[0].output?, w[1].input?);
            (out.ino == inp.ino).then(|| Pipe {
                ino: out.ino,
                writer: i,
                reader: i + 1,
                read_end: inp.read_only.then_some(HandleRef {
                    pid: w[1].pid,
                    handle: inp.handle,
                }),
            })
        })
        .collect();
    Pipeline { stages, pipes }
}

/// Processes connected to the `seeds` through the pipes at their fds 0 and 1: a writer of
/// a pipe is joined to its readers, transitively. Returns them in `procs` order.
pub fn connected(procs: &[ProcEnds], seeds: &[Pid]) -> Vec<ProcEnds> {
    let mut members: BTreeSet<Pid> = seeds.iter().copied().collect();
    let mut pipes: BTreeSet<u64> = BTreeSet::new();
    loop {
        let before = (members.len(), pipes.len());
        for p in procs {
            let ends = [p.input, p.output];
            if members.contains(&p.pid) {
                pipes.extend(ends.iter().flatten().map(|e| e.ino));
            } else if ends.iter().flatten().any(|e| pipes.contains(&e.ino)) {
                members.insert(p.pid);
            }
        }
        if (members.len(), pipes.len()) == before {
            break;
        }
    }
    procs
        .iter()
        .filter(|p| members.contains(&p.pid))
        .cloned()
        .collect()
}

/// Splits pipeline text on its top-level `|` (not `||`, nor inside quotes, `(…)`, `{…}`
/// or `$(…)`), trimming each stage. Redirections stay with their stage.
///
/// ```
/// let s = pipescope_core::sample::split_pipeline("zcat a.gz | grep 'x|y' | wc -l");
/// assert_eq!(s, ["zcat a.gz", "grep 'x|y'", "wc -l"]);
/// ```
pub fn split_pipeline(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let (mut single, mut double) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if !single => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '(' | '{' if !single && !double => depth += 1,
            ')' | '}' if !single && !double => depth = depth.saturating_sub(1),
            '|' if !single && !double && depth == 0 => {
                if chars.peek() == Some(&'|') {
                    chars.next();
                    cur.push_str("||");
                    continue;
                }
                if cur.ends_with('>') {
                    cur.push(c); // `>|` is a redirection, not a pipe
                    continue;
                }
                parts.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur.trim().to_string());
    parts
}

/// What a stage was doing when sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StageState {
    /// On a CPU or ready to run.
    Running,
    /// Asleep in a read of a pipe: waiting for input.
    BlockedRead,
    /// Asleep in a write to a pipe: waiting for room.
    BlockedWrite,
    /// Asleep for another reason (a timer, a disk, a child): busy as far as the pipes
    /// can tell.
    Waiting,
    /// Stopped by a signal or a tracer.
    Stopped,
    /// Exited (or no longer visible).
    Exited,
}

impl StageState {
    /// A short word for views: `run`, `read`, `write`, `wait`, `stop`, `exit`.
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Running => "run",
            StageState::BlockedRead => "read",
            StageState::BlockedWrite => "write",
            StageState::Waiting => "wait",
            StageState::Stopped => "stop",
            StageState::Exited => "exit",
        }
    }
}

/// Which way a sleeping task waits on a pipe, from its wait channel (Linux `wchan`):
/// `anon_pipe_read`/`anon_pipe_write` on 6.x kernels, `pipe_read`/`pipe_write` before.
pub fn pipe_wait_from_wchan(wchan: &str) -> Option<StageState> {
    match wchan.trim() {
        "pipe_read" | "anon_pipe_read" | "fifo_pipe_read" => Some(StageState::BlockedRead),
        "pipe_write" | "anon_pipe_write" | "fifo_pipe_write" => Some(StageState::BlockedWrite),
        _ => None,
    }
}

/// One stage at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageSample {
    /// The stage's process.
    pub pid: Pid,
    /// What it was doing. An `Exited` sample may still carry final counters (a process
    /// caught between its exit and its reaping).
    pub state: StageState,
    /// Bytes it has read so far, from any source (Linux `rchar`).
    pub bytes_in: Option<u64>,
    /// Bytes it has written so far, to any target (Linux `wchar`).
    pub bytes_out: Option<u64>,
    /// CPU time it has used so far (user + system).
    pub cpu: Option<Duration>,
}

/// Why a pipe's fill could not be measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FillMissing {
    /// The reader holds no read-only end we may duplicate.
    NoReadEnd,
    /// Duplicating the reader's handle was refused (another user, ptrace policy).
    Denied(String),
    /// The reader exited (the pipe may still hold data no one will read).
    Gone,
    /// Any other failure.
    Failed(String),
}

impl std::fmt::Display for FillMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FillMissing::NoReadEnd => f.write_str("the reader holds no read-only end"),
            FillMissing::Denied(why) => write!(f, "duplicating the read end was denied: {why}"),
            FillMissing::Gone => f.write_str("the reader exited"),
            FillMissing::Failed(why) => write!(f, "{why}"),
        }
    }
}

/// One pipe at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeSample {
    /// The pipe's inode.
    pub ino: u64,
    /// Bytes queued in it, or why that is not known.
    pub fill: std::result::Result<u64, FillMissing>,
    /// Its capacity in bytes, when known.
    pub capacity: Option<u64>,
}

/// Every stage and pipe of a pipeline at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Time since sampling started.
    pub at: Duration,
    /// Stages, in [`Pipeline::stages`] order.
    pub stages: Vec<StageSample>,
    /// Pipes, in [`Pipeline::pipes`] order.
    pub pipes: Vec<PipeSample>,
}

/// How many recent throughput figures a [`Tracker`] keeps per stage (for sparklines).
pub const HISTORY: usize = 120;

/// Running totals of one stage.
#[derive(Clone, Debug, Default, PartialEq)]
struct StageAcc {
    first_at: Option<Duration>,
    last_at: Duration,
    first_in: Option<u64>,
    first_out: Option<u64>,
    first_cpu: Option<Duration>,
    last_in: Option<u64>,
    last_out: Option<u64>,
    last_cpu: Option<Duration>,
    counts: [u64; 4], // running, read, write, waiting (over samples while alive)
    rate_out: VecDeque<u64>,
    /// Whether the last sample alive had byte counters (they may be hidden from us).
    counted: bool,
    rate_in: VecDeque<u64>,
    state: Option<StageState>,
}

/// Running totals of one pipe.
#[derive(Clone, Debug, Default, PartialEq)]
struct PipeAcc {
    capacity: Option<u64>,
    known: u64,
    sum_ratio: f64,
    sum_bytes: u128,
    max: u64,
    full: u64,
    empty: u64,
    last_fill: Option<u64>,
    missing: Option<FillMissing>,
}

/// A pipe counts as full at or above this share of its capacity (a writer can no longer
/// count on room for a page).
const FULL: f64 = 0.875;
/// A pipe counts as nearly empty below this share of its capacity.
const EMPTY: f64 = 0.125;

/// Accumulates samples into per-stage and per-pipe totals, keyed by pid and by inode so
/// that a pipeline whose stage list grows or shrinks keeps its history.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    from_zero: bool,
    stages: HashMap<Pid, StageAcc>,
    pipes: HashMap<u64, PipeAcc>,
}

impl Tracker {
    /// A tracker. With `from_zero`, byte and CPU counts are taken as totals since each
    /// stage started (right for stages we started); otherwise as growth since the first
    /// sample (right for stages we attached to).
    pub fn new(from_zero: bool) -> Self {
        Tracker {
            from_zero,
            ..Tracker::default()
        }
    }

    /// Adds one sample.
    pub fn add(&mut self, sample: &Sample) {
        for s in &sample.stages {
            let acc = self.stages.entry(s.pid).or_default();
            acc.state = Some(s.state);
            if s.state == StageState::Exited {
                // Final counters, when the stage was caught between exit and reaping.
                if acc.first_at.is_some() {
                    acc.last_in = s.bytes_in.or(acc.last_in);
                    acc.last_out = s.bytes_out.or(acc.last_out);
                    acc.last_cpu = s.cpu.or(acc.last_cpu);
                }
                continue;
            }
            let dt = acc.first_at.map(|_| sample.at.saturating_sub(acc.last_at));
            if acc.first_at.is_none() {
                acc.first_at = Some(sample.at);
                acc.first_in = s.bytes_in;
                acc.first_out = s.bytes_out;
                acc.first_cpu = s.cpu;
            }
            if let Some(dt) = dt.filter(|d| !d.is_zero()) {
                let rate = |now: Option<u64>, before: Option<u64>| {
                    let d = now.unwrap_or(0).saturating_sub(before.unwrap_or(0));
                    (d as f64 / dt.as_secs_f64()) as u64
                };
                push_capped(&mut acc.rate_out, rate(s.bytes_out, acc.last_out));
                push_capped(&mut acc.rate_in, rate(s.bytes_in, acc.last_in));
            }
            acc.last_at = sample.at;
            acc.last_in = s.bytes_in.or(acc.last_in);
            acc.last_out = s.bytes_out.or(acc.last_out);
            acc.last_cpu = s.cpu.or(acc.last_cpu);
            acc.counted = s.bytes_out.is_some();
            let slot = match s.state {
                StageState::Running => Some(0),
                StageState::BlockedRead => Some(1),
                StageState::BlockedWrite => Some(2),
                StageState::Waiting => Some(3),
                StageState::Stopped | StageState::Exited => None,
            };
            if let Some(i) = slot {
                acc.counts[i] += 1;
            }
        }
        for p in &sample.pipes {
            let acc = self.pipes.entry(p.ino).or_default();
            acc.capacity = p.capacity.or(acc.capacity);
            match &p.fill {
                Ok(fill) => {
                    acc.known += 1;
                    acc.sum_bytes += u128::from(*fill);
                    acc.max = acc.max.max(*fill);
                    acc.last_fill = Some(*fill);
                    acc.missing = None;
                    if let Some(cap) = acc.capacity.filter(|&c| c > 0) {
                        let r = *fill as f64 / cap as f64;
                        acc.sum_ratio += r;
                        acc.full += u64::from(r >= FULL);
                        acc.empty += u64::from(r < EMPTY);
                    }
                }
                Err(why) => {
                    acc.last_fill = None;
                    // Every pipe loses its reader in the end: that is no reason to
                    // report (the stage shows `exit`), nor one to hide an earlier one.
                    if *why != FillMissing::Gone {
                        acc.missing = Some(why.clone());
                    }
                }
            }
        }
    }

    /// The figures so far for `pipeline`, with the verdict.
    pub fn report(&self, pipeline: &Pipeline) -> Report {
        let none = StageAcc::default();
        let stages: Vec<StageReport> = pipeline
            .stages
            .iter()
            .map(|st| {
                let a = self.stages.get(&st.pid).unwrap_or(&none);
                let span = a.last_at.saturating_sub(a.first_at.unwrap_or(a.last_at));
                let base = |first: Option<u64>| {
                    if self.from_zero {
                        0
                    } else {
                        first.unwrap_or(0)
                    }
                };
                let bytes_in = a.last_in.map(|v| v.saturating_sub(base(a.first_in)));
                let bytes_out = a.last_out.map(|v| v.saturating_sub(base(a.first_out)));
                let cpu = a.last_cpu.map(|c| {
                    if self.from_zero {
                        c
                    } else {
                        c.saturating_sub(a.first_cpu.unwrap_or_default())
                    }
                });
                let samples: u64 = a.counts.iter().sum();
                let share = |i: usize| {
                    if samples == 0 {
                        0.0
                    } else {
                        a.counts[i] as f64 / samples as f64
                    }
                };
                let secs = span.as_secs_f64();
                let per_sec =
                    |b: Option<u64>| b.filter(|_| secs > 0.0).map(|b| (b as f64 / secs) as u64);
                StageReport {
                    pid: st.pid,
                    command: st.command.clone(),
                    state: a.state.unwrap_or(StageState::Exited),
                    bytes_in,
                    bytes_out,
                    throughput_in: per_sec(bytes_in),
                    throughput_out: per_sec(bytes_out),
                    rate_out: a.rate_out.back().copied().filter(|_| a.counted),
                    history_out: a.rate_out.iter().copied().collect(),
                    cpu_percent: match cpu {
                        Some(c) if secs > 0.0 => 100.0 * c.as_secs_f64() / secs,
                        _ => 0.0,
                    },
                    running: share(0),
                    blocked_read: share(1),
                    blocked_write: share(2),
                    waiting: share(3),
                    samples,
                    seconds: secs,
                }
            })
            .collect();
        let pipes: Vec<PipeReport> = pipeline
            .pipes
            .iter()
            .map(|p| {
                let a = self.pipes.get(&p.ino).cloned().unwrap_or_default();
                let n = a.known as f64;
                PipeReport {
                    ino: p.ino,
                    writer: p.writer,
                    reader: p.reader,
                    capacity: a.capacity,
                    fill: a.last_fill,
                    fill_avg: (a.known > 0).then(|| (a.sum_bytes / u128::from(a.known)) as u64),
                    fill_max: (a.known > 0).then_some(a.max),
                    fill_ratio_avg: (a.known > 0 && a.capacity.is_some()).then(|| a.sum_ratio / n),
                    full: (a.known > 0).then(|| a.full as f64 / n),
                    empty: (a.known > 0).then(|| a.empty as f64 / n),
                    samples: a.known,
                    missing: a.missing.as_ref().map(ToString::to_string),
                }
            })
            .collect();
        let bottleneck = verdict(&stages, &pipes);
        Report {
            stages,
            pipes,
            bottleneck,
        }
    }
}

fn push_capped(q: &mut VecDeque<u64>, v: u64) {
    if q.len() == HISTORY {
        q.pop_front();
    }
    q.push_back(v);
}

/// The figures of one stage over the samples so far.
#[derive(Clone, Debug, PartialEq)]
pub struct StageReport {
    /// Process id.
    pub pid: Pid,
    /// What the stage runs.
    pub command: String,
    /// Its state at the last sample.
    pub state: StageState,
    /// Bytes read (all sources); `None` when its counters were never visible to us.
    pub bytes_in: Option<u64>,
    /// Bytes written (all targets); `None` likewise.
    pub bytes_out: Option<u64>,
    /// Average bytes read per second while it was seen alive.
    pub throughput_in: Option<u64>,
    /// Average bytes written per second while it was seen alive.
    pub throughput_out: Option<u64>,
    /// Bytes written per second over the last interval; `None` when not counted then.
    pub rate_out: Option<u64>,
    /// Recent per-interval write rates, oldest first (at most [`HISTORY`]).
    pub history_out: Vec<u64>,
    /// CPU time over wall time while seen alive, in percent of one core.
    pub cpu_percent: f64,
    /// Share of samples running.
    pub running: f64,
    /// Share of samples blocked reading a pipe.
    pub blocked_read: f64,
    /// Share of samples blocked writing a pipe.
    pub blocked_write: f64,
    /// Share of samples asleep for another reason (timer, disk, child).
    pub waiting: f64,
    /// Samples taken while it was alive.
    pub samples: u64,
    /// Seconds between its first and last sample.
    pub seconds: f64,
}

impl StageReport {
    /// Share of samples not waiting on a pipe: running, or asleep for its own reasons.
    pub fn busy(&self) -> f64 {
        self.running + self.waiting
    }
}

/// The figures of one pipe over the samples so far.
#[derive(Clone, Debug, PartialEq)]
pub struct PipeReport {
    /// The pipe's inode.
    pub ino: u64,
    /// Index of the stage writing it.
    pub writer: usize,
    /// Index of the stage reading it.
    pub reader: usize,
    /// Capacity in bytes, when known.
    pub capacity: Option<u64>,
    /// Bytes queued at the last sample, when known.
    pub fill: Option<u64>,
    /// Average bytes queued, when the fill was measured.
    pub fill_avg: Option<u64>,
    /// Most bytes queued at one sample.
    pub fill_max: Option<u64>,
    /// Average fill as a share of capacity.
    pub fill_ratio_avg: Option<f64>,
    /// Share of measured samples it was full (≥ 87.5 % of capacity).
    pub full: Option<f64>,
    /// Share of measured samples it was nearly empty (< 12.5 % of capacity).
    pub empty: Option<f64>,
    /// Samples whose fill was measured.
    pub samples: u64,
    /// Why the fill was not measured at the last sample that failed to, other than its
    /// reader having exited; `None` once measured again.
    pub missing: Option<String>,
}

/// The bottleneck: which stage holds the pipeline back, and why, in one sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// 0-based index of the stage; `None` when no stage holds the others back (the
    /// pipeline waits on its input or output, or nothing was sampled).
    pub stage: Option<usize>,
    /// One sentence for a person.
    pub reason: String,
}

/// Everything known about a pipeline so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Per stage, in pipeline order.
    pub stages: Vec<StageReport>,
    /// Per pipe, in pipeline order.
    pub pipes: Vec<PipeReport>,
    /// Which stage is the bottleneck.
    pub bottleneck: Verdict,
}

/// A stage must be busy (not waiting on a pipe) at least this share of the time to be
/// called the bottleneck.
const MIN_BUSY: f64 = 0.25;

/// Names the bottleneck from per-stage and per-pipe totals.
///
/// A stage holds the others back when it is busy (running or asleep for its own reasons
/// rather than waiting on a pipe) while the pipe in front of it is full — or its writer
/// blocked writing — and the pipe behind it nearly empty — or its reader blocked reading.
/// Each stage scores its busy share plus the mean of that evidence; the highest wins.
pub fn verdict(stages: &[StageReport], pipes: &[PipeReport]) -> Verdict {
    let sampled: Vec<usize> = (0..stages.len())
        .filter(|&i| stages[i].samples > 0)
        .collect();
    if sampled.is_empty() {
        return Verdict {
            stage: None,
            reason: "no stage was sampled".to_string(),
        };
    }
    let input = |i: usize| pipes.iter().find(|p| p.reader == i);
    let output = |i: usize| pipes.iter().find(|p| p.writer == i);
    // Evidence that the input backs up: the pipe full, or the writer stuck writing.
    let pressure = |i: usize| -> Option<f64> {
        let p = input(i)?;
        let w = stages.get(p.writer).filter(|s| s.samples > 0);
        let v = [p.full, w.map(|s| s.blocked_write)].into_iter().flatten();
        v.reduce(f64::max)
    };
    // Evidence that the output starves: the pipe nearly empty, or the reader stuck reading.
    let starve = |i: usize| -> Option<f64> {
        let p = output(i)?;
        let r = stages.get(p.reader).filter(|s| s.samples > 0);
        let v = [p.empty, r.map(|s| s.blocked_read)].into_iter().flatten();
        v.reduce(f64::max)
    };
    let score = |i: usize| {
        let ev: Vec<f64> = [pressure(i), starve(i)].into_iter().flatten().collect();
        let mean = if ev.is_empty() {
            0.0
        } else {
            ev.iter().sum::<f64>() / ev.len() as f64
        };
        stages[i].busy() + mean
    };
    let best = sampled
        .iter()
        .copied()
        .max_by(|&a, &b| score(a).total_cmp(&score(b)).then(b.cmp(&a)))
        .unwrap_or(0);
    let s = &stages[best];
    if s.busy() < MIN_BUSY {
        let first = &stages[sampled[0]];
        let last = &stages[*sampled.last().unwrap_or(&0)];
        let reason = if first.blocked_read >= last.blocked_write {
            format!(
                "no stage is busy: the pipeline waits for its input \
                 (stage 1 `{}` blocked reading {}% of the time)",
                short(&first.command),
                pct(first.blocked_read)
            )
        } else {
            format!(
                "no stage is busy: the pipeline waits for its output to drain \
                 (stage {} `{}` blocked writing {}% of the time)",
                stages.len(),
                short(&last.command),
                pct(last.blocked_write)
            )
        };
        return Verdict {
            stage: None,
            reason,
        };
    }

    let mut why = vec![format!("{}% CPU", pct(s.cpu_percent / 100.0))];
    if s.waiting > s.running {
        why.push(format!(
            "asleep outside pipe reads and writes {}% of the time",
            pct(s.waiting)
        ));
    } else {
        why.push(format!("running {}% of the time", pct(s.running)));
    }
    if let Some(p) = input(best) {
        match p.full {
            Some(f) => why.push(format!("its input pipe full {}% of the time", pct(f))),
            None => {
                if let Some(w) = stages.get(p.writer).filter(|w| w.samples > 0) {
                    why.push(format!(
                        "stage {} blocked writing to it {}% of the time",
                        p.writer + 1,
                        pct(w.blocked_write)
                    ));
                }
            }
        }
    }
    if let Some(p) = output(best) {
        match p.empty {
            Some(e) => why.push(format!(
                "its output pipe nearly empty {}% of the time",
                pct(e)
            )),
            None => {
                if let Some(r) = stages.get(p.reader).filter(|r| r.samples > 0) {
                    why.push(format!(
                        "stage {} blocked reading from it {}% of the time",
                        p.reader + 1,
                        pct(r.blocked_read)
                    ));
                }
            }
        }
    }
    Verdict {
        stage: Some(best),
        reason: format!(
            "stage {} `{}`: {}",
            best + 1,
            short(&s.command),
            why.join(", ")
        ),
    }
}

/// A command cut to 40 characters for a sentence.
fn short(command: &str) -> String {
    if command.chars().count() <= 40 {
        command.to_string()
    } else {
        let mut s: String = command.chars().take(39).collect();
        s.push('…');
        s
    }
}

fn pct(share: f64) -> u64 {
    (share * 100.0).round().max(0.0) as u64
}

/// Whether live sampling works on this system: `Ok` on Linux, [`crate::Error::Unsupported`]
/// elsewhere. Lets a caller refuse before starting anything.
pub fn supported() -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(Error::Unsupported("live pipeline sampling"))
    }
}

/// Samples a pipeline through the OS: finds its stages, then reads each stage's counters
/// and each pipe's fill on demand.
#[derive(Debug)]
pub struct Sampler {
    #[cfg(target_os = "linux")]
    inner: crate::sys::sample::Sampler,
    #[cfg(target_os = "linux")]
    pipeline: Pipeline,
    #[cfg(target_os = "linux")]
    target: Target,
    #[cfg(target_os = "linux")]
    labels: Vec<String>,
    #[cfg(target_os = "linux")]
    start: std::time::Instant,
}

/// Which processes a [`Sampler`] follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The descendants of a shell running the pipeline (the shell itself only when it
    /// replaced itself with the one command).
    Children(Pid),
    /// Every process connected to the selected ones through pipes at fds 0 and 1 (names
    /// are looked up again at each refresh).
    Connected(Vec<ProcessSelector>),
}

impl Sampler {
    /// A sampler for `target`; `labels` name the stages when there are as many as stages
    /// (see [`split_pipeline`]). Fails with [`crate::Error::Unsupported`] on systems without a
    /// backend.
    pub fn new(target: Target, labels: Vec<String>) -> Result<Self> {
        #[cfg(target_os = "linux")]
        {
            let mut s = Sampler {
                inner: crate::sys::sample::Sampler::new(),
                pipeline: Pipeline::default(),
                target,
                labels,
                start: std::time::Instant::now(),
            };
            s.refresh()?;
            Ok(s)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (target, labels);
            Err(Error::Unsupported("live pipeline sampling"))
        }
    }

    /// The pipeline as last discovered.
    pub fn pipeline(&self) -> &Pipeline {
        #[cfg(target_os = "linux")]
        {
            &self.pipeline
        }
        #[cfg(not(target_os = "linux"))]
        unreachable!("a Sampler is never built on this system")
    }

    /// Looks for the pipeline's stages again; returns whether the pipeline changed.
    /// Stages that exited are kept while a pipe still joins them to the live ones.
    pub fn refresh(&mut self) -> Result<bool> {
        #[cfg(target_os = "linux")]
        {
            let (procs, alive) = self.inner.discover(&self.target)?;
            let mut next = assemble(&procs);
            if next.stages.is_empty() {
                return Ok(false);
            }
            keep_exited(&self.pipeline, &mut next, &alive);
            next.label(&self.labels);
            if next == self.pipeline {
                return Ok(false);
            }
            self.inner.track(&next);
            self.pipeline = next;
            Ok(true)
        }
        #[cfg(not(target_os = "linux"))]
        unreachable!("a Sampler is never built on this system")
    }

    /// Reads every stage and pipe once.
    pub fn sample(&mut self) -> Sample {
        #[cfg(target_os = "linux")]
        {
            let at = self.start.elapsed();
            self.inner.sample(&self.pipeline, at)
        }
        #[cfg(not(target_os = "linux"))]
        unreachable!("a Sampler is never built on this system")
    }

    /// Whether every stage has exited.
    pub fn finished(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.inner.all_exited(&self.pipeline)
        }
        #[cfg(not(target_os = "linux"))]
        unreachable!("a Sampler is never built on this system")
    }
}

/// Carries over stages of `prev` that exited (their pid is not in `alive`) but are joined
/// by a pipe, writer to reader, to a stage of `next`, then orders the whole again.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn keep_exited(prev: &Pipeline, next: &mut Pipeline, alive: &BTreeSet<Pid>) {
    let as_proc = |s: &Stage| ProcEnds {
        pid: s.pid,
        ppid: None,
        input: s.input,
        output: s.output,
        command: s.command.clone(),
    };
    let mut all: Vec<ProcEnds> = next.stages.iter().map(as_proc).collect();
    let mut gone: Vec<&Stage> = prev
        .stages
        .iter()
        .filter(|s| !alive.contains(&s.pid) && !all.iter().any(|a| a.pid == s.pid))
        .collect();
    let mut changed = false;
    loop {
        let inputs: BTreeSet<u64> = all.iter().filter_map(|a| a.input).map(|e| e.ino).collect();
        let outputs: BTreeSet<u64> = all.iter().filter_map(|a| a.output).map(|e| e.ino).collect();
        let Some(k) = gone.iter().position(|s| {
            s.output.is_some_and(|e| inputs.contains(&e.ino))
                || s.input.is_some_and(|e| outputs.contains(&e.ino))
        }) else {
            break;
        };
        all.push(as_proc(gone.remove(k)));
        changed = true;
    }
    if changed {
        *next = assemble(&all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(ino: u64, handle: u64, read_only: bool) -> Option<PipeEnd> {
        Some(PipeEnd {
            ino,
            handle,
            read_only,
        })
    }

    fn proc(pid: Pid, ppid: Pid, input: Option<u64>, output: Option<u64>) -> ProcEnds {
        ProcEnds {
            pid,
            ppid: Some(ppid),
            input: input.and_then(|i| end(i, 0, true)),
            output: output.and_then(|o| end(o, 1, false)),
            command: format!("p{pid}"),
        }
    }

    #[test]
    fn split_respects_quotes_groups_and_or() {
        assert_eq!(split_pipeline("a | b|c"), ["a", "b", "c"]);
        assert_eq!(split_pipeline("a || b | c"), ["a || b", "c"]);
        assert_eq!(
            split_pipeline("echo 'x|y' \"p|q\" | wc"),
            ["echo 'x|y' \"p|q\"", "wc"]
        );
        assert_eq!(
            split_pipeline("(a | b) | { c | d; } | $(e|f)"),
            ["(a | b)", "{ c | d; }", "$(e|f)"]
        );
        assert_eq!(split_pipeline("a \\| b | c"), ["a \\| b", "c"]);
        assert_eq!(split_pipeline("a >| f | c"), ["a >| f", "c"]);
        assert_eq!(split_pipeline("cat"), ["cat"]);
    }

    proptest::proptest! {
        /// Any text splits without panicking, and no piece is lost: the pieces hold
        /// every character of the input but the top-level `|`s and the trimmed space.
        #[test]
        fn split_never_panics_nor_loses_text(text in ".{0,80}") {
            let parts = split_pipeline(&text);
            proptest::prop_assert!(!parts.is_empty());
            let kept: usize = parts.iter().map(|p| p.chars().filter(|c| !c.is_whitespace()).count()).sum();
            let input = text.chars().filter(|c| !c.is_whitespace()).count();
            proptest::prop_assert_eq!(kept + parts.len() - 1, input);
        }

        /// Whatever the processes, stages are distinct processes from the input, and each
        /// pipe joins neighbours through the same inode, offering only a read-only end.
        #[test]
        fn assemble_gives_a_consistent_pipeline(
            procs in proptest::collection::vec(
                (1u32..40, 0u32..40, proptest::option::of(0u64..6), proptest::option::of(0u64..6), proptest::bool::ANY),
                0..12,
            )
        ) {
            let mut seen = BTreeSet::new();
            let procs: Vec<ProcEnds> = procs
                .into_iter()
                .filter(|(pid, ..)| seen.insert(*pid))
                .map(|(pid, ppid, i, o, ro)| ProcEnds {
                    pid,
                    ppid: Some(ppid),
                    input: i.map(|ino| PipeEnd { ino, handle: 0, read_only: ro }),
                    output: o.map(|ino| PipeEnd { ino, handle: 1, read_only: false }),
                    command: String::new(),
                })
                .collect();
            let p = assemble(&procs);
            let pids: BTreeSet<Pid> = p.stages.iter().map(|s| s.pid).collect();
            proptest::prop_assert_eq!(pids.len(), p.stages.len());
            proptest::prop_assert!(pids.iter().all(|pid| procs.iter().any(|q| q.pid == *pid)));
            for pipe in &p.pipes {
                proptest::prop_assert_eq!(pipe.reader, pipe.writer + 1);
                let (w, r) = (&p.stages[pipe.writer], &p.stages[pipe.reader]);
                proptest::prop_assert_eq!(w.output.map(|e| e.ino), Some(pipe.ino));
                proptest::prop_assert_eq!(r.input.map(|e| e.ino), Some(pipe.ino));
                if pipe.read_end.is_some() {
                    proptest::prop_assert!(r.input.is_some_and(|e| e.read_only));
                }
            }
        }

        /// Simple commands joined with ` | ` split back into themselves.
        #[test]
        fn split_inverts_a_join(words in proptest::collection::vec("[a-z0-9 ._'-]{1,12}", 1..6)) {
            let words: Vec<String> = words
                .iter()
                .map(|w| w.replace('\'', "").trim().to_string())
                .filter(|w| !w.is_empty())
                .collect();
            proptest::prop_assume!(!words.is_empty());
            proptest::prop_assert_eq!(split_pipeline(&words.join(" | ")), words);
        }
    }

    #[test]
    fn assemble_orders_by_pipes_not_pids() {
        // c (pid 10) reads b's output; b (pid 30) reads a's; a (pid 20) is the source.
        let procs = [
            proc(10, 1, Some(200), None),
            proc(30, 1, Some(100), Some(200)),
            proc(20, 1, None, Some(100)),
        ];
        let p = assemble(&procs);
        let pids: Vec<Pid> = p.stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [20, 30, 10]);
        assert_eq!(p.pipes.len(), 2);
        assert_eq!(
            (p.pipes[0].ino, p.pipes[0].writer, p.pipes[0].reader),
            (100, 0, 1)
        );
        assert_eq!(p.pipes[1].read_end, Some(HandleRef { pid: 10, handle: 0 }));
    }

    #[test]
    fn assemble_folds_children_holding_the_same_ends_into_their_stage() {
        // A subshell stage (pid 5) running `sleep` (pid 9) with the same pipes.
        let procs = [
            proc(4, 1, None, Some(100)),
            proc(5, 1, Some(100), Some(200)),
            proc(9, 5, Some(100), Some(200)),
            proc(6, 1, Some(200), None),
        ];
        let pids: Vec<Pid> = assemble(&procs).stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [4, 5, 6]);
    }

    #[test]
    fn assemble_drops_subshells_that_only_wrap_a_pipeline() {
        // `(a | b) > f` with stdin 50 and stdout 60 from outside: subshell 2 wraps 3 | 4.
        let procs = [
            proc(2, 1, Some(50), Some(60)),
            proc(3, 2, Some(50), Some(100)),
            proc(4, 2, Some(100), None),
        ];
        let pids: Vec<Pid> = assemble(&procs).stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [3, 4]);
        // `{ a | b; } | c`: group 2 wraps 3 | 4 and writes 200, as 4 does.
        let procs = [
            proc(2, 1, Some(50), Some(200)),
            proc(3, 2, Some(50), Some(100)),
            proc(4, 2, Some(100), Some(200)),
            proc(5, 1, Some(200), None),
        ];
        let p = assemble(&procs);
        let pids: Vec<Pid> = p.stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [3, 4, 5]);
        assert_eq!(p.pipes.len(), 2);
    }

    #[test]
    fn assemble_keeps_a_stage_whose_children_write_for_it() {
        // `a | xargs cmd | c`: xargs (3) alone reads 100; its child cmd (4) writes 200.
        let procs = [
            proc(2, 1, None, Some(100)),
            proc(3, 1, Some(100), Some(200)),
            proc(4, 3, None, Some(200)),
            proc(5, 1, Some(200), None),
        ];
        let pids: Vec<Pid> = assemble(&procs).stages.iter().map(|s| s.pid).collect();
        assert!(pids.contains(&3), "{pids:?}");
        assert_eq!(pids[0], 2);
    }

    #[test]
    fn assemble_never_offers_a_write_end_for_duplication() {
        let mut reader = proc(2, 1, None, None);
        reader.input = end(100, 0, false); // fd 0 opened read-write
        let p = assemble(&[proc(1, 0, None, Some(100)), reader]);
        assert_eq!(p.pipes.len(), 1);
        assert_eq!(p.pipes[0].read_end, None);
    }

    #[test]
    fn connected_walks_pipes_from_any_member() {
        let procs = [
            proc(1, 0, None, Some(100)),
            proc(2, 0, Some(100), Some(200)),
            proc(3, 0, Some(200), None),
            proc(4, 0, Some(900), None),
        ];
        let got: Vec<Pid> = connected(&procs, &[3]).iter().map(|p| p.pid).collect();
        assert_eq!(got, [1, 2, 3]);
    }

    #[test]
    fn keep_exited_keeps_a_finished_source_joined_by_its_pipe() {
        let prev = assemble(&[proc(1, 0, None, Some(100)), proc(2, 0, Some(100), None)]);
        let mut next = assemble(&[proc(2, 0, Some(100), None)]);
        keep_exited(&prev, &mut next, &BTreeSet::from([2, 7]));
        let pids: Vec<Pid> = next.stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [1, 2]);
        assert_eq!(next.pipes.len(), 1);
    }

    #[test]
    fn keep_exited_drops_a_live_process_that_is_no_stage_any_more() {
        // The shell (pid 1) stood in as the stage until its children appeared; it shares
        // its stdin with the first child but is alive, so it is not carried over.
        let prev = assemble(&[proc(1, 0, Some(50), None)]);
        let mut next = assemble(&[proc(2, 1, Some(50), Some(100)), proc(3, 1, Some(100), None)]);
        keep_exited(&prev, &mut next, &BTreeSet::from([1, 2, 3]));
        let pids: Vec<Pid> = next.stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [2, 3]);
    }

    #[test]
    fn wchan_names_of_old_and_new_kernels() {
        assert_eq!(
            pipe_wait_from_wchan("anon_pipe_read"),
            Some(StageState::BlockedRead)
        );
        assert_eq!(
            pipe_wait_from_wchan("pipe_write\n"),
            Some(StageState::BlockedWrite)
        );
        assert_eq!(pipe_wait_from_wchan("hrtimer_nanosleep"), None);
    }

    // --- verdicts from synthetic samples -------------------------------------------

    const CAP: u64 = 65536;

    fn three_stage() -> Pipeline {
        let mut p = assemble(&[
            proc(1, 0, None, Some(100)),
            proc(2, 0, Some(100), Some(200)),
            proc(3, 0, Some(200), None),
        ]);
        p.label(&["src".into(), "mid".into(), "sink".into()]);
        p
    }

    /// Feeds `n` samples where stage `i` is in `states[i]` and pipe `j` holds `fills[j]`.
    fn feed(states: [StageState; 3], fills: [Option<u64>; 2], n: u32) -> Report {
        let p = three_stage();
        let mut t = Tracker::new(true);
        for k in 0..n {
            let at = Duration::from_millis(100 * u64::from(k));
            let stages = p
                .stages
                .iter()
                .zip(states)
                .map(|(s, st)| StageSample {
                    pid: s.pid,
                    state: st,
                    bytes_in: Some(u64::from(k) * 1000),
                    bytes_out: Some(u64::from(k) * 1000),
                    cpu: Some(Duration::from_millis(if st == StageState::Running {
                        90 * u64::from(k)
                    } else {
                        u64::from(k)
                    })),
                })
                .collect();
            let pipes = p
                .pipes
                .iter()
                .zip(fills)
                .map(|(pp, f)| PipeSample {
                    ino: pp.ino,
                    fill: f.ok_or(FillMissing::Denied("EPERM".into())),
                    capacity: f.map(|_| CAP),
                })
                .collect();
            t.add(&Sample { at, stages, pipes });
        }
        t.report(&p)
    }

    use StageState::{BlockedRead as R, BlockedWrite as W, Running as Run, Waiting as Zz};

    #[test]
    fn slow_middle_stage_is_the_bottleneck() {
        let r = feed([W, Zz, R], [Some(CAP), Some(0)], 50);
        assert_eq!(r.bottleneck.stage, Some(1), "{}", r.bottleneck.reason);
        assert!(r.bottleneck.reason.contains("input pipe full 100%"));
        assert!(
            r.bottleneck
                .reason
                .contains("output pipe nearly empty 100%")
        );
        assert_eq!(r.pipes[0].fill_avg, Some(CAP));
        assert_eq!(r.pipes[1].fill_max, Some(0));
        assert!((r.stages[0].blocked_write - 1.0).abs() < 1e-9);
    }

    #[test]
    fn slow_last_stage_is_named() {
        let r = feed([W, W, Run], [Some(CAP), Some(CAP - 100)], 50);
        assert_eq!(r.bottleneck.stage, Some(2), "{}", r.bottleneck.reason);
        assert!(r.stages[2].cpu_percent > 80.0);
    }

    #[test]
    fn slow_source_is_named() {
        let r = feed([Run, R, R], [Some(0), Some(0)], 50);
        assert_eq!(r.bottleneck.stage, Some(0), "{}", r.bottleneck.reason);
    }

    #[test]
    fn without_fill_the_neighbours_states_decide() {
        let r = feed([W, Run, R], [None, None], 50);
        assert_eq!(r.bottleneck.stage, Some(1));
        assert!(
            r.bottleneck
                .reason
                .contains("stage 1 blocked writing to it 100%")
        );
        assert!(r.pipes[0].missing.as_deref().unwrap().contains("denied"));
        assert_eq!(r.pipes[0].fill_avg, None);
    }

    #[test]
    fn an_idle_pipeline_has_no_bottleneck() {
        let r = feed([R, R, R], [Some(0), Some(0)], 20);
        assert_eq!(r.bottleneck.stage, None);
        assert!(r.bottleneck.reason.contains("waits for its input"));
    }

    #[test]
    fn nothing_sampled_no_verdict() {
        let r = Tracker::new(true).report(&three_stage());
        assert_eq!(r.bottleneck.stage, None);
        assert_eq!(r.stages[0].samples, 0);
    }

    #[test]
    fn throughput_and_cpu_from_counters() {
        let r = feed([Run, Run, Run], [Some(10), Some(10)], 11);
        // 10 000 bytes over 1 s; 900 ms of CPU over 1 s.
        assert_eq!(r.stages[1].bytes_out, Some(10_000));
        assert_eq!(r.stages[1].throughput_out, Some(10_000));
        assert!((r.stages[1].cpu_percent - 90.0).abs() < 0.5);
        assert_eq!(r.stages[1].rate_out, Some(10_000));
        assert_eq!(r.stages[1].history_out.len(), 10);
    }

    #[test]
    fn final_counters_of_an_exited_stage_count_but_not_its_time() {
        let p = three_stage();
        let mut t = Tracker::new(true);
        let sample = |at: u64, state, bytes| Sample {
            at: Duration::from_secs(at),
            stages: vec![StageSample {
                pid: 1,
                state,
                bytes_in: bytes,
                bytes_out: bytes,
                cpu: None,
            }],
            pipes: vec![],
        };
        t.add(&sample(0, Run, Some(100)));
        t.add(&sample(1, Run, Some(1000)));
        t.add(&sample(2, StageState::Exited, Some(1500)));
        t.add(&sample(3, StageState::Exited, None));
        let r = t.report(&p);
        assert_eq!(r.stages[0].bytes_out, Some(1500));
        assert_eq!(r.stages[0].samples, 2);
        assert_eq!(r.stages[0].state, StageState::Exited);
        assert!((r.stages[0].seconds - 1.0).abs() < 1e-9);
    }

    #[test]
    fn hidden_counters_stay_unknown_rather_than_zero() {
        let p = three_stage();
        let mut t = Tracker::new(false);
        for k in 0..3u64 {
            t.add(&Sample {
                at: Duration::from_secs(k),
                stages: vec![StageSample {
                    pid: 2,
                    state: Zz,
                    bytes_in: None,
                    bytes_out: None,
                    cpu: Some(Duration::from_millis(5 * k)),
                }],
                pipes: vec![],
            });
        }
        let r = t.report(&p);
        let s = &r.stages[1];
        assert_eq!((s.bytes_in, s.bytes_out, s.rate_out), (None, None, None));
        assert_eq!(s.throughput_out, None);
        assert!((s.cpu_percent - 0.5).abs() < 1e-9);
    }

    #[test]
    fn attached_counts_grow_from_the_first_sample() {
        let p = three_stage();
        let mut t = Tracker::new(false);
        for (k, b) in [(0u64, 5000u64), (1, 7000)] {
            t.add(&Sample {
                at: Duration::from_secs(k),
                stages: vec![StageSample {
                    pid: 2,
                    state: Run,
                    bytes_in: Some(b),
                    bytes_out: Some(b),
                    cpu: None,
                }],
                pipes: vec![],
            });
        }
        let r = t.report(&p);
        assert_eq!(r.stages[1].bytes_in, Some(2000));
        assert_eq!(r.stages[0].samples, 0);
    }
}
