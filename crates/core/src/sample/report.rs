//! Totals over the samples of a pipeline, and the verdict drawn from them: which stage
//! holds the others back.
//!
//! Pure arithmetic over [`Sample`]s: no I/O, no OS. Stages are found by pid and pipes by
//! identity, so a pipeline whose stage list grows or shrinks keeps its history.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::{FillMissing, Pipeline, Sample, StageState, Waited};
use crate::waitfor::{Diagnosis, DiagnosisKind, Look, Party, PipeFacts, confirm, diagnose};
use crate::{HandleRef, Pid};

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
    /// Measured pipe waits (the probe) at the first and the last sample alive.
    first_waited: Option<Waited>,
    last_waited: Option<Waited>,
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
    /// The samples of the last [`KEEP`], for the wait-for graph's two looks.
    recent: VecDeque<Sample>,
    /// The last findings confirmed, with the sample they were confirmed in: they stand
    /// while none of their processes moves a byte, even once those are killed (the
    /// report of a deadlocked pipeline ended with Ctrl-C still names the deadlock).
    stuck: RefCell<Option<(Vec<Diagnosis>, Sample)>>,
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
        self.recent.push_back(sample.clone());
        while self.recent.len() > 2
            && self
                .recent
                .front()
                .is_some_and(|f| sample.at.saturating_sub(f.at) > KEEP)
        {
            self.recent.pop_front();
        }
        for s in &sample.stages {
            let Some(pid) = s.pid else { continue };
            let acc = self.stages.entry(pid).or_default();
            acc.state = Some(s.state);
            if s.state == StageState::Exited {
                // Final counters, when the stage was caught between exit and reaping.
                if acc.first_at.is_some() {
                    acc.last_in = s.bytes_in.or(acc.last_in);
                    acc.last_out = s.bytes_out.or(acc.last_out);
                    acc.last_cpu = s.cpu.or(acc.last_cpu);
                    acc.last_waited = s.waited.or(acc.last_waited);
                }
                continue;
            }
            let dt = acc.first_at.map(|_| sample.at.saturating_sub(acc.last_at));
            if acc.first_at.is_none() {
                acc.first_at = Some(sample.at);
                acc.first_in = s.bytes_in;
                acc.first_out = s.bytes_out;
                acc.first_cpu = s.cpu;
                acc.first_waited = s.waited;
            }
            acc.last_waited = s.waited.or(acc.last_waited);
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
                StageState::Stopped | StageState::Exited | StageState::Unseen => None,
            };
            if let Some(i) = slot {
                acc.counts[i] += 1;
            }
        }
        for p in &sample.pipes {
            let acc = self.pipes.entry(p.id).or_default();
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
                let a = st.pid.and_then(|p| self.stages.get(&p)).unwrap_or(&none);
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
                let measured = |dir: fn(&Waited) -> Duration| {
                    let (first, last) = (a.first_waited.as_ref()?, a.last_waited.as_ref()?);
                    (secs > 0.0).then(|| {
                        (dir(last).saturating_sub(dir(first)).as_secs_f64() / secs).min(1.0)
                    })
                };
                let per_sec =
                    |b: Option<u64>| b.filter(|_| secs > 0.0).map(|b| (b as f64 / secs) as u64);
                StageReport {
                    pid: st.pid,
                    command: st.command.clone(),
                    state: match (st.pid, a.state) {
                        (None, _) => StageState::Unseen,
                        (Some(_), s) => s.unwrap_or(StageState::Exited),
                    },
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
                    // Measured (the probe): the time its pipe calls slept over the span.
                    blocked_read: measured(|w| w.read).unwrap_or_else(|| share(1)),
                    blocked_write: measured(|w| w.write).unwrap_or_else(|| share(2)),
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
                let a = self.pipes.get(&p.id).cloned().unwrap_or_default();
                let n = a.known as f64;
                PipeReport {
                    id: p.id,
                    writers: p.writers.clone(),
                    readers: p.readers.clone(),
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
        let bottleneck = stuck_verdict(self.wait_for(pipeline), pipeline)
            .unwrap_or_else(|| verdict(&stages, &pipes));
        Report {
            stages,
            pipes,
            bottleneck,
        }
    }
}

impl Tracker {
    /// The findings of the wait-for graph that hold in the latest sample and in one at
    /// least [`LOOK_GAP`] before it, with no byte moved in between.
    fn wait_for(&self, pipeline: &Pipeline) -> Vec<Diagnosis> {
        let Some(last) = self.recent.back() else {
            return Vec::new();
        };
        let Some(before) = self
            .recent
            .iter()
            .rev()
            .find(|s| last.at.saturating_sub(s.at) >= LOOK_GAP)
        else {
            return Vec::new();
        };
        let now = diagnose(&look(pipeline, last));
        let mut found = if now.is_empty() {
            now
        } else {
            confirm(now, &diagnose(&look(pipeline, before)))
        };
        found.retain(|d| still(d, pipeline, before, last));
        let mut stuck = self.stuck.borrow_mut();
        if !found.is_empty() {
            *stuck = Some((found.clone(), last.clone()));
            return found;
        }
        // Nothing now: the last findings stand while no byte has moved through their
        // pipes (their processes may have been killed since: the pipeline ended stuck).
        match stuck.take() {
            Some((old, then)) if old.iter().all(|d| pipes_still(d, pipeline, &then, last)) => {
                *stuck = Some((old.clone(), then));
                old
            }
            _ => Vec::new(),
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
    /// Process id; `None` for a stage never seen.
    pub pid: Option<Pid>,
    /// What the stage runs.
    pub command: String,
    /// Its state at the last sample ([`StageState::Unseen`] for a stage never seen).
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
    /// The pipe's identity.
    pub id: u64,
    /// Indexes of the stages writing it, ascending; never empty.
    pub writers: Vec<usize>,
    /// Indexes of the stages reading it, ascending; never empty.
    pub readers: Vec<usize>,
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

impl PipeReport {
    /// The first stage writing it.
    pub fn writer(&self) -> usize {
        self.writers[0]
    }

    /// The first stage reading it.
    pub fn reader(&self) -> usize {
        self.readers[0]
    }
}

/// What the verdict says of the pipeline as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VerdictKind {
    /// A stage holds the others back: [`Verdict::stage`].
    Bottleneck,
    /// No stage is busy: the pipeline waits for its input.
    WaitsForInput,
    /// No stage is busy: the pipeline waits for its output to drain.
    WaitsForOutput,
    /// No stage was sampled yet.
    NotSampled,
    /// Stages are blocked on each other in a cycle, through pipes or child exits: none
    /// can ever move. [`Verdict::findings`] holds the cycle.
    Deadlock,
    /// The pipeline makes no progress and the wait-for graph says why: a blocked end
    /// whose other side is stopped, a reader whose writers are orphaned background
    /// processes. [`Verdict::findings`] holds the evidence.
    Stuck,
}

impl VerdictKind {
    /// `bottleneck`, `input`, `output`, `none`, `deadlock` or `stuck`.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Bottleneck => "bottleneck",
            VerdictKind::WaitsForInput => "input",
            VerdictKind::WaitsForOutput => "output",
            VerdictKind::NotSampled => "none",
            VerdictKind::Deadlock => "deadlock",
            VerdictKind::Stuck => "stuck",
        }
    }
}

/// The verdict on a pipeline: deadlocked or stuck (from the wait-for graph, confirmed
/// over two looks at least 100 ms apart with no byte moved), else which stage holds the
/// others back, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// What kind of verdict.
    pub kind: VerdictKind,
    /// 0-based index of the stage to blame; `None` when no one stage is (the pipeline
    /// waits on its input or output, nothing was sampled, or a deadlock's cycle is).
    pub stage: Option<usize>,
    /// One sentence for a person (stages counted from 1 in it).
    pub reason: String,
    /// For a deadlock or a stuck pipeline: the findings of the wait-for graph, with
    /// their evidence (deadlocks first). Empty otherwise.
    pub findings: Vec<Diagnosis>,
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
/// rather than waiting on a pipe) while a pipe in front of it is full — or its writer
/// blocked writing — and a pipe behind it nearly empty — or its reader blocked reading.
/// Each stage scores its busy share plus the mean of that evidence, weighted by the share
/// of samples it was seen in; the highest wins.
/// Stages are named in sentences by their place in `stages`, counted from 1.
pub fn verdict(stages: &[StageReport], pipes: &[PipeReport]) -> Verdict {
    let sampled: Vec<usize> = (0..stages.len())
        .filter(|&i| stages[i].samples > 0)
        .collect();
    let (Some(&first), Some(&last)) = (sampled.first(), sampled.last()) else {
        return Verdict {
            kind: VerdictKind::NotSampled,
            stage: None,
            reason: "no stage was sampled".to_string(),
            findings: Vec::new(),
        };
    };
    let live = |i: usize| stages.get(i).filter(|s| s.samples > 0);
    let most = sampled
        .iter()
        .map(|&i| stages[i].samples)
        .max()
        .unwrap_or(1);
    // Evidence that an input backs up: the pipe full, or a writer stuck writing.
    let pressure_of = |p: &PipeReport| -> Option<f64> {
        let w = p
            .writers
            .iter()
            .filter_map(|&w| live(w))
            .map(|s| s.blocked_write);
        [p.full].into_iter().flatten().chain(w).reduce(f64::max)
    };
    // Evidence that an output starves: the pipe nearly empty, or a reader stuck reading.
    let starve_of = |p: &PipeReport| -> Option<f64> {
        let r = p
            .readers
            .iter()
            .filter_map(|&r| live(r))
            .map(|s| s.blocked_read);
        [p.empty].into_iter().flatten().chain(r).reduce(f64::max)
    };
    let inputs = |i: usize| pipes.iter().filter(move |p| p.readers.contains(&i));
    let outputs = |i: usize| pipes.iter().filter(move |p| p.writers.contains(&i));
    fn strongest<'a>(
        ps: impl Iterator<Item = &'a PipeReport>,
        f: &dyn Fn(&PipeReport) -> Option<f64>,
    ) -> Option<(&'a PipeReport, f64)> {
        ps.filter_map(|p| f(p).map(|v| (p, v)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
    let score = |i: usize| {
        let ev: Vec<f64> = [
            strongest(inputs(i), &pressure_of).map(|x| x.1),
            strongest(outputs(i), &starve_of).map(|x| x.1),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mean = if ev.is_empty() {
            0.0
        } else {
            ev.iter().sum::<f64>() / ev.len() as f64
        };
        // A stage seen for a moment (gone early, or come late) holds nothing back for
        // long: its figures count by the share of the samples it was seen in.
        let coverage = stages[i].samples as f64 / most as f64;
        coverage * (stages[i].busy() + mean)
    };
    let best = sampled
        .iter()
        .copied()
        .max_by(|&a, &b| score(a).total_cmp(&score(b)).then(b.cmp(&a)))
        .unwrap_or(first);
    let s = &stages[best];
    if s.busy() < MIN_BUSY {
        let (head, tail) = (&stages[first], &stages[last]);
        let input = head.blocked_read >= tail.blocked_write;
        let reason = if input {
            format!(
                "no stage is busy: the pipeline waits for its input \
                 (stage {} `{}` blocked reading {}% of the time)",
                first + 1,
                short(&head.command),
                pct(head.blocked_read)
            )
        } else {
            format!(
                "no stage is busy: the pipeline waits for its output to drain \
                 (stage {} `{}` blocked writing {}% of the time)",
                last + 1,
                short(&tail.command),
                pct(tail.blocked_write)
            )
        };
        return Verdict {
            kind: if input {
                VerdictKind::WaitsForInput
            } else {
                VerdictKind::WaitsForOutput
            },
            stage: None,
            reason,
            findings: Vec::new(),
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
    // Each pipe's evidence is said as it was weighed: the fill, or its writer (reader)
    // blocked, whichever is stronger. (A fill measured in one sample of many — a reader
    // that reopened its end — must not speak over a writer blocked all along.)
    enum Evidence {
        /// The pipe's own share of samples (full, or nearly empty).
        Pipe(f64),
        /// A stage on its other side, and its blocked share.
        Stage(usize, f64),
    }
    let stronger = |share: Option<f64>, stages: &[usize], blocked: fn(&StageReport) -> f64| {
        let stage = stages
            .iter()
            .filter_map(|&i| Some((i, blocked(live(i)?))))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match (share, stage) {
            (Some(f), s) if s.is_none_or(|(_, b)| f >= b) => Some(Evidence::Pipe(f)),
            (_, s) => s.map(|(i, b)| Evidence::Stage(i, b)),
        }
    };
    if let Some((p, _)) = strongest(inputs(best), &pressure_of) {
        match stronger(p.full, &p.writers, |s| s.blocked_write) {
            Some(Evidence::Pipe(f)) => {
                why.push(format!("its input pipe full {}% of the time", pct(f)))
            }
            Some(Evidence::Stage(w, b)) => why.push(format!(
                "stage {} blocked writing to it {}% of the time",
                w + 1,
                pct(b)
            )),
            None => {}
        }
    }
    if let Some((p, _)) = strongest(outputs(best), &starve_of) {
        match stronger(p.empty, &p.readers, |s| s.blocked_read) {
            Some(Evidence::Pipe(e)) => why.push(format!(
                "its output pipe nearly empty {}% of the time",
                pct(e)
            )),
            Some(Evidence::Stage(r, b)) => why.push(format!(
                "stage {} blocked reading from it {}% of the time",
                r + 1,
                pct(b)
            )),
            None => {}
        }
    }
    Verdict {
        kind: VerdictKind::Bottleneck,
        stage: Some(best),
        reason: format!(
            "stage {} `{}`: {}",
            best + 1,
            short(&s.command),
            why.join(", ")
        ),
        findings: Vec::new(),
    }
}

/// The verdict when the wait-for graph explains why the pipeline does not move (the
/// `findings` of two looks, confirmed), else `None`. A deadlock outranks the rest.
fn stuck_verdict(findings: Vec<Diagnosis>, pipeline: &Pipeline) -> Option<Verdict> {
    let first = findings.first()?;
    let deadlock = first.kind == DiagnosisKind::Deadlock;
    let place = |pid: Pid| pipeline.stages.iter().position(|s| s.pid == Some(pid));
    // The stage to blame: a stopped or orphaned holder, when it is a stage.
    let stage = if deadlock {
        None
    } else {
        first.holders.iter().find_map(|h| place(h.pid))
    };
    Some(Verdict {
        kind: if deadlock {
            VerdictKind::Deadlock
        } else {
            VerdictKind::Stuck
        },
        stage,
        reason: format!(
            "{}: {}",
            if deadlock { "deadlock" } else { "stuck" },
            first.message
        ),
        findings,
    })
}

/// Two looks must be at least this far apart to confirm a finding.
const LOOK_GAP: Duration = Duration::from_millis(100);
/// How far back a [`Tracker`] keeps whole samples, for the wait-for graph.
const KEEP: Duration = Duration::from_secs(2);

/// One look at `pipeline` as `sample` saw it, for the wait-for graph: each live stage
/// is a party, each pipe of the pipeline with every end the live stages hold.
fn look(pipeline: &Pipeline, sample: &Sample) -> Look {
    let live: Vec<(&super::Stage, &super::StageSample)> = pipeline
        .stages
        .iter()
        .filter_map(|st| {
            let pid = st.pid?;
            let s = sample.stages.iter().find(|s| s.pid == Some(pid))?;
            (!matches!(s.state, StageState::Exited | StageState::Unseen)).then_some((st, s))
        })
        .collect();
    let parties = live
        .iter()
        .filter_map(|(st, s)| {
            Some(Party {
                pid: st.pid?,
                name: short(program_first(&st.command)),
                activity: s.activity.clone(),
                orphaned: false,
            })
        })
        .collect();
    let holders = |id: u64, f: fn(&super::PipeEnd) -> bool| -> Vec<HandleRef> {
        live.iter()
            .flat_map(|(st, _)| {
                st.ends
                    .iter()
                    .filter(move |e| e.pipe == id && f(e))
                    .filter_map(|e| {
                        Some(HandleRef {
                            pid: st.pid?,
                            handle: e.handle,
                        })
                    })
            })
            .collect()
    };
    let pipes = pipeline
        .pipes
        .iter()
        .map(|p| {
            let ps = sample.pipes.iter().find(|s| s.id == p.id);
            PipeFacts {
                id: pipe_id(p.id),
                readers: holders(p.id, super::PipeEnd::reads),
                writers: holders(p.id, super::PipeEnd::writes),
                fill: ps.and_then(|s| s.fill.as_ref().ok().copied()),
                capacity: ps.and_then(|s| s.capacity),
                hidden_ends: p.others,
            }
        })
        .collect();
    Look { parties, pipes }
}

/// Whether the pipes of finding `d` hold as many bytes in sample `b` as in `a` (where
/// known in both).
fn pipes_still(d: &Diagnosis, pipeline: &Pipeline, a: &Sample, b: &Sample) -> bool {
    let fill = |s: &Sample, id: u64| {
        s.pipes
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| p.fill.as_ref().ok().copied())
    };
    d.pipes.iter().all(|e| {
        pipeline
            .pipes
            .iter()
            .find(|p| pipe_id(p.id) == e.id)
            .is_some_and(|p| fill(a, p.id).zip(fill(b, p.id)).is_none_or(|(x, y)| x == y))
    })
}

/// How the wait-for graph names pipe `id`.
fn pipe_id(id: u64) -> String {
    format!("pipe:[{id}]")
}

/// Whether no byte moved between samples `a` and `b` for finding `d`: its processes'
/// counters and its pipes' fills are the same in both (where known in both).
fn still(d: &Diagnosis, pipeline: &Pipeline, a: &Sample, b: &Sample) -> bool {
    let stage = |s: &Sample, pid: Pid| {
        s.stages
            .iter()
            .find(|x| x.pid == Some(pid))
            .map(|x| (x.bytes_in, x.bytes_out))
    };
    let same = |x: Option<u64>, y: Option<u64>| x.zip(y).is_none_or(|(x, y)| x == y);
    let counters = d
        .pids()
        .into_iter()
        .all(|pid| match (stage(a, pid), stage(b, pid)) {
            (Some((ai, ao)), Some((bi, bo))) => same(ai, bi) && same(ao, bo),
            _ => false,
        });
    let fill = |s: &Sample, id: u64| {
        s.pipes
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| p.fill.as_ref().ok().copied())
    };
    let fills = d.pipes.iter().all(|e| {
        pipeline
            .pipes
            .iter()
            .find(|p| pipe_id(p.id) == e.id)
            .is_some_and(|p| same(fill(a, p.id), fill(b, p.id)))
    });
    counters && fills
}

/// A command line with its program named by its file name only:
/// `/usr/bin/python3 x.py` is `python3 x.py`.
fn program_first(command: &str) -> &str {
    let first = command.split(' ').next().unwrap_or(command);
    match first.rfind('/') {
        Some(i) => &command[i + 1..],
        None => command,
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

#[cfg(test)]
mod tests {
    use super::super::testing::proc;
    use super::super::{FillMissing, PipeSample, StageSample, assemble};
    use super::*;

    // --- verdicts from synthetic samples -------------------------------------------

    const CAP: u64 = 65536;

    fn three_stage() -> Pipeline {
        let mut p = assemble(&[
            proc(1, 0, None, Some(100)),
            proc(2, 0, Some(100), Some(200)),
            proc(3, 0, Some(200), None),
        ]);
        let text = ["src".to_string(), "mid".into(), "sink".into()];
        p.place(&text, &std::collections::BTreeSet::new(), None);
        p
    }

    /// Feeds `n` samples where stage `i` is in `states[i]` and pipe `j` holds `fills[j]`.
    fn feed(states: [StageState; 3], fills: [Option<u64>; 2], n: u32) -> Report {
        feed_with(states, |_| fills, n)
    }

    /// As `feed`, with the fills of sample `k` given by `fills_at(k)`.
    fn feed_with(
        states: [StageState; 3],
        fills_at: impl Fn(u32) -> [Option<u64>; 2],
        n: u32,
    ) -> Report {
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
                    activity: crate::waitfor::Activity::Unknown,
                    bytes_in: Some(u64::from(k) * 1000),
                    bytes_out: Some(u64::from(k) * 1000),
                    cpu: Some(Duration::from_millis(if st == StageState::Running {
                        90 * u64::from(k)
                    } else {
                        u64::from(k)
                    })),
                    waited: None,
                })
                .collect();
            let pipes = p
                .pipes
                .iter()
                .zip(fills_at(k))
                .map(|(pp, f)| PipeSample {
                    id: pp.id,
                    fill: f.ok_or(FillMissing::Denied("EPERM".into())),
                    capacity: f.map(|_| CAP),
                })
                .collect();
            t.add(&Sample {
                at,
                stages,
                pipes,
                buffering: Vec::new(),
            });
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
    fn a_fill_measured_once_does_not_speak_over_a_writer_blocked_all_along() {
        // The reader reopened its input read-write after the first sample: that pipe's
        // fill (empty, then) was measured once; its writer was blocked writing throughout.
        let r = feed_with(
            [W, Zz, R],
            |k| [if k == 0 { Some(0) } else { None }, Some(0)],
            50,
        );
        assert_eq!(r.bottleneck.stage, Some(1), "{}", r.bottleneck.reason);
        assert_eq!(r.pipes[0].samples, 1);
        let reason = &r.bottleneck.reason;
        assert!(
            reason.contains("stage 1 blocked writing to it 100%"),
            "{reason}"
        );
        assert!(!reason.contains("input pipe full"), "{reason}");
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
                pid: Some(1),
                state,
                activity: crate::waitfor::Activity::Unknown,
                bytes_in: bytes,
                bytes_out: bytes,
                cpu: None,
                waited: None,
            }],
            pipes: vec![],
            buffering: Vec::new(),
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
                    pid: Some(2),
                    activity: crate::waitfor::Activity::Unknown,
                    state: Zz,
                    bytes_in: None,
                    bytes_out: None,
                    cpu: Some(Duration::from_millis(5 * k)),
                    waited: None,
                }],
                pipes: vec![],
                buffering: Vec::new(),
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
                    pid: Some(2),
                    activity: crate::waitfor::Activity::Unknown,
                    state: Run,
                    bytes_in: Some(b),
                    bytes_out: Some(b),
                    cpu: None,
                    waited: None,
                }],
                pipes: vec![],
                buffering: Vec::new(),
            });
        }
        let r = t.report(&p);
        assert_eq!(r.stages[1].bytes_in, Some(2000));
        assert_eq!(r.stages[0].samples, 0);
    }

    #[test]
    fn stages_are_named_by_their_place_even_when_the_first_was_never_sampled() {
        // The first stage was never seen; the others wait on their input.
        let mut p = three_stage();
        p.stages[0].pid = None;
        let mut t = Tracker::new(true);
        for k in 0..10u64 {
            let stages = p
                .stages
                .iter()
                .map(|s| match s.pid {
                    None => StageSample::bare(None, StageState::Unseen),
                    pid => StageSample::bare(pid, R),
                })
                .collect();
            t.add(&Sample {
                at: Duration::from_millis(100 * k),
                stages,
                pipes: vec![],
                buffering: Vec::new(),
            });
        }
        let r = t.report(&p);
        assert_eq!(r.stages[0].state, StageState::Unseen);
        assert_eq!(r.stages[0].pid, None);
        assert_eq!(r.bottleneck.stage, None);
        assert!(
            r.bottleneck
                .reason
                .contains("stage 2 `mid` blocked reading"),
            "{}",
            r.bottleneck.reason
        );
    }

    #[test]
    fn a_stage_seen_for_one_sample_is_not_the_bottleneck() {
        // The source ran for one look and exited; the middle stage works all along.
        let p = three_stage();
        let mut t = Tracker::new(true);
        for k in 0..20u64 {
            let src = if k == 0 { Run } else { StageState::Exited };
            let stages = [src, Zz, R]
                .into_iter()
                .zip(&p.stages)
                .map(|(st, s)| StageSample::bare(s.pid, st))
                .collect();
            let pipes = vec![
                PipeSample {
                    id: 100,
                    fill: Ok(0),
                    capacity: Some(CAP),
                },
                PipeSample {
                    id: 200,
                    fill: Ok(0),
                    capacity: Some(CAP),
                },
            ];
            t.add(&Sample {
                at: Duration::from_millis(100 * k),
                stages,
                pipes,
                buffering: Vec::new(),
            });
        }
        let r = t.report(&p);
        assert_eq!(r.bottleneck.stage, Some(1), "{}", r.bottleneck.reason);
    }

    /// Python (10) writes pipe 100 into cat (11), which writes pipe 200 back; both
    /// blocked writing full pipes.
    fn cycle() -> Pipeline {
        use crate::Mode;
        let mut python = proc(10, 1, None, None);
        python.ends = vec![
            super::super::testing::end(100, 4, Mode::Write),
            super::super::testing::end(200, 5, Mode::Read),
        ];
        assemble(&[python, proc(11, 10, Some(100), Some(200))])
    }

    fn blocked(p: &Pipeline, k: u64, moved: u64) -> Sample {
        use crate::waitfor::Activity;
        let handles = [4, 1];
        Sample {
            at: Duration::from_millis(50 * k),
            stages: p
                .stages
                .iter()
                .zip(handles)
                .map(|(s, h)| StageSample {
                    activity: Activity::Writing { handle: Some(h) },
                    bytes_out: Some(moved),
                    bytes_in: Some(0),
                    ..StageSample::bare(s.pid, W)
                })
                .collect(),
            pipes: p
                .pipes
                .iter()
                .map(|q| PipeSample {
                    id: q.id,
                    fill: Ok(CAP),
                    capacity: Some(CAP),
                })
                .collect(),
            buffering: Vec::new(),
        }
    }

    #[test]
    fn a_cycle_blocked_in_two_looks_100ms_apart_is_a_deadlock() {
        let p = cycle();
        let mut t = Tracker::new(false);
        t.add(&blocked(&p, 0, 0));
        t.add(&blocked(&p, 1, 0));
        // 50 ms apart: not yet.
        assert_ne!(t.report(&p).bottleneck.kind, VerdictKind::Deadlock);
        t.add(&blocked(&p, 2, 0));
        let v = t.report(&p).bottleneck;
        assert_eq!(v.kind, VerdictKind::Deadlock, "{}", v.reason);
        assert_eq!(v.stage, None);
        assert_eq!(v.findings[0].kind, DiagnosisKind::Deadlock);
        assert_eq!(v.findings[0].pids(), [10, 11]);
        // Killed: the stages exit, the pipes keep their bytes; the report still says so.
        let mut gone = blocked(&p, 3, 0);
        for s in &mut gone.stages {
            *s = StageSample::bare(s.pid, StageState::Exited);
        }
        gone.pipes[0].fill = Err(FillMissing::Gone);
        t.add(&gone);
        assert_eq!(t.report(&p).bottleneck.kind, VerdictKind::Deadlock);
    }

    #[test]
    fn bytes_moving_between_the_looks_is_no_deadlock() {
        let p = cycle();
        let mut t = Tracker::new(false);
        for k in 0..6 {
            t.add(&blocked(&p, k, k * 4096));
        }
        let v = t.report(&p).bottleneck;
        assert_ne!(v.kind, VerdictKind::Deadlock, "{}", v.reason);
        assert!(v.findings.is_empty());
    }
}
