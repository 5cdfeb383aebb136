//! The wait-for graph: which process is blocked on which, through pipes and child exits,
//! and the findings that follow — a deadlock, a reader whose only writers are orphaned
//! background processes, a blocked end whose other side is stopped.
//!
//! Pure and OS-neutral. The caller describes one look at the system — each process as a
//! [`Party`] (what it is doing, whether its parent has gone) and each pipe as
//! [`PipeFacts`] (who holds which end, how full it is) — and [`diagnose`] returns typed
//! [`Diagnosis`] values whose sentence is one field among the evidence. A process blocked
//! for a moment is normal, so a caller looks twice, at least 100 ms apart, and keeps with
//! [`confirm`] what both looks found (checking that no bytes moved in between).
//!
//! The rules, in short:
//! - a process blocked **reading** a pipe waits for any holder of a write end (to write,
//!   or all of them to close it); one blocked **writing** waits for any holder of a read
//!   end; one blocked in **wait** for a child waits for that child. It is stuck when every
//!   process it waits for is stuck too: the stuck processes form a *knot*, found as the
//!   largest set closed under "waits only on members" ([`DiagnosisKind::Deadlock`]);
//! - a reader of an empty pipe whose every write end is held by processes whose parent
//!   has gone, none of them writing, is [`DiagnosisKind::OrphanWriter`];
//! - a blocked end whose other side is stopped, and nobody else there could move, is
//!   [`DiagnosisKind::StoppedReader`] / [`DiagnosisKind::StoppedWriter`].
//!
//! No finding rests on a guess: a process whose state is [`Activity::Unknown`], a pipe
//! with [`PipeFacts::hidden_ends`], a fill that contradicts the state (a "blocked"
//! reader of a pipe holding data) — each makes the rule that needed it not apply.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;

pub use crate::activity::{Activity, EndState};
use crate::model::{HandleRef, Pid};

/// One process as a look saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    /// Process id.
    pub pid: Pid,
    /// Short name, for messages.
    pub name: String,
    /// What it is doing.
    pub activity: Activity,
    /// Its parent has gone: it was reparented (to PID 1 or a subreaper) or left its
    /// parent's session — a background process nobody waits for. `false` when unknown.
    pub orphaned: bool,
}

/// One pipe as a look saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeFacts {
    /// Its id for messages (`pipe:[8844]`, `fifo:[0:77]`).
    pub id: String,
    /// Every handle that can read it (a read-write handle is in both lists).
    pub readers: Vec<HandleRef>,
    /// Every handle that can write it.
    pub writers: Vec<HandleRef>,
    /// Bytes queued in it, when measured.
    pub fill: Option<u64>,
    /// Bytes it can hold, when known.
    pub capacity: Option<u64>,
    /// Ends may be held where the look could not see (processes it was not allowed to
    /// inspect, descriptors in flight, another pid namespace): no finding may rest on who
    /// holds this pipe's ends.
    pub hidden_ends: bool,
}

/// One look at the system: the processes and the pipes between them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Look {
    /// The processes (holders of pipe ends, and children being waited for).
    pub parties: Vec<Party>,
    /// The pipes; a [`WaitOn`] names one by its index here.
    pub pipes: Vec<PipeFacts>,
}

/// What kind of problem a [`Diagnosis`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiagnosisKind {
    /// Processes each blocked on another of them, through pipes or child exits: none
    /// can ever move on its own.
    Deadlock,
    /// A reader waits on an empty pipe whose every write end is held by background
    /// processes whose parent has gone, none of them writing: end-of-file comes only
    /// when they exit or close it.
    OrphanWriter,
    /// A writer is blocked on a full pipe whose reader is stopped.
    StoppedReader,
    /// A reader is blocked on an empty pipe whose writer is stopped.
    StoppedWriter,
}

impl DiagnosisKind {
    /// `deadlock`, `orphan-writer`, `stopped-reader` or `stopped-writer`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosisKind::Deadlock => "deadlock",
            DiagnosisKind::OrphanWriter => "orphan-writer",
            DiagnosisKind::StoppedReader => "stopped-reader",
            DiagnosisKind::StoppedWriter => "stopped-writer",
        }
    }
}

impl fmt::Display for DiagnosisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a blocked process waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WaitOn {
    /// Blocked reading `handle`, a read end of the empty pipe `pipe` (an index into
    /// [`Look::pipes`]): it waits for a writer to write, or for every write end to close.
    Read {
        /// The handle read.
        handle: u64,
        /// The pipe, by index.
        pipe: usize,
    },
    /// Blocked writing `handle`, a write end of the full pipe `pipe`: it waits for a
    /// reader to read (or for every read end to close).
    Write {
        /// The handle written.
        handle: u64,
        /// The pipe, by index.
        pipe: usize,
    },
    /// Blocked waiting for its child `child` to exit.
    Child {
        /// The child.
        child: Pid,
    },
}

impl WaitOn {
    /// The pipe waited on, if it is a pipe.
    pub fn pipe(&self) -> Option<usize> {
        match *self {
            WaitOn::Read { pipe, .. } | WaitOn::Write { pipe, .. } => Some(pipe),
            WaitOn::Child { .. } => None,
        }
    }
}

/// A blocked process, what it waits on and who could release it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    /// The blocked process.
    pub pid: Pid,
    /// What it waits on.
    pub on: WaitOn,
    /// The processes that could release it (the other side's holders, or the child),
    /// by pid. In a deadlock's cycle the next process is among them.
    pub waits_for: Vec<Pid>,
}

/// A process a finding blames, with the ends it holds of the pipe in question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The process.
    pub pid: Pid,
    /// Its handles on the pipe.
    pub handles: Vec<u64>,
    /// What it was doing.
    pub activity: Activity,
}

/// A pipe a finding concerns, with its fill at the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeEvidence {
    /// The pipe, by index into [`Look::pipes`].
    pub pipe: usize,
    /// Its id (`pipe:[8844]`).
    pub id: String,
    /// Bytes queued, when measured.
    pub fill: Option<u64>,
    /// Capacity, when known.
    pub capacity: Option<u64>,
}

/// One finding of the wait-for graph, with its evidence; `message` is the sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// What kind.
    pub kind: DiagnosisKind,
    /// The blocked processes. For a deadlock, the cycle in order: each waits on the next
    /// (the next one's pid is in its `waits_for`), the last on the first. For the other
    /// kinds, the one blocked end.
    pub waits: Vec<Wait>,
    /// Deadlock: other processes stuck because of the cycle (they wait on it, or belong
    /// to it off the cycle listed). Empty otherwise.
    pub behind: Vec<Wait>,
    /// The processes to blame: the orphaned holders of the write ends, or the stopped
    /// processes. Empty for a deadlock (every member of the cycle is to blame).
    pub holders: Vec<Holder>,
    /// The pipes concerned, with their fill.
    pub pipes: Vec<PipeEvidence>,
    /// One paragraph for a person.
    pub message: String,
}

impl Diagnosis {
    /// Every process the finding names, sorted, each once.
    pub fn pids(&self) -> Vec<Pid> {
        let mut v: Vec<Pid> = self
            .waits
            .iter()
            .chain(&self.behind)
            .map(|w| w.pid)
            .chain(self.holders.iter().map(|h| h.pid))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether the finding concerns pipe `pipe` (an index into [`Look::pipes`]).
    pub fn concerns(&self, pipe: usize) -> bool {
        self.pipes.iter().any(|p| p.pipe == pipe)
    }

    /// What identifies the finding from one look to the next: its kind, its processes
    /// and what each waits on, its pipes.
    fn key(&self) -> Key {
        let mut waits: Vec<(Pid, WaitOn)> = self
            .waits
            .iter()
            .chain(&self.behind)
            .map(|w| (w.pid, w.on))
            .collect();
        waits.sort_unstable();
        let mut holders: Vec<Pid> = self.holders.iter().map(|h| h.pid).collect();
        holders.sort_unstable();
        let mut pipes: Vec<usize> = self.pipes.iter().map(|p| p.pipe).collect();
        pipes.sort_unstable();
        (self.kind, waits, holders, pipes)
    }
}

/// What identifies a [`Diagnosis`] across looks.
type Key = (DiagnosisKind, Vec<(Pid, WaitOn)>, Vec<Pid>, Vec<usize>);

/// Keeps the findings of the `first` look that the `second` look found again (same
/// kind, processes, waits and pipes). The caller checks that no bytes moved between the
/// looks (fills and the processes' I/O counters) before it trusts what is kept.
pub fn confirm(first: Vec<Diagnosis>, second: &[Diagnosis]) -> Vec<Diagnosis> {
    let again: BTreeSet<_> = second.iter().map(Diagnosis::key).collect();
    first
        .into_iter()
        .filter(|d| again.contains(&d.key()))
        .collect()
}

/// Every finding of one look: deadlocks first, then orphan writers, then stopped
/// readers and writers, each kind in the order of its first process.
pub fn diagnose(look: &Look) -> Vec<Diagnosis> {
    let ctx = Ctx::new(look);
    let mut out = ctx.deadlocks();
    let stuck: BTreeSet<Pid> = out.iter().flat_map(Diagnosis::pids).collect();
    out.extend(ctx.orphan_writers(&stuck));
    out.extend(ctx.stopped(&stuck));
    out
}

struct Ctx<'a> {
    look: &'a Look,
    party: HashMap<Pid, &'a Party>,
    /// The wait of every blocked process whose wait is definite.
    waits: BTreeMap<Pid, Wait>,
}

impl<'a> Ctx<'a> {
    fn new(look: &'a Look) -> Self {
        let party: HashMap<Pid, &Party> = look.parties.iter().map(|p| (p.pid, p)).collect();
        // Which pipe each (pid, handle) reads or writes.
        let mut reads: HashMap<HandleRef, usize> = HashMap::new();
        let mut writes: HashMap<HandleRef, usize> = HashMap::new();
        for (i, p) in look.pipes.iter().enumerate() {
            reads.extend(p.readers.iter().map(|r| (*r, i)));
            writes.extend(p.writers.iter().map(|w| (*w, i)));
        }
        let mut waits = BTreeMap::new();
        for p in &look.parties {
            let at = |handle: u64| HandleRef { pid: p.pid, handle };
            let wait = match p.activity {
                Activity::Reading { handle: Some(h) } => reads.get(&at(h)).and_then(|&i| {
                    let pipe = &look.pipes[i];
                    // A read blocks only on an empty pipe; data in it says the state is
                    // stale.
                    (pipe.fill.unwrap_or(0) == 0 && !pipe.hidden_ends).then(|| Wait {
                        pid: p.pid,
                        on: WaitOn::Read { handle: h, pipe: i },
                        waits_for: others(&pipe.writers, p.pid),
                    })
                }),
                Activity::Writing { handle: Some(h) } => writes.get(&at(h)).and_then(|&i| {
                    let pipe = &look.pipes[i];
                    (pipe.fill != Some(0) && !pipe.hidden_ends).then(|| Wait {
                        pid: p.pid,
                        on: WaitOn::Write { handle: h, pipe: i },
                        waits_for: others(&pipe.readers, p.pid),
                    })
                }),
                Activity::WaitingForChild { child: Some(c) } if c != p.pid => Some(Wait {
                    pid: p.pid,
                    on: WaitOn::Child { child: c },
                    waits_for: vec![c],
                }),
                _ => None,
            };
            // A process holding the other end itself may release itself (another thread):
            // its wait is not definite.
            let self_held = |w: &Wait| match w.on {
                WaitOn::Read { pipe, .. } => {
                    look.pipes[pipe].writers.iter().any(|e| e.pid == p.pid)
                }
                WaitOn::Write { pipe, .. } => {
                    look.pipes[pipe].readers.iter().any(|e| e.pid == p.pid)
                }
                WaitOn::Child { .. } => false,
            };
            if let Some(w) = wait.filter(|w| !w.waits_for.is_empty() && !self_held(w)) {
                waits.insert(p.pid, w);
            }
        }
        Ctx { look, party, waits }
    }

    fn name(&self, pid: Pid) -> String {
        match self.party.get(&pid) {
            Some(p) => format!("{pid} {}", p.name),
            None => pid.to_string(),
        }
    }

    fn evidence(&self, pipe: usize) -> PipeEvidence {
        let p = &self.look.pipes[pipe];
        PipeEvidence {
            pipe,
            id: p.id.clone(),
            fill: p.fill,
            capacity: p.capacity,
        }
    }

    /// `pipe:[8844] (fd 0; empty)`.
    fn pipe_text(&self, pipe: usize, handle: u64) -> String {
        let p = &self.look.pipes[pipe];
        format!(
            "{} ({}; {})",
            p.id,
            crate::graph::handle_label(handle),
            fill_text(p.fill, p.capacity)
        )
    }

    /// The knot: the largest set of blocked processes each waiting only on members.
    fn knot(&self) -> BTreeSet<Pid> {
        let mut set: BTreeSet<Pid> = self.waits.keys().copied().collect();
        loop {
            let free: Vec<Pid> = set
                .iter()
                .copied()
                .filter(|p| self.waits[p].waits_for.iter().any(|u| !set.contains(u)))
                .collect();
            if free.is_empty() {
                return set;
            }
            for p in free {
                set.remove(&p);
            }
        }
    }

    fn deadlocks(&self) -> Vec<Diagnosis> {
        let knot = self.knot();
        let next = |p: Pid| -> Vec<Pid> { self.waits[&p].waits_for.clone() };
        let mut placed: BTreeSet<Pid> = BTreeSet::new();
        let mut out = Vec::new();
        // One cycle per start, lowest pid first; the rest of the knot is placed behind
        // the cycle it reaches.
        for &start in &knot {
            if placed.contains(&start) {
                continue;
            }
            let Some(cycle) = shortest_cycle(start, &knot, next) else {
                continue;
            };
            if cycle.iter().any(|p| placed.contains(p)) {
                continue;
            }
            placed.extend(cycle.iter().copied());
            out.push((cycle, Vec::<Pid>::new()));
        }
        // Every other member reaches some cycle: attach it to the first one it reaches.
        for &p in &knot {
            if placed.contains(&p) {
                continue;
            }
            let mut seen = BTreeSet::from([p]);
            let mut queue = VecDeque::from([p]);
            let mut home = None;
            'bfs: while let Some(q) = queue.pop_front() {
                for n in next(q) {
                    if let Some(i) = out.iter().position(|(c, _)| c.contains(&n)) {
                        home = Some(i);
                        break 'bfs;
                    }
                    if knot.contains(&n) && seen.insert(n) {
                        queue.push_back(n);
                    }
                }
            }
            if let Some(i) = home {
                out[i].1.push(p);
            }
        }
        out.into_iter()
            .map(|(cycle, behind)| self.deadlock(&cycle, &behind))
            .collect()
    }

    fn deadlock(&self, cycle: &[Pid], behind: &[Pid]) -> Diagnosis {
        let waits: Vec<Wait> = cycle.iter().map(|p| self.waits[p].clone()).collect();
        let behind: Vec<Wait> = behind.iter().map(|p| self.waits[p].clone()).collect();
        let mut pipes: Vec<usize> = waits
            .iter()
            .chain(&behind)
            .filter_map(|w| w.on.pipe())
            .collect();
        pipes.sort_unstable();
        pipes.dedup();
        let steps: Vec<String> = waits
            .iter()
            .enumerate()
            .map(|(i, w)| self.step_text(w, cycle[(i + 1) % cycle.len()]))
            .collect();
        let mut message = format!(
            "{} processes wait on each other and none can move: {}",
            cycle.len(),
            steps.join("; ")
        );
        if !behind.is_empty() {
            let names: Vec<String> = behind.iter().map(|w| self.name(w.pid)).collect();
            message.push_str(&format!("; stuck behind them: {}", names.join(", ")));
        }
        Diagnosis {
            kind: DiagnosisKind::Deadlock,
            waits,
            behind,
            holders: Vec::new(),
            pipes: pipes.into_iter().map(|p| self.evidence(p)).collect(),
            message,
        }
    }

    /// `1 a reads pipe:[9] (fd 0; empty) and waits for 2 b to write to it or close it`.
    fn step_text(&self, w: &Wait, next: Pid) -> String {
        let who = self.name(w.pid);
        let others = |list: &[Pid]| {
            let mut v = vec![self.name(next)];
            let more = list.iter().filter(|&&p| p != next).count();
            if more > 0 {
                v.push(format!("{more} other{}", if more == 1 { "" } else { "s" }));
            }
            v.join(" and ")
        };
        match w.on {
            WaitOn::Read { handle, pipe } => format!(
                "{who} reads {} and waits for {} to write to it or close it",
                self.pipe_text(pipe, handle),
                others(&w.waits_for)
            ),
            WaitOn::Write { handle, pipe } => format!(
                "{who} writes {} and waits for {} to read it",
                self.pipe_text(pipe, handle),
                others(&w.waits_for)
            ),
            WaitOn::Child { child } => {
                format!("{who} waits for its child {} to exit", self.name(child))
            }
        }
    }

    fn holders(&self, ends: &[HandleRef], except: Pid) -> Vec<Holder> {
        let mut by_pid: BTreeMap<Pid, Vec<u64>> = BTreeMap::new();
        for e in ends.iter().filter(|e| e.pid != except) {
            by_pid.entry(e.pid).or_default().push(e.handle);
        }
        by_pid
            .into_iter()
            .map(|(pid, handles)| Holder {
                pid,
                handles,
                activity: self
                    .party
                    .get(&pid)
                    .map_or(Activity::Unknown, |p| p.activity.clone()),
            })
            .collect()
    }

    /// `1001 sleep (fd 1, asleep in nanosleep)`.
    fn holder_text(&self, h: &Holder) -> String {
        let fds: Vec<String> = h
            .handles
            .iter()
            .map(|&f| crate::graph::handle_label(f))
            .collect();
        format!(
            "{} ({}, {})",
            self.name(h.pid),
            fds.join(", "),
            h.activity.describe()
        )
    }

    fn orphan_writers(&self, stuck: &BTreeSet<Pid>) -> Vec<Diagnosis> {
        let mut out = Vec::new();
        for w in self.waits.values().filter(|w| !stuck.contains(&w.pid)) {
            let WaitOn::Read { handle, pipe } = w.on else {
                continue;
            };
            let holders = self.holders(&self.look.pipes[pipe].writers, w.pid);
            let orphaned = |h: &Holder| {
                self.party.get(&h.pid).is_some_and(|p| p.orphaned)
                    && !matches!(h.activity, Activity::Writing { .. } | Activity::Unknown)
            };
            if holders.is_empty() || !holders.iter().all(orphaned) {
                continue;
            }
            let detail: Vec<String> = holders.iter().map(|h| self.holder_text(h)).collect();
            let message = format!(
                "{} reads {} and waits for end-of-file, but every write end is held by a \
                 background process whose parent has gone: {}; end-of-file needs {}",
                self.name(w.pid),
                self.pipe_text(pipe, handle),
                detail.join(", "),
                exit_or_close(
                    &holders
                        .iter()
                        .map(|h| (self.name(h.pid), h.handles.clone()))
                        .collect::<Vec<_>>()
                ),
            );
            out.push(Diagnosis {
                kind: DiagnosisKind::OrphanWriter,
                waits: vec![w.clone()],
                behind: Vec::new(),
                holders,
                pipes: vec![self.evidence(pipe)],
                message,
            });
        }
        out
    }

    fn stopped(&self, stuck: &BTreeSet<Pid>) -> Vec<Diagnosis> {
        let mut out = Vec::new();
        for w in self.waits.values().filter(|w| !stuck.contains(&w.pid)) {
            let (kind, other_side, handle, pipe) = match w.on {
                WaitOn::Read { handle, pipe } => (
                    DiagnosisKind::StoppedWriter,
                    &self.look.pipes[pipe].writers,
                    handle,
                    pipe,
                ),
                WaitOn::Write { handle, pipe } => (
                    DiagnosisKind::StoppedReader,
                    &self.look.pipes[pipe].readers,
                    handle,
                    pipe,
                ),
                WaitOn::Child { .. } => continue,
            };
            let holders = self.holders(other_side, w.pid);
            // Someone else there could still move the pipe: not the stopped one's fault.
            let could_move = holders.iter().any(|h| {
                matches!(
                    h.activity,
                    Activity::Running
                        | Activity::Reading { .. }
                        | Activity::Writing { .. }
                        | Activity::Unknown
                )
            });
            let stopped: Vec<Holder> = holders
                .into_iter()
                .filter(|h| h.activity == Activity::Stopped)
                .collect();
            if stopped.is_empty() || could_move {
                continue;
            }
            let names = list(stopped.iter().map(|h| self.name(h.pid)).collect());
            let pids: Vec<String> = stopped.iter().map(|h| h.pid.to_string()).collect();
            let (verb, side, want) = if kind == DiagnosisKind::StoppedReader {
                ("writes", "reader", "room")
            } else {
                ("reads", "writer", "data or end-of-file")
            };
            let message = format!(
                "{} {verb} {} and waits for {want}, but its {side} {names} {} stopped \
                 (Ctrl-Z, SIGSTOP or a tracer); `kill -CONT {}` resumes {}",
                self.name(w.pid),
                self.pipe_text(pipe, handle),
                if stopped.len() == 1 { "is" } else { "are" },
                pids.join(" "),
                if stopped.len() == 1 { "it" } else { "them" },
            );
            out.push(Diagnosis {
                kind,
                waits: vec![w.clone()],
                behind: Vec::new(),
                holders: stopped,
                pipes: vec![self.evidence(pipe)],
                message,
            });
        }
        out.sort_by_key(|d| d.kind);
        out
    }
}

/// The pids holding `ends`, except `me`, sorted, each once.
fn others(ends: &[HandleRef], me: Pid) -> Vec<Pid> {
    let mut v: Vec<Pid> = ends.iter().map(|e| e.pid).filter(|&p| p != me).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The shortest cycle through `start` inside `set`, in order, starting at `start`.
fn shortest_cycle(
    start: Pid,
    set: &BTreeSet<Pid>,
    next: impl Fn(Pid) -> Vec<Pid>,
) -> Option<Vec<Pid>> {
    let mut prev: HashMap<Pid, Pid> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(p) = queue.pop_front() {
        for n in next(p) {
            if n == start {
                let mut cycle = vec![p];
                let mut cur = p;
                while cur != start {
                    cur = prev[&cur];
                    cycle.push(cur);
                }
                cycle.reverse();
                return Some(cycle);
            }
            if set.contains(&n) && !prev.contains_key(&n) {
                prev.insert(n, p);
                queue.push_back(n);
            }
        }
    }
    None
}

/// `empty`, `65536 of 65536 bytes`, `4096 bytes` or `fill unknown`.
pub fn fill_text(fill: Option<u64>, capacity: Option<u64>) -> String {
    match (fill, capacity) {
        (Some(0), _) => "empty".into(),
        (Some(f), Some(c)) if f >= c => format!("full, {f} of {c} bytes"),
        (Some(f), Some(c)) => format!("{f} of {c} bytes"),
        (Some(f), None) => format!("{f} bytes"),
        (None, _) => "fill unknown".into(),
    }
}

/// What end-of-file needs of the processes holding write ends, each given as its name
/// and its handles: `1001 sleep and 1002 sleep to exit or close fd 1` when they hold the
/// same handles, `2149 sleep (fd 4) and 2150 sleep (fd 1) to exit or close them` when not.
pub fn exit_or_close(holders: &[(String, Vec<u64>)]) -> String {
    let fds = |h: &[u64]| list(h.iter().map(|&f| crate::graph::handle_label(f)).collect());
    let same = holders.windows(2).all(|w| w[0].1 == w[1].1);
    match holders.first() {
        None => String::new(),
        Some((_, first)) if same => format!(
            "{} to exit or close {}",
            list(holders.iter().map(|(n, _)| n.clone()).collect()),
            fds(first)
        ),
        Some(_) => format!(
            "{} to exit or close them",
            list(
                holders
                    .iter()
                    .map(|(n, h)| format!("{n} ({})", fds(h)))
                    .collect()
            )
        ),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: Vec<String>) -> String {
    match items.len() {
        0 => String::new(),
        1 => items.into_iter().next().unwrap_or_default(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    /// How a handle reads in messages on this OS (`fd 4`, `handle 0x4`).
    fn fd(h: u64) -> String {
        crate::graph::handle_label(h)
    }
    use super::*;

    fn party(pid: Pid, name: &str, activity: Activity) -> Party {
        Party {
            pid,
            name: name.into(),
            activity,
            orphaned: false,
        }
    }

    fn end(pid: Pid, handle: u64) -> HandleRef {
        HandleRef { pid, handle }
    }

    fn pipe(id: u64, readers: &[(Pid, u64)], writers: &[(Pid, u64)], fill: u64) -> PipeFacts {
        PipeFacts {
            id: format!("pipe:[{id}]"),
            readers: readers.iter().map(|&(p, h)| end(p, h)).collect(),
            writers: writers.iter().map(|&(p, h)| end(p, h)).collect(),
            fill: Some(fill),
            capacity: Some(65536),
            hidden_ends: false,
        }
    }

    fn reading(h: u64) -> Activity {
        Activity::Reading { handle: Some(h) }
    }

    fn writing(h: u64) -> Activity {
        Activity::Writing { handle: Some(h) }
    }

    fn idle() -> Activity {
        Activity::Sleeping {
            reason: Some("nanosleep".into()),
        }
    }

    fn kinds(d: &[Diagnosis]) -> Vec<(DiagnosisKind, Vec<Pid>)> {
        d.iter().map(|d| (d.kind, d.pids())).collect()
    }

    fn cycle(d: &Diagnosis) -> Vec<(Pid, WaitOn)> {
        d.waits.iter().map(|w| (w.pid, w.on)).collect()
    }

    /// Python's `Popen(['cat'], stdin=PIPE, stdout=PIPE)`, write everything, never read:
    /// both pipes full, both processes blocked writing.
    #[test]
    fn write_write_cycle_is_a_deadlock_in_order() {
        let look = Look {
            parties: vec![
                party(10, "python3", writing(4)),
                party(11, "cat", writing(1)),
            ],
            pipes: vec![
                pipe(100, &[(11, 0)], &[(10, 4)], 65536),
                pipe(200, &[(10, 5)], &[(11, 1)], 65536),
            ],
        };
        let d = diagnose(&look);
        assert_eq!(kinds(&d), vec![(DiagnosisKind::Deadlock, vec![10, 11])]);
        assert_eq!(
            cycle(&d[0]),
            vec![
                (10, WaitOn::Write { handle: 4, pipe: 0 }),
                (11, WaitOn::Write { handle: 1, pipe: 1 })
            ]
        );
        assert_eq!(d[0].pipes.len(), 2);
        assert_eq!(d[0].pipes[0].fill, Some(65536));
        let m = &d[0].message;
        assert!(
            m.contains(&format!("10 python3 writes pipe:[100] ({}; full, 65536 of 65536 bytes) and waits for 11 cat to read it", fd(4))),
            "{m}"
        );
        assert!(
            m.contains(&format!("11 cat writes pipe:[200] ({}; full", fd(1))),
            "{m}"
        );
    }

    #[test]
    fn read_read_cycle_through_fifos_is_a_deadlock() {
        let mut a = pipe(1, &[(20, 3)], &[(21, 4)], 0);
        a.id = "fifo:[0:1]".into();
        let mut b = pipe(2, &[(21, 3)], &[(20, 4)], 0);
        b.id = "fifo:[0:2]".into();
        let look = Look {
            parties: vec![party(20, "x", reading(3)), party(21, "y", reading(3))],
            pipes: vec![a, b],
        };
        let d = diagnose(&look);
        assert_eq!(kinds(&d), vec![(DiagnosisKind::Deadlock, vec![20, 21])]);
        assert!(
            d[0].message.contains(&format!(
                "20 x reads fifo:[0:1] ({}; empty) and waits for 21 y to write to it or close it",
                fd(3)
            )),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn mixed_cycle_of_three() {
        // 1 writes full A read by 2; 2 reads empty B written by 3; 3 reads empty C
        // written by 1.
        let look = Look {
            parties: vec![
                party(1, "a", writing(1)),
                party(2, "b", reading(5)),
                party(3, "c", reading(0)),
            ],
            pipes: vec![
                pipe(10, &[(2, 0)], &[(1, 1)], 65536),
                pipe(11, &[(2, 5)], &[(3, 1)], 0),
                pipe(12, &[(3, 0)], &[(1, 7)], 0),
            ],
        };
        let d = diagnose(&look);
        assert_eq!(kinds(&d), vec![(DiagnosisKind::Deadlock, vec![1, 2, 3])]);
        let order: Vec<Pid> = d[0].waits.iter().map(|w| w.pid).collect();
        assert_eq!(order, vec![1, 2, 3]);
    }

    /// The `Popen.wait()` warning: the parent waits for the child to exit before reading
    /// its stdout; the child blocks writing the full pipe.
    #[test]
    fn a_parent_waiting_for_its_blocked_child_is_a_deadlock() {
        let look = Look {
            parties: vec![
                party(30, "python3", Activity::WaitingForChild { child: Some(31) }),
                party(31, "head", writing(1)),
            ],
            pipes: vec![pipe(300, &[(30, 3)], &[(31, 1)], 65536)],
        };
        let d = diagnose(&look);
        assert_eq!(kinds(&d), vec![(DiagnosisKind::Deadlock, vec![30, 31])]);
        assert_eq!(d[0].waits[0].on, WaitOn::Child { child: 31 });
        assert!(
            d[0].message.contains(
                "30 python3 waits for its child 31 head to exit; 31 head writes pipe:[300]"
            ),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn a_process_waiting_on_a_deadlock_is_behind_it() {
        let look = Look {
            parties: vec![
                party(1, "a", writing(1)),
                party(2, "b", writing(1)),
                party(3, "tail", reading(0)),
            ],
            pipes: vec![
                pipe(10, &[(2, 0)], &[(1, 1)], 65536),
                pipe(11, &[(1, 0)], &[(2, 1)], 65536),
                // 3 reads what only 1 could write.
                pipe(12, &[(3, 0)], &[(1, 9)], 0),
            ],
        };
        let d = diagnose(&look);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].waits.len(), 2);
        assert_eq!(
            d[0].behind.iter().map(|w| w.pid).collect::<Vec<_>>(),
            vec![3]
        );
        assert!(d[0].message.contains("stuck behind them: 3 tail"));
        assert!(d[0].concerns(2));
    }

    #[test]
    fn anyone_free_to_move_breaks_the_knot() {
        let pipes = vec![
            pipe(10, &[(2, 0)], &[(1, 1)], 65536),
            pipe(11, &[(1, 0)], &[(2, 1), (3, 1)], 0),
        ];
        // 1 writes full 10 (read by 2), 2 writes... no: 2 is idle, so 1 waits on a
        // process that may read.
        for other in [
            idle(),
            Activity::Running,
            Activity::Unknown,
            Activity::Stopped,
        ] {
            let look = Look {
                parties: vec![party(1, "a", writing(1)), party(2, "b", other.clone())],
                pipes: pipes.clone(),
            };
            assert!(
                !diagnose(&look)
                    .iter()
                    .any(|d| d.kind == DiagnosisKind::Deadlock),
                "{other:?}"
            );
        }
        // Two writers of the pipe 1 reads: 3 is not blocked, so 1 may still get data.
        let look = Look {
            parties: vec![
                party(1, "a", reading(0)),
                party(2, "b", writing(1)),
                party(3, "c", idle()),
            ],
            pipes: vec![
                pipe(10, &[(2, 5)], &[(1, 1)], 0),
                pipe(11, &[(1, 0)], &[(2, 1), (3, 1)], 0),
            ],
        };
        assert!(diagnose(&look).is_empty());
    }

    #[test]
    fn no_finding_rests_on_a_guess() {
        let base = Look {
            parties: vec![party(10, "a", writing(4)), party(11, "b", writing(1))],
            pipes: vec![
                pipe(100, &[(11, 0)], &[(10, 4)], 65536),
                pipe(200, &[(10, 5)], &[(11, 1)], 65536),
            ],
        };
        assert_eq!(diagnose(&base).len(), 1);
        // Ends held where we could not look.
        let mut hidden = base.clone();
        hidden.pipes[1].hidden_ends = true;
        assert!(diagnose(&hidden).is_empty());
        // A fill of 0 contradicts a blocked write: the state is stale.
        let mut stale = base.clone();
        stale.pipes[0].fill = Some(0);
        assert!(diagnose(&stale).is_empty());
        // An unknown fill is no contradiction: the blocked state says it all.
        let mut unknown = base.clone();
        unknown.pipes[0].fill = None;
        assert_eq!(diagnose(&unknown).len(), 1);
        assert!(diagnose(&unknown)[0].message.contains("fill unknown"));
        // A handle the OS did not name.
        let mut unnamed = base.clone();
        unnamed.parties[0].activity = Activity::Writing { handle: None };
        assert!(diagnose(&unnamed).is_empty());
        // A process that holds the other end itself may release itself (a thread).
        let mut own = base;
        own.pipes[0].readers.push(end(10, 9));
        assert!(diagnose(&own).is_empty());
    }

    #[test]
    fn reader_of_data_is_not_blocked() {
        let look = Look {
            parties: vec![party(1, "a", reading(0)), party(2, "b", reading(0))],
            pipes: vec![
                pipe(10, &[(1, 0)], &[(2, 1)], 12),
                pipe(11, &[(2, 0)], &[(1, 1)], 0),
            ],
        };
        assert!(diagnose(&look).is_empty());
    }

    /// `bash -c 'sleep 1001 & exec sleep 0.3' | cat`, once the first sleep is gone.
    #[test]
    fn orphaned_writers_are_named_with_what_eof_needs() {
        let mut stray = party(1001, "sleep", idle());
        stray.orphaned = true;
        let mut stray2 = party(1002, "sleep", idle());
        stray2.orphaned = true;
        let look = Look {
            parties: vec![stray, stray2, party(1003, "cat", reading(0))],
            pipes: vec![pipe(500, &[(1003, 0)], &[(1001, 1), (1002, 1)], 0)],
        };
        let d = diagnose(&look);
        assert_eq!(
            kinds(&d),
            vec![(DiagnosisKind::OrphanWriter, vec![1001, 1002, 1003])]
        );
        assert_eq!(d[0].holders.len(), 2);
        assert_eq!(d[0].holders[0].handles, vec![1]);
        let m = &d[0].message;
        assert!(
            m.starts_with(&format!("1003 cat reads pipe:[500] ({}; empty)", fd(0))),
            "{m}"
        );
        assert!(
            m.contains(&format!(
                "end-of-file needs 1001 sleep and 1002 sleep to exit or close {}",
                fd(1)
            )),
            "{m}"
        );
        assert!(
            m.contains(&format!("1001 sleep ({}, asleep in nanosleep)", fd(1))),
            "{m}"
        );
    }

    #[test]
    fn a_writer_with_its_parent_alive_is_no_orphan() {
        // `sleep 1000 | cat`: an idle writer where it should be.
        let look = Look {
            parties: vec![party(1, "sleep", idle()), party(2, "cat", reading(0))],
            pipes: vec![pipe(5, &[(2, 0)], &[(1, 1)], 0)],
        };
        assert!(diagnose(&look).is_empty());
        // One orphan among live writers: the live one may still write.
        let mut o = party(3, "daemon", idle());
        o.orphaned = true;
        let look = Look {
            parties: vec![party(1, "sleep", idle()), party(2, "cat", reading(0)), o],
            pipes: vec![pipe(5, &[(2, 0)], &[(1, 1), (3, 7)], 0)],
        };
        assert!(diagnose(&look).is_empty());
        // An orphan whose state is unknown may be writing.
        let mut o = party(3, "daemon", Activity::Unknown);
        o.orphaned = true;
        let look = Look {
            parties: vec![party(2, "cat", reading(0)), o],
            pipes: vec![pipe(5, &[(2, 0)], &[(3, 7)], 0)],
        };
        assert!(diagnose(&look).is_empty());
    }

    #[test]
    fn stopped_reader_and_stopped_writer() {
        // `yes | less`, less stopped with Ctrl-Z.
        let look = Look {
            parties: vec![
                party(1, "yes", writing(1)),
                party(2, "less", Activity::Stopped),
            ],
            pipes: vec![pipe(7, &[(2, 0)], &[(1, 1)], 65536)],
        };
        let d = diagnose(&look);
        assert_eq!(kinds(&d), vec![(DiagnosisKind::StoppedReader, vec![1, 2])]);
        assert_eq!(d[0].holders[0].pid, 2);
        assert!(
            d[0].message.contains("its reader 2 less is stopped"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("kill -CONT 2"));
        // A stopped writer behind a blocked reader.
        let look = Look {
            parties: vec![
                party(1, "tail", Activity::Stopped),
                party(2, "grep", reading(0)),
            ],
            pipes: vec![pipe(7, &[(2, 0)], &[(1, 1)], 0)],
        };
        let d = diagnose(&look);
        assert_eq!(kinds(&d), vec![(DiagnosisKind::StoppedWriter, vec![1, 2])]);
        // A running writer beside the stopped one may still write.
        let look = Look {
            parties: vec![
                party(1, "tail", Activity::Stopped),
                party(2, "grep", reading(0)),
                party(3, "yes", Activity::Running),
            ],
            pipes: vec![pipe(7, &[(2, 0)], &[(1, 1), (3, 1)], 0)],
        };
        assert!(diagnose(&look).is_empty());
    }

    #[test]
    fn idle_and_busy_pipelines_are_quiet() {
        // sleep 1000 | cat | sleep 1000, and yes | gzip.
        let look = Look {
            parties: vec![
                party(1, "sleep", idle()),
                party(2, "cat", reading(0)),
                party(3, "sleep", idle()),
                party(4, "yes", writing(1)),
                party(5, "gzip", Activity::Running),
                party(6, "sh", Activity::WaitingForChild { child: None }),
            ],
            pipes: vec![
                pipe(1, &[(2, 0)], &[(1, 1)], 0),
                pipe(2, &[(3, 0)], &[(2, 1)], 0),
                pipe(3, &[(5, 0)], &[(4, 1)], 65536),
            ],
        };
        assert!(diagnose(&look).is_empty());
    }

    #[test]
    fn confirm_keeps_what_both_looks_found() {
        let blocked = Look {
            parties: vec![
                party(1, "yes", writing(1)),
                party(2, "less", Activity::Stopped),
            ],
            pipes: vec![pipe(7, &[(2, 0)], &[(1, 1)], 65536)],
        };
        let first = diagnose(&blocked);
        assert_eq!(confirm(first.clone(), &diagnose(&blocked)), first);
        let mut resumed = blocked.clone();
        resumed.parties[1].activity = Activity::Running;
        assert!(confirm(first, &diagnose(&resumed)).is_empty());
    }

    #[test]
    fn end_states_follow_the_handle() {
        assert_eq!(reading(0).at_end(0), EndState::Reading);
        assert_eq!(reading(0).at_end(3), EndState::Idle);
        assert_eq!(writing(1).at_end(1), EndState::Writing);
        assert_eq!(
            Activity::Reading { handle: None }.at_end(0),
            EndState::Unknown
        );
        assert_eq!(idle().at_end(1), EndState::Idle);
        assert_eq!(Activity::Stopped.at_end(1).as_str(), "stopped");
        assert_eq!(
            Activity::WaitingForChild { child: Some(3) }.describe(),
            "waiting for child 3"
        );
    }

    #[test]
    fn what_end_of_file_needs() {
        let h = |n: &str, fds: &[u64]| (n.to_string(), fds.to_vec());
        assert_eq!(
            exit_or_close(&[h("1001 sleep", &[1]), h("1002 sleep", &[1])]),
            format!("1001 sleep and 1002 sleep to exit or close {}", fd(1))
        );
        assert_eq!(
            exit_or_close(&[h("7 a", &[4]), h("8 b", &[1])]),
            format!("7 a ({}) and 8 b ({}) to exit or close them", fd(4), fd(1))
        );
        assert_eq!(
            exit_or_close(&[h("7 a", &[1, 9])]),
            format!("7 a to exit or close {} and {}", fd(1), fd(9))
        );
    }

    #[test]
    fn fills_read_well() {
        assert_eq!(fill_text(Some(0), Some(65536)), "empty");
        assert_eq!(
            fill_text(Some(65536), Some(65536)),
            "full, 65536 of 65536 bytes"
        );
        assert_eq!(fill_text(Some(10), Some(65536)), "10 of 65536 bytes");
        assert_eq!(fill_text(None, None), "fill unknown");
    }

    proptest::proptest! {
        /// Whatever the look, every process a deadlock names is blocked on a pipe or a
        /// child, and everything it waits for is named by the same deadlock.
        #[test]
        fn deadlocks_are_closed(
            acts in proptest::collection::vec(0u8..6, 1..7),
            ends in proptest::collection::vec((0usize..7, 0usize..4, proptest::bool::ANY), 0..16),
            fills in proptest::collection::vec(0u64..3, 4),
        ) {
            let n = acts.len();
            let mut pipes: Vec<PipeFacts> = (0..4).map(|i| pipe(i as u64, &[], &[], fills[i] * 100)).collect();
            for &(p, i, w) in &ends {
                let r = end((p % n) as Pid, i as u64);
                if w { pipes[i].writers.push(r) } else { pipes[i].readers.push(r) }
            }
            let parties: Vec<Party> = acts.iter().enumerate().map(|(i, a)| {
                let act = match a {
                    0 => reading((i % 4) as u64),
                    1 => writing((i % 4) as u64),
                    2 => Activity::WaitingForChild { child: Some(((i + 1) % n) as Pid) },
                    3 => Activity::Stopped,
                    4 => Activity::Running,
                    _ => idle(),
                };
                party(i as Pid, "p", act)
            }).collect();
            let look = Look { parties, pipes };
            for d in diagnose(&look).iter().filter(|d| d.kind == DiagnosisKind::Deadlock) {
                let named = d.pids();
                for w in d.waits.iter().chain(&d.behind) {
                    for u in &w.waits_for {
                        proptest::prop_assert!(named.contains(u));
                    }
                }
                for (i, w) in d.waits.iter().enumerate() {
                    let next = d.waits[(i + 1) % d.waits.len()].pid;
                    proptest::prop_assert!(w.waits_for.contains(&next));
                }
            }
        }
    }
}
