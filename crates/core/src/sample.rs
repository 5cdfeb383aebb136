//! Live sampling of a running pipeline: its stages, the pipes between them, what each
//! stage is doing from one moment to the next, and which stage holds the others back.
//!
//! The model and the arithmetic are OS-neutral and pure: [`assemble`] finds stages and
//! pipes from the pipe ends processes hold, [`Tracker`] accumulates [`Sample`]s and
//! [`verdict`] names the bottleneck. A [`Sampler`] drives the OS backend, chosen once in
//! `sys`, through the `Backend` interface (below, crate-private); systems without one
//! return [`Error::Unsupported`].
//!
//! A stage may hold pipes at any handle: stages are ordered along the pipes (sources
//! first), and pipes may join any two stages, cycles included. For a shell pipeline,
//! stage *i* writes the pipe stage *i + 1* reads.

mod pipeline;
mod report;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

pub use pipeline::{Pipe, PipeEnd, Pipeline, ProcEnds, Stage, assemble, connected};
pub use report::{
    HISTORY, PipeReport, Report, StageReport, Tracker, Verdict, VerdictKind, verdict,
};

use crate::waitfor::Activity;

#[cfg(doc)]
use crate::Error;
use crate::buffering::{Buffering, BufferingWatch};
use crate::flow::{FlowProbe, FlowReading, FlowSource};
use crate::sys::SampleBackend;
use crate::{Pid, ProcessSelector, Result};

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
    /// Never seen: a stage of the pipeline's text whose process has not been found (not
    /// started yet, or gone before the first look).
    Unseen,
}

impl StageState {
    /// A short word for views: `run`, `read`, `write`, `wait`, `stop`, `exit`, `unseen`.
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Running => "run",
            StageState::BlockedRead => "read",
            StageState::BlockedWrite => "write",
            StageState::Waiting => "wait",
            StageState::Stopped => "stop",
            StageState::Exited => "exit",
            StageState::Unseen => "unseen",
        }
    }
}

/// One stage at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageSample {
    /// The stage's process; `None` for a stage never seen.
    pub pid: Option<Pid>,
    /// What it was doing. An `Exited` sample may still carry final counters (a process
    /// caught between its exit and its reaping).
    pub state: StageState,
    /// What it was doing in detail, for the wait-for graph: which handle it is blocked
    /// reading or writing, which child it waits for (where the OS tells; Linux: the
    /// system call it sleeps in); [`Activity::Unknown`] where the OS would not say.
    pub activity: Activity,
    /// Bytes it has read so far. Every counter is optional: hidden from us (another
    /// user's process), or not offered by the source. The estimate counts reads from any
    /// source (Linux `rchar`); an exact source (eBPF) counts its pipe ends only.
    pub bytes_in: Option<u64>,
    /// Bytes it has written so far (Linux `wchar`: to any target).
    pub bytes_out: Option<u64>,
    /// CPU time it has used so far (user + system).
    pub cpu: Option<Duration>,
    /// Time its pipe calls have slept so far, measured (the eBPF probe); `None` when
    /// sampling, where the state says it instead.
    pub waited: Option<Waited>,
}

/// Time a stage's pipe calls slept, waiting for data (reads) or for room (writes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waited {
    /// Reads waiting for data.
    pub read: Duration,
    /// Writes waiting for room.
    pub write: Duration,
}

impl StageSample {
    /// A sample that knows nothing but the state.
    pub fn bare(pid: Option<Pid>, state: StageState) -> Self {
        StageSample {
            pid,
            state,
            activity: Activity::Unknown,
            bytes_in: None,
            bytes_out: None,
            cpu: None,
            waited: None,
        }
    }
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
    /// The pipe's identity.
    pub id: u64,
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
    /// Stages holding their output in a buffer (with the eBPF probe only).
    pub buffering: Vec<Buffering>,
}

/// Which processes a [`Sampler`] follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The descendants of a shell running the pipeline (the shell itself only when it
    /// replaced itself with the one command).
    Children(Pid),
    /// Every process connected to the selected ones through pipes, at any handle but
    /// standard error (names are looked up again at each refresh).
    Connected(Vec<ProcessSelector>),
}

/// What a backend found of a [`Target`] at one look.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Discovery {
    /// The processes that may be stages, with every pipe end each holds.
    pub procs: Vec<ProcEnds>,
    /// Every pid alive now, so that a stage no longer found can be told from a stage
    /// that exited.
    pub alive: BTreeSet<Pid>,
    /// For [`Target::Children`]: the shell itself, with the ends of its standard
    /// handles only, which come from outside the pipeline (pipescope's own stdin and
    /// stdout).
    pub root: Option<ProcEnds>,
}

/// The interface of an OS sampling backend. Each system has one type implementing it,
/// chosen in `sys/mod.rs` as `sys::SampleBackend`; a system without one uses the stub
/// whose [`Backend::new`] returns [`Error::Unsupported`].
///
/// The [`Sampler`] drives it: [`discover`](Backend::discover) at start and at each
/// refresh, [`track`](Backend::track) when the pipeline changed, then at each interval
/// [`stage`](Backend::stage) for every stage seen and [`pipe`](Backend::pipe) for every
/// pipe. No call may fail for a process that exited or denies access: that is reported
/// in the sample (an `Exited` state, a `None` counter, a [`FillMissing`]). Nothing a
/// backend does may consume, delay or reorder a byte of the pipeline's data.
pub(crate) trait Backend: Sized + Send + std::fmt::Debug {
    /// A backend ready to sample, or [`Error::Unsupported`].
    fn new() -> Result<Self>;

    /// Finds the processes of `target` as they are now, each with every pipe end it
    /// holds (anonymous pipes and FIFOs; [`PipeEnd::stderr`] marks its standard error)
    /// and its command line. A process whose ends may no longer be read (it made itself
    /// non-dumpable) keeps the ends found before. Errors only when the target cannot be
    /// looked for at all, or (first call) a selector matches no process.
    fn discover(&mut self, target: &Target) -> Result<Discovery>;

    /// Starts following the stages of `pipeline` not followed yet: from here on, a
    /// stage's pid means the process seen now, never a later process given the same pid.
    fn track(&mut self, pipeline: &Pipeline);

    /// Reads stage `stage` (process `pid`) once: its state (which way it is blocked,
    /// and on which handle, where the OS tells), bytes in and out and CPU time so far.
    /// A process that exited, or whose pid now names another process, is `Exited`.
    fn stage(&mut self, stage: &Stage, pid: Pid) -> StageSample;

    /// Measures pipe `pipe` once: bytes queued and capacity, through its
    /// [`Pipe::read_end`] only (a duplicate closed at once, nothing read), or why not.
    fn pipe(&mut self, pipe: &Pipe) -> PipeSample;

    /// Whether process `pid` has been seen to exit (or was never followed).
    fn exited(&self, pid: Pid) -> bool;
}

/// Every live descendant of `root` (its children, theirs, and so on), as the process
/// tree stands now: `run` passes a signal on to them all, so that a stage's own children
/// are not left behind. Fails with [`Error::Unsupported`] where there is no backend.
pub fn descendants(root: Pid) -> Result<Vec<Pid>> {
    #[cfg(target_os = "linux")]
    {
        crate::sys::sample::descendants(root)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = root;
        Err(crate::Error::Unsupported("listing a process's descendants"))
    }
}

/// Whether live sampling works on this system: `Ok` where a backend exists,
/// [`Error::Unsupported`] elsewhere. Lets a caller refuse before starting anything.
pub fn supported() -> Result<()> {
    SampleBackend::new().map(drop)
}

/// Samples a pipeline through the OS: finds its stages, then reads each stage's counters
/// and each pipe's fill on demand.
#[derive(Debug)]
pub struct Sampler {
    backend: SampleBackend,
    pipeline: Pipeline,
    target: Target,
    labels: Vec<String>,
    /// Pipes from outside the pipeline (the shell's own ends).
    outer: BTreeSet<u64>,
    /// The shell's command line, which its forked subshells share.
    shell: Option<String>,
    /// Every process found so far, as last seen.
    seen: HashMap<Pid, ProcEnds>,
    start: Instant,
    /// Exact counts, when the eBPF probe is attached.
    probe: Option<Exact>,
}

/// The probe and what it needs between samples.
#[derive(Debug)]
struct Exact {
    probe: FlowProbe,
    last: FlowReading,
    buffering: BufferingWatch,
}

impl Sampler {
    /// A sampler for `target`; `labels` are the stages of the pipeline's text (see
    /// [`split_pipeline`]) for a pipeline `run` started — each keeps its place, seen or
    /// not — or empty. Fails with [`Error::Unsupported`] on systems without a backend,
    /// and when a selector matches no process.
    pub fn new(target: Target, labels: Vec<String>) -> Result<Self> {
        let mut s = Sampler {
            backend: SampleBackend::new()?,
            pipeline: Pipeline::unseen(&labels),
            target,
            labels,
            outer: BTreeSet::new(),
            shell: None,
            seen: HashMap::new(),
            start: Instant::now(),
            probe: None,
        };
        s.refresh()?;
        Ok(s)
    }

    /// The pipeline as last discovered.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Looks for the pipeline's stages again; returns whether the pipeline changed.
    /// Stages that exited are kept while a pipe still joins them to the live ones.
    pub fn refresh(&mut self) -> Result<bool> {
        let found = self.backend.discover(&self.target)?;
        if let (Some(root), None) = (&found.root, &self.shell) {
            self.outer = root.ends.iter().map(|e| e.pipe).collect();
            self.shell = Some(root.command.clone());
        }
        let mut procs = found.procs;
        if procs.is_empty() {
            return Ok(false);
        }
        self.seen.extend(procs.iter().map(|p| (p.pid, p.clone())));
        pipeline::keep_exited(&self.pipeline, &mut procs, &self.seen, &found.alive);
        let mut next = assemble(&procs);
        // Only what a later look may carry over is kept: the processes of this one.
        self.seen
            .retain(|pid, _| procs.iter().any(|p| p.pid == *pid));
        next.place(&self.labels, &self.outer, self.shell.as_deref());
        if next == self.pipeline {
            return Ok(false);
        }
        self.backend.track(&next);
        self.pipeline = next;
        Ok(true)
    }

    /// Takes exact figures from `probe` from now on: each stage's bytes in and out
    /// counted on its pipe ends only (standard error excepted), the time its pipe calls
    /// slept measured, and the `buffering` finding. Attach the probe before the
    /// pipeline starts for counts from its first byte.
    pub fn use_probe(&mut self, mut probe: FlowProbe) {
        let last = probe.read().unwrap_or_default();
        self.probe = Some(Exact {
            probe,
            last,
            buffering: BufferingWatch::new(),
        });
    }

    /// Where the byte counts come from.
    pub fn source(&self) -> FlowSource {
        if self.probe.is_some() {
            FlowSource::Probe
        } else {
            FlowSource::Sampling
        }
    }

    /// Replaces the sampled counters of `stages` with the probe's exact ones, and finds
    /// the stages holding their output in a buffer.
    fn exact(&mut self, stages: &mut [StageSample]) -> Vec<Buffering> {
        let Some(exact) = self.probe.as_mut() else {
            return Vec::new();
        };
        let Ok(reading) = exact.probe.read() else {
            return Vec::new();
        };
        for (sample, stage) in stages.iter_mut().zip(&self.pipeline.stages) {
            let Some(pid) = stage.pid else { continue };
            let mut ends = reading.ends.iter().filter(|e| e.pid == pid).peekable();
            if ends.peek().is_none() && sample.state == StageState::Exited {
                // Its final counts were given before: keep them.
                (sample.bytes_in, sample.bytes_out) = (None, None);
                continue;
            }
            let (mut bytes_in, mut bytes_out, mut waited) = (0, 0, Waited::default());
            for e in ends.filter(|e| !stage.ends.iter().any(|s| s.stderr && s.handle == e.handle)) {
                bytes_in += e.read.bytes;
                bytes_out += e.write.bytes;
                waited.read += e.read.wait_time;
                waited.write += e.write.wait_time;
            }
            (sample.bytes_in, sample.bytes_out) = (Some(bytes_in), Some(bytes_out));
            sample.waited = Some(waited);
        }
        let elapsed = reading.at.saturating_sub(exact.last.at);
        let delta = reading.delta(&exact.last);
        exact.last = reading;
        let stages: Vec<Pid> = self.pipeline.stages.iter().filter_map(|s| s.pid).collect();
        let mut found = exact.buffering.add(&delta, elapsed);
        found.retain(|b| stages.contains(&b.pid));
        found
    }

    /// Reads every stage and pipe once.
    pub fn sample(&mut self) -> Sample {
        let at = self.start.elapsed();
        let mut stages: Vec<StageSample> = self
            .pipeline
            .stages
            .iter()
            .map(|s| match s.pid {
                Some(pid) => self.backend.stage(s, pid),
                None => StageSample::bare(None, StageState::Unseen),
            })
            .collect();
        let pipes = self
            .pipeline
            .pipes
            .iter()
            .map(|p| self.backend.pipe(p))
            .collect();
        let buffering = self.exact(&mut stages);
        Sample {
            at,
            stages,
            pipes,
            buffering,
        }
    }

    /// Whether every stage seen has exited.
    pub fn finished(&self) -> bool {
        self.pipeline
            .stages
            .iter()
            .filter_map(|s| s.pid)
            .all(|pid| self.backend.exited(pid))
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Processes for tests: `proc(pid, ppid, input, output)` holds pipe `input` at fd 0
    //! read-only and pipe `output` at fd 1 write-only.
    use super::{PipeEnd, ProcEnds};
    use crate::{Mode, Pid};

    pub(crate) fn end(pipe: u64, handle: u64, mode: Mode) -> PipeEnd {
        PipeEnd {
            pipe,
            handle,
            mode,
            stderr: handle == 2,
        }
    }

    pub(crate) fn proc(pid: Pid, ppid: Pid, input: Option<u64>, output: Option<u64>) -> ProcEnds {
        let ends = input
            .map(|i| end(i, 0, Mode::Read))
            .into_iter()
            .chain(output.map(|o| end(o, 1, Mode::Write)))
            .collect();
        ProcEnds {
            pid,
            ppid: Some(ppid),
            session: None,
            ends,
            command: format!("p{pid}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
