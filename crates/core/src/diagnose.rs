//! Why is it stuck? The live state of a [`PipeGraph`] — what each holder of a pipe end
//! is doing, how full each pipe is — and the findings of the wait-for graph
//! ([`crate::waitfor`]) over it, each confirmed by a second look.
//!
//! [`observe`] takes one look (every holder's state through the OS backend, every pipe's
//! fill) and runs the engine. Only when it finds something does it look again, after
//! [`ObserveOptions::confirm_after`], at the processes and pipes concerned; a finding is
//! kept when the second look finds it too and no bytes moved in between (the pipes'
//! fills and the processes' I/O counters unchanged). A machine with nothing stuck costs
//! one look.
//!
//! What the scan could not see is never guessed: a pipe with ends of unknown mode, or
//! whose missing side may be held out of sight (the graph's `hidden-holder`), is not
//! reasoned about; a process whose state may not be read is [`Activity::Unknown`].
//! Processes the scan was not allowed to inspect are assumed to hold no ends of a pipe
//! whose both sides it saw.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::activity::{Activity, EndState, IoCounters, PipeFill, ProcessState};
use crate::graph::{FindingKind, Pipe, PipeEnd, PipeGraph};
use crate::model::{HandleRef, Mode, ObjectId, Pid};
use crate::sample::FillMissing;
use crate::waitfor::{self, Diagnosis, Look, Party, PipeFacts, WaitOn};

/// What [`observe`] looks at and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObserveOptions {
    /// The pipes to look at, by index into [`PipeGraph::pipes`]; `None` for every pipe
    /// that is not a self-pipe (a self-pipe's ends are all in one process, so it joins
    /// no two processes in the wait-for graph).
    pub pipes: Option<Vec<usize>>,
    /// The pause before the second look that confirms a finding.
    pub confirm_after: Duration,
}

impl Default for ObserveOptions {
    fn default() -> Self {
        ObserveOptions {
            pipes: None,
            confirm_after: Duration::from_millis(100),
        }
    }
}

/// What [`observe`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveState {
    /// Every process holding an end of a pipe looked at (and children waited for), as
    /// last seen. A process that exited since the scan is absent.
    pub processes: BTreeMap<Pid, ProcessState>,
    /// The fill of each pipe looked at, by index into [`PipeGraph::pipes`]; `None` for a
    /// pipe not looked at.
    pub fills: Vec<Option<PipeFill>>,
    /// The findings, confirmed by two looks; their pipe indexes are the graph's.
    pub findings: Vec<Diagnosis>,
    /// How many looks were taken: 1, or 2 when a finding needed confirming.
    pub looks: u32,
    /// The scan runs inside a pid namespace and cannot see processes outside it: a
    /// pipe's missing side may be held there.
    pub partial_view: bool,
}

impl LiveState {
    /// What `pid` was doing ([`Activity::Unknown`] when it was not looked at).
    pub fn activity(&self, pid: Pid) -> &Activity {
        const UNKNOWN: &Activity = &Activity::Unknown;
        self.processes.get(&pid).map_or(UNKNOWN, |s| &s.activity)
    }

    /// What the holder of `end` was doing with it.
    pub fn end_state(&self, end: &PipeEnd) -> EndState {
        self.activity(end.pid).at_end(end.handle)
    }

    /// The fill of pipe `pipe` (an index into [`PipeGraph::pipes`]), when looked at.
    pub fn fill(&self, pipe: usize) -> Option<&PipeFill> {
        self.fills.get(pipe).and_then(Option::as_ref)
    }

    /// The findings that concern pipe `pipe`.
    pub fn findings_for(&self, pipe: usize) -> impl Iterator<Item = &Diagnosis> {
        self.findings.iter().filter(move |d| d.concerns(pipe))
    }
}

/// Takes a look at the live state of `graph`'s pipes and their holders, diagnoses it,
/// and confirms what it finds with a second look. Never fails: what may not be read is
/// unknown, a process that exits is left out.
pub fn observe(graph: &PipeGraph<'_>, opts: &ObserveOptions) -> LiveState {
    let mut prober = crate::sys::Prober::new();
    let chosen: Vec<usize> = match &opts.pipes {
        Some(list) => {
            let mut v: Vec<usize> = list
                .iter()
                .copied()
                .filter(|&i| i < graph.pipes.len())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        None => (0..graph.pipes.len())
            .filter(|&i| !graph.pipes[i].is_self_pipe())
            .collect(),
    };
    let looker = Looker {
        graph,
        chosen,
        children: std::sync::OnceLock::new(),
    };
    let mut state = LiveState {
        processes: BTreeMap::new(),
        fills: vec![None; graph.pipes.len()],
        findings: Vec::new(),
        looks: 1,
        partial_view: crate::sys::partial_view(),
    };
    // First look: every holder, every chosen pipe; the processes on a second thread
    // while this one measures the pipes (the two share nothing).
    let mut holders: BTreeSet<Pid> = BTreeSet::new();
    for &i in &looker.chosen {
        holders.extend(graph.pipes[i].ends().map(|e| e.pid));
    }
    let read_all = || {
        let mut prober = crate::sys::Prober::new();
        let mut out = BTreeMap::new();
        for &pid in &holders {
            looker.read(&mut prober, pid, &mut out);
        }
        out
    };
    let fills: Vec<(usize, PipeFill)> = std::thread::scope(|scope| {
        let states = std::thread::Builder::new()
            .name("pipescope-state".into())
            .spawn_scoped(scope, read_all);
        let fills = looker
            .chosen
            .iter()
            .map(|&i| (i, measure(&mut prober, &graph.pipes[i])))
            .collect();
        // No thread to be had: read them here.
        state.processes = match states {
            Ok(h) => h.join().unwrap_or_else(|_| read_all()),
            Err(_) => read_all(),
        };
        fills
    });
    for (i, f) in fills {
        state.fills[i] = Some(f);
    }
    let first = waitfor::diagnose(&looker.look(&state));
    if first.is_empty() {
        return state;
    }
    // Second look, at what the findings name only.
    let pids: BTreeSet<Pid> = first.iter().flat_map(Diagnosis::pids).collect();
    let pipes: BTreeSet<usize> = first
        .iter()
        .flat_map(|d| d.pipes.iter().map(|p| looker.chosen[p.pipe]))
        .collect();
    let io_before: HashMap<Pid, Option<IoCounters>> =
        pids.iter().map(|&p| (p, prober.io(p))).collect();
    let fills_before: HashMap<usize, Option<PipeFill>> =
        pipes.iter().map(|&i| (i, state.fills[i].clone())).collect();
    std::thread::sleep(opts.confirm_after);
    state.looks = 2;
    for &pid in &pids {
        let before = state.processes.get(&pid).and_then(|s| s.start);
        state.processes.remove(&pid);
        looker.read(&mut prober, pid, &mut state.processes);
        // The same pid, but another process: the one we saw is gone.
        if state
            .processes
            .get(&pid)
            .is_some_and(|s| s.start.is_some() && s.start != before)
        {
            state.processes.remove(&pid);
        }
    }
    for &i in &pipes {
        state.fills[i] = Some(measure(&mut prober, &graph.pipes[i]));
    }
    let second = waitfor::diagnose(&looker.look(&state));
    let still = |d: &Diagnosis| {
        let quiet = d.pids().iter().all(|p| {
            let before = io_before.get(p).copied().flatten();
            before.is_some() && before == prober.io(*p)
        });
        let same_fill = d.pipes.iter().all(|p| {
            let i = looker.chosen[p.pipe];
            fills_before.get(&i).cloned().flatten() == state.fills[i]
        });
        quiet && same_fill
    };
    state.findings = waitfor::confirm(first, &second)
        .into_iter()
        .filter(still)
        .map(|d| looker.to_graph(d))
        .collect();
    state
}

/// The state of the machine as the engine needs it, built from the graph and a look.
struct Looker<'g, 'a> {
    graph: &'g PipeGraph<'a>,
    /// The pipes looked at, by graph index; the engine's pipe `k` is `chosen[k]`.
    chosen: Vec<usize>,
    /// Children by parent, from the snapshot, built when first needed.
    children: std::sync::OnceLock<HashMap<Pid, Vec<Pid>>>,
}

impl Looker<'_, '_> {
    /// Reads `pid`'s state into `into`, making what the OS left vague precise where the
    /// scan can tell: the one pipe end a process blocked in a pipe read could be reading,
    /// the one child a process waiting for "any child" has. A child waited for is read
    /// too.
    fn read(
        &self,
        prober: &mut crate::sys::Prober,
        pid: Pid,
        into: &mut BTreeMap<Pid, ProcessState>,
    ) {
        let Some(mut st) = prober.process(pid) else {
            return;
        };
        let sole_end = |want: fn(Mode) -> bool| {
            let p = self.graph.process(pid)?;
            let mut ends = p
                .handles
                .iter()
                .filter(|h| h.pipe.is_some() && want(h.mode));
            let one = ends.next()?;
            ends.next().is_none().then_some(one.handle)
        };
        match st.activity {
            Activity::Reading { handle: None } => {
                st.activity = Activity::Reading {
                    handle: sole_end(Mode::reads),
                }
            }
            Activity::Writing { handle: None } => {
                st.activity = Activity::Writing {
                    handle: sole_end(Mode::writes),
                }
            }
            Activity::WaitingForChild { child: None } => {
                let kids = self.children().get(&pid);
                if let Some([only]) = kids.map(Vec::as_slice) {
                    st.activity = Activity::WaitingForChild { child: Some(*only) };
                }
            }
            _ => {}
        }
        let child = match st.activity {
            Activity::WaitingForChild { child: Some(c) } => Some(c),
            _ => None,
        };
        into.insert(pid, st);
        if let Some(c) = child.filter(|c| !into.contains_key(c)) {
            if let Some(cs) = prober.process(c) {
                into.insert(c, cs);
            }
        }
    }

    fn children(&self) -> &HashMap<Pid, Vec<Pid>> {
        let graph = self.graph;
        self.children.get_or_init(|| {
            let mut m: HashMap<Pid, Vec<Pid>> = HashMap::new();
            for p in &graph.snapshot().processes {
                if let Some(pp) = p.ppid {
                    m.entry(pp).or_default().push(p.pid);
                }
            }
            m
        })
    }

    fn look(&self, state: &LiveState) -> Look {
        let parties = state
            .processes
            .iter()
            .map(|(&pid, s)| Party {
                pid,
                name: self.graph.process_name(pid).to_string(),
                activity: s.activity.clone(),
                orphaned: s.orphaned,
            })
            .collect();
        let pipes = self
            .chosen
            .iter()
            .map(|&i| {
                let p = &self.graph.pipes[i];
                let fill = state.fills[i].as_ref();
                let refs = |ends: &[PipeEnd]| ends.iter().map(PipeEnd::handle_ref).collect();
                PipeFacts {
                    id: p.id(),
                    readers: refs(&p.readers),
                    writers: refs(&p.writers),
                    fill: fill.and_then(|f| f.fill.as_ref().ok().copied()),
                    capacity: fill.and_then(|f| f.capacity),
                    hidden_ends: !p.unknown.is_empty() || p.has(FindingKind::HiddenHolder),
                }
            })
            .collect();
        Look { parties, pipes }
    }

    /// `d` with the engine's pipe indexes turned into the graph's.
    fn to_graph(&self, mut d: Diagnosis) -> Diagnosis {
        let map = |on: &mut WaitOn| match on {
            WaitOn::Read { pipe, .. } | WaitOn::Write { pipe, .. } => *pipe = self.chosen[*pipe],
            WaitOn::Child { .. } => {}
        };
        for w in d.waits.iter_mut().chain(d.behind.iter_mut()) {
            map(&mut w.on);
        }
        for p in &mut d.pipes {
            p.pipe = self.chosen[p.pipe];
        }
        d
    }
}

/// The fill of `pipe`, through one of its read-only ends (never a write end: holding
/// one, even for a moment, could delay a reader's end-of-file).
fn measure(prober: &mut crate::sys::Prober, pipe: &Pipe) -> PipeFill {
    let Some(end) = pipe.readers.iter().find(|e| e.mode == Mode::Read) else {
        return PipeFill {
            fill: Err(FillMissing::NoReadEnd),
            capacity: None,
        };
    };
    let ino = match pipe.object {
        ObjectId::Inode { ino, .. } => ino,
        _ => 0,
    };
    prober.fill(
        HandleRef {
            pid: end.pid,
            handle: end.handle,
        },
        ino,
    )
}
