//! The shape of a pipeline: which processes are its stages, in what order, and which
//! pipes join them — found from the pipe ends each process holds, at any handle.
//!
//! Pure functions over what a backend discovered ([`ProcEnds`]): [`connected`] walks the
//! pipe graph from the processes a user named, [`assemble`] folds helper processes into
//! their stage and orders the stages along the pipes, and [`Pipeline::place`] puts the
//! stages of a pipeline `run` started in the places its text gives them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::{HandleRef, Mode, Pid};

/// A pipe end a process holds: which pipe, at which handle, which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PipeEnd {
    /// The pipe's identity: equal for both ends of one pipe and for every handle to it
    /// (Linux: the pipe's inode; another system: whatever number its backend gives the
    /// pipe object).
    pub pipe: u64,
    /// The handle (fd) holding it.
    pub handle: u64,
    /// Which way the handle may move data. Only a [`Mode::Read`] end is ever duplicated
    /// to measure the fill: a held write end would delay the reader's end of file.
    pub mode: Mode,
    /// Whether the handle is the process's standard error. Such an end joins no process
    /// to a pipeline by itself: a session's processes often share one stderr pipe to a
    /// log, which is no part of the pipeline's data flow.
    pub stderr: bool,
}

impl PipeEnd {
    /// Whether the holder can read the pipe through it.
    pub fn reads(&self) -> bool {
        self.mode.reads()
    }

    /// Whether the holder can write the pipe through it.
    pub fn writes(&self) -> bool {
        self.mode.writes()
    }
}

/// A process as discovery sees it: its parent, its command line and every pipe end it
/// holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcEnds {
    /// Process id.
    pub pid: Pid,
    /// Parent process id, when known.
    pub ppid: Option<Pid>,
    /// Its session (Linux `setsid`; a Windows session), when known: a pipeline lives
    /// in one, and [`connected`] does not leave it.
    pub session: Option<Pid>,
    /// The command line, words joined by spaces (or the short name when it has none).
    pub command: String,
    /// Every pipe end it holds, in handle order.
    pub ends: Vec<PipeEnd>,
}

/// One stage of a pipeline: a process (with any helpers it forked that hold the same
/// pipes), or — for a pipeline `run` started — a place in the pipeline's text whose
/// process was not seen (not started yet, or gone before the first look).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Process id; `None` for a stage never seen.
    pub pid: Option<Pid>,
    /// What the stage runs: its text in the pipeline when known, else its command line.
    pub command: String,
    /// Every pipe end it holds (none for a stage never seen).
    pub ends: Vec<PipeEnd>,
}

impl Stage {
    /// The pipes it reads, through any handle.
    pub fn reads(&self) -> impl Iterator<Item = u64> + '_ {
        self.ends.iter().filter(|e| e.reads()).map(|e| e.pipe)
    }

    /// The pipes it writes, through any handle.
    pub fn writes(&self) -> impl Iterator<Item = u64> + '_ {
        self.ends.iter().filter(|e| e.writes()).map(|e| e.pipe)
    }
}

/// A pipe between stages: every stage that writes it, every stage that reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipe {
    /// The pipe's identity (see [`PipeEnd::pipe`]).
    pub id: u64,
    /// Indexes of the stages writing it, ascending; never empty.
    pub writers: Vec<usize>,
    /// Indexes of the stages reading it, ascending; never empty.
    pub readers: Vec<usize>,
    /// The read end a sampler may duplicate to measure the fill: a read-only end held
    /// by one of the readers; `None` when they hold none.
    pub read_end: Option<HandleRef>,
    /// Whether processes that are not stages hold ends of it too (a helper folded into
    /// its stage, a subshell wrapping stages): what they do is not sampled, so no
    /// finding may rest on who holds this pipe.
    pub others: bool,
}

impl Pipe {
    /// The first stage writing it.
    pub fn writer(&self) -> usize {
        self.writers[0]
    }

    /// The first stage reading it.
    pub fn reader(&self) -> usize {
        self.readers[0]
    }
}

/// The stages of a pipeline in order, and the pipes between them.
///
/// A pipeline is a graph: a stage may read and write several pipes through any handles,
/// and pipes may join any two stages, back to an earlier one too (a parent writing its
/// child's input and reading its output). Stages are ordered along the pipes, sources
/// first; a cycle starts at its lowest pid. A shell pipeline is the simple case: stage
/// *i* writes the pipe stage *i + 1* reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// Stages, first (the source) to last (the sink).
    pub stages: Vec<Stage>,
    /// Pipes between stages, ordered by their first writer, then first reader.
    pub pipes: Vec<Pipe>,
}

impl Pipeline {
    /// The pipes stage `i` reads.
    pub fn inputs_of(&self, i: usize) -> impl Iterator<Item = &Pipe> + '_ {
        self.pipes.iter().filter(move |p| p.readers.contains(&i))
    }

    /// The pipes stage `i` writes.
    pub fn outputs_of(&self, i: usize) -> impl Iterator<Item = &Pipe> + '_ {
        self.pipes.iter().filter(move |p| p.writers.contains(&i))
    }

    /// The first pipe stage `i` reads, if any.
    pub fn input_of(&self, i: usize) -> Option<&Pipe> {
        self.inputs_of(i).next()
    }

    /// The first pipe stage `i` writes, if any.
    pub fn output_of(&self, i: usize) -> Option<&Pipe> {
        self.outputs_of(i).next()
    }

    /// Whether this is a simple chain: every pipe joins one stage to the next.
    pub fn is_linear(&self) -> bool {
        self.pipes
            .iter()
            .all(|p| p.writers.len() == 1 && p.readers.len() == 1 && p.reader() == p.writer() + 1)
    }

    /// A pipeline of `labels.len()` stages none of which has been seen yet.
    pub fn unseen(labels: &[String]) -> Pipeline {
        Pipeline {
            stages: labels
                .iter()
                .map(|l| Stage {
                    pid: None,
                    command: l.clone(),
                    ends: Vec::new(),
                })
                .collect(),
            pipes: Vec::new(),
        }
    }

    /// Puts the stages seen in the places the pipeline's text gives them (`labels[i]` is
    /// the text of stage `i`, from [`split_pipeline`](super::split_pipeline)) and names
    /// them by it; places whose process was not seen stay, as stages without a pid.
    ///
    /// The order of the stages seen is kept; a stage reading a pipe no stage seen
    /// writes had a writer before it, and one writing a pipe no stage seen reads has a
    /// reader after it (`outer` lists the pipes from outside the pipeline, such as the
    /// shell's own stdin and stdout, which prove nothing); stages joined by a pipe are
    /// neighbours. Among the placements that fit, the one whose commands best match
    /// the text wins (`shell` is the shell's command line: a stage that is a forked copy
    /// of the shell runs a compound command, `while …`, `{ …; }`). With more stages seen
    /// than places, nothing is placed or renamed.
    pub fn place(&mut self, labels: &[String], outer: &BTreeSet<u64>, shell: Option<&str>) {
        let seen: Vec<Stage> = self
            .stages
            .iter()
            .filter(|s| s.pid.is_some())
            .cloned()
            .collect();
        let (k, n) = (seen.len(), labels.len());
        if n == 0 || k > n {
            return;
        }
        let Some(slots) = placement(&seen, labels, outer, shell) else {
            return;
        };
        let mut stages = Pipeline::unseen(labels).stages;
        for (s, slot) in seen.into_iter().zip(slots) {
            stages[slot] = Stage {
                command: labels[slot].clone(),
                ..s
            };
        }
        let mut pipes = join(&stages);
        for p in &mut pipes {
            p.others = self.pipes.iter().any(|q| q.id == p.id && q.others);
        }
        infer_unseen_ends(&stages, outer, &mut pipes);
        pipes.sort_by_key(|p| (p.writer(), p.reader(), p.id));
        *self = Pipeline { stages, pipes };
    }
}

/// Pipe roles of a set of ends: (pipe, reads, writes), each once.
fn roles(ends: &[PipeEnd]) -> BTreeSet<(u64, bool, bool)> {
    let mut by_pipe: BTreeMap<u64, (bool, bool)> = BTreeMap::new();
    for e in ends.iter().filter(|e| !e.stderr) {
        let r = by_pipe.entry(e.pipe).or_default();
        r.0 |= e.reads();
        r.1 |= e.writes();
    }
    by_pipe.into_iter().map(|(p, (r, w))| (p, r, w)).collect()
}

/// Orders processes into a pipeline by the pipes they hold.
///
/// A process whose nearest ancestor among `procs` holds the very same pipes the same
/// way is part of that ancestor's stage (a subshell's children, `sleep` in a `while`
/// loop), not a stage of its own. A process that only wraps stages below it (a subshell
/// running `(a | b) > f`) is no stage. Stages are ordered along the pipes: sources
/// first, each followed by the stages it feeds, lowest pid first among equals; a cycle
/// is entered at its lowest pid.
pub fn assemble(procs: &[ProcEnds]) -> Pipeline {
    let by_pid: HashMap<Pid, &ProcEnds> = procs.iter().map(|p| (p.pid, p)).collect();
    let role: HashMap<Pid, BTreeSet<(u64, bool, bool)>> =
        procs.iter().map(|p| (p.pid, roles(&p.ends))).collect();
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
            if role[&parent.pid] == role[&p.pid] {
                return true;
            }
            cur = parent.ppid;
        }
        false
    };
    let own: Vec<&ProcEnds> = procs.iter().filter(|p| !absorbed(p)).collect();
    // A wrapper — a subshell running `(a | b) > f` or `{ a | b; } | c` — has stages of
    // its own below it and no pipe role they do not already fill: no pipe it reads that
    // none of them reads, no pipe it writes (that someone reads) none of them writes.
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
    let read_by = |pipe: u64, who: &[&&ProcEnds]| {
        who.iter()
            .any(|d| role[&d.pid].iter().any(|&(p, r, _)| p == pipe && r))
    };
    let written_by = |pipe: u64, who: &[&&ProcEnds]| {
        who.iter()
            .any(|d| role[&d.pid].iter().any(|&(p, _, w)| p == pipe && w))
    };
    let everyone: Vec<&&ProcEnds> = own.iter().collect();
    let wrapper = |c: &ProcEnds| {
        let inner: Vec<&&ProcEnds> = own.iter().filter(|d| below(c.pid, d)).collect();
        if inner.is_empty() {
            return false;
        }
        role[&c.pid].iter().all(|&(pipe, r, w)| {
            (!r || read_by(pipe, &inner))
                && (!w || !read_by(pipe, &everyone) || written_by(pipe, &inner))
        })
    };
    let mut chosen: Vec<&ProcEnds> = own.iter().copied().filter(|p| !wrapper(p)).collect();
    chosen.sort_by_key(|p| p.pid);
    let stages: Vec<Stage> = chosen
        .iter()
        .map(|p| Stage {
            pid: Some(p.pid),
            command: p.command.clone(),
            ends: p.ends.clone(),
        })
        .collect();
    let order = order(&stages);
    let stages: Vec<Stage> = order.into_iter().map(|i| stages[i].clone()).collect();
    let mut pipes = join(&stages);
    let stage_pids: BTreeSet<Pid> = stages.iter().filter_map(|s| s.pid).collect();
    for p in &mut pipes {
        p.others = procs
            .iter()
            .filter(|q| !stage_pids.contains(&q.pid))
            .any(|q| q.ends.iter().any(|e| e.pipe == p.id));
    }
    pipes.sort_by_key(|p| (p.writer(), p.reader(), p.id));
    Pipeline { stages, pipes }
}

/// The pipes between `stages`: each pipe some stage writes and another reads (a pipe
/// only one stage holds both ends of joins nothing). Ends held as stderr count: they
/// carry data between stages like any other (`2>&1 |`, a child's stderr read by its
/// parent).
fn join(stages: &[Stage]) -> Vec<Pipe> {
    let mut writers: BTreeMap<u64, BTreeSet<usize>> = BTreeMap::new();
    let mut readers: BTreeMap<u64, BTreeSet<usize>> = BTreeMap::new();
    for (i, s) in stages.iter().enumerate() {
        for p in s.writes() {
            writers.entry(p).or_default().insert(i);
        }
        for p in s.reads() {
            readers.entry(p).or_default().insert(i);
        }
    }
    writers
        .into_iter()
        .filter_map(|(id, w)| {
            let r = readers.get(&id)?;
            if w.len() == 1 && *r == w {
                return None;
            }
            let readers: Vec<usize> = r.iter().copied().collect();
            Some(Pipe {
                id,
                writers: w.into_iter().collect(),
                read_end: read_end(stages, &readers, id),
                readers,
                others: false,
            })
        })
        .collect()
}

/// A read-only end of pipe `id` held by one of `readers`.
fn read_end(stages: &[Stage], readers: &[usize], id: u64) -> Option<HandleRef> {
    readers.iter().find_map(|&i| {
        let s = &stages[i];
        let e = s
            .ends
            .iter()
            .find(|e| e.pipe == id && e.mode == Mode::Read)?;
        Some(HandleRef {
            pid: s.pid?,
            handle: e.handle,
        })
    })
}

/// Adds the pipes between a stage seen and an unseen neighbour: a pipe the stage at
/// place `j` reads that no stage writes was written by stage `j - 1`, when that one was
/// not seen; likewise for a pipe it writes that no stage reads.
fn infer_unseen_ends(stages: &[Stage], outer: &BTreeSet<u64>, pipes: &mut Vec<Pipe>) {
    let joined: BTreeSet<u64> = pipes.iter().map(|p| p.id).collect();
    let unseen = |j: usize| stages.get(j).is_some_and(|s| s.pid.is_none());
    let mut add = |id: u64, writer: usize, reader: usize| {
        if joined.contains(&id) || outer.contains(&id) || pipes.iter().any(|p| p.id == id) {
            return;
        }
        pipes.push(Pipe {
            id,
            writers: vec![writer],
            readers: vec![reader],
            read_end: read_end(stages, &[reader], id),
            // An unseen stage held it: what it does is not known.
            others: true,
        });
    };
    for (j, s) in stages.iter().enumerate() {
        let free = |e: &&PipeEnd| !(e.stderr || e.mode == Mode::ReadWrite);
        for e in s.ends.iter().filter(free) {
            if e.reads() && j > 0 && unseen(j - 1) {
                add(e.pipe, j - 1, j);
            }
            if e.writes() && unseen(j + 1) {
                add(e.pipe, j, j + 1);
            }
        }
    }
}

/// The order of `stages` along the pipes (see [`assemble`]), as indexes into it; the
/// stages come in ascending pid order.
fn order(stages: &[Stage]) -> Vec<usize> {
    let n = stages.len();
    let mut writers_of: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, s) in stages.iter().enumerate() {
        for p in s.writes() {
            writers_of.entry(p).or_default().push(i);
        }
    }
    // Who feeds whom, through any pipe (not a stage feeding itself).
    let mut preds: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    let mut succs: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (i, s) in stages.iter().enumerate() {
        for p in s.reads() {
            for &w in writers_of.get(&p).into_iter().flatten() {
                if w != i {
                    preds[i].insert(w);
                    succs[w].insert(i);
                }
            }
        }
    }
    let mut placed = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let ready = |i: usize, placed: &[bool]| !placed[i] && preds[i].iter().all(|&p| placed[p]);
        let start = (0..n)
            .find(|&i| ready(i, &placed))
            .or_else(|| (0..n).find(|&i| !placed[i]))
            .unwrap_or(0);
        // Depth first: a stage, then what it feeds once all its feeders are placed.
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if placed[i] {
                continue;
            }
            placed[i] = true;
            out.push(i);
            for &s in succs[i].iter().rev() {
                if ready(s, &placed) {
                    stack.push(s);
                }
            }
        }
    }
    out
}

/// Where each of the `seen` stages (in order) goes among `labels.len()` places; `None`
/// when they cannot be placed in order.
fn placement(
    seen: &[Stage],
    labels: &[String],
    outer: &BTreeSet<u64>,
    shell: Option<&str>,
) -> Option<Vec<usize>> {
    let (k, n) = (seen.len(), labels.len());
    if k == 0 {
        return Some(Vec::new());
    }
    let inner = |e: &&PipeEnd| !e.stderr && !outer.contains(&e.pipe);
    let reads = |s: &Stage| -> BTreeSet<u64> {
        s.ends
            .iter()
            .filter(inner)
            .filter(|e| e.reads())
            .map(|e| e.pipe)
            .collect()
    };
    let writes = |s: &Stage| -> BTreeSet<u64> {
        s.ends
            .iter()
            .filter(inner)
            .filter(|e| e.writes())
            .map(|e| e.pipe)
            .collect()
    };
    let (r, w): (Vec<_>, Vec<_>) = seen.iter().map(|s| (reads(s), writes(s))).unzip();
    let all_w: BTreeSet<u64> = w.iter().flatten().copied().collect();
    let all_r: BTreeSet<u64> = r.iter().flatten().copied().collect();
    let joined: Vec<bool> = (1..k).map(|i| !w[i - 1].is_disjoint(&r[i])).collect();
    let gap_before: Vec<bool> = (0..k)
        .map(|i| r[i].iter().any(|p| !all_w.contains(p) && !w[i].contains(p)))
        .collect();
    let gap_after: Vec<bool> = (0..k)
        .map(|i| w[i].iter().any(|p| !all_r.contains(p) && !r[i].contains(p)))
        .collect();
    let score = |i: usize, j: usize| label_match(&seen[i], &labels[j], shell);
    for strict in [true, false] {
        // best[i][j]: the best score placing stages 0..=i with stage i at place j, and
        // where stage i - 1 went.
        let mut best: Vec<Vec<Option<(u32, usize)>>> = vec![vec![None; n]; k];
        for (j, cell) in best[0].iter_mut().enumerate().take(n - k + 1) {
            if !(strict && gap_before[0] && j == 0) {
                *cell = Some((score(0, j), 0));
            }
        }
        for i in 1..k {
            for j in i..=(n - k + i) {
                let mut pick: Option<(u32, usize)> = None;
                let earlier = best[i - 1].iter().enumerate().take(j).skip(i - 1);
                for (jp, &cell) in earlier {
                    let Some((s, _)) = cell else {
                        continue;
                    };
                    let fits = if joined[i - 1] {
                        j == jp + 1
                    } else {
                        !strict || !(gap_after[i - 1] || gap_before[i]) || j >= jp + 2
                    };
                    if fits && pick.is_none_or(|(b, _)| s > b) {
                        pick = Some((s, jp));
                    }
                }
                best[i][j] = pick.map(|(s, jp)| (s + score(i, j), jp));
            }
        }
        let last = (0..n)
            .filter(|&j| !(strict && gap_after[k - 1] && j + 1 == n))
            .filter_map(|j| best[k - 1][j].map(|(s, _)| (s, j)))
            .fold(None, |acc: Option<(u32, usize)>, (s, j)| match acc {
                Some((b, _)) if b >= s => acc,
                _ => Some((s, j)),
            });
        let Some((_, mut j)) = last else {
            continue;
        };
        let mut slots = vec![0; k];
        for i in (0..k).rev() {
            slots[i] = j;
            j = best[i][j].map_or(0, |(_, jp)| jp);
        }
        return Some(slots);
    }
    None
}

/// How well a stage's process fits a piece of pipeline text: 2 when the text's command
/// is the program the process runs, 1 when the process is a forked copy of the shell and
/// the text a compound command, else 0.
fn label_match(stage: &Stage, label: &str, shell: Option<&str>) -> u32 {
    let program = |word: &str| word.rsplit('/').next().unwrap_or(word).to_string();
    let words: Vec<&str> = label
        .split_whitespace()
        .skip_while(|w| {
            // Assignments and wrappers that exec the real command.
            (w.contains('=') && !w.starts_with('=')) || matches!(*w, "exec" | "command")
        })
        .collect();
    let first = words
        .first()
        .map(|w| program(w.trim_start_matches(['(', '{'])));
    let run = stage.command.split_whitespace().next().map(program);
    if first.is_some() && first == run {
        return 2;
    }
    let compound = matches!(
        words.first().copied(),
        Some("while" | "until" | "for" | "if" | "case" | "{" | "(" | "!" | "select")
    ) || label.starts_with(['(', '{'])
        || label.contains(';')
        || label.contains("&&");
    u32::from(compound && shell.is_some_and(|sh| sh == stage.command))
}

/// Processes connected to the `seeds` through pipes: a process joins when it holds a
/// pipe that a member holds — transitively. What belongs to the surroundings rather than
/// to the pipeline joins nobody: standard error; an end inherited as it is (the same
/// pipe, handle and mode held by an ancestor among `procs`: the stdout of the shell or
/// job runner that started the pipeline); an end held just as a member holds it (two
/// processes that inherited the same log pipe from one parent, gone or not); and a
/// process of another session than every seed's. Returns them in `procs` order.
pub fn connected(procs: &[ProcEnds], seeds: &[Pid]) -> Vec<ProcEnds> {
    let by_pid: HashMap<Pid, &ProcEnds> = procs.iter().map(|p| (p.pid, p)).collect();
    let inherited = |p: &ProcEnds, e: &PipeEnd| {
        let mut seen = BTreeSet::new();
        let mut cur = p.ppid;
        while let Some(pp) = cur.filter(|pp| seen.insert(*pp)) {
            let Some(parent) = by_pid.get(&pp) else {
                break;
            };
            if parent
                .ends
                .iter()
                .any(|a| (a.pipe, a.handle, a.mode) == (e.pipe, e.handle, e.mode))
            {
                return true;
            }
            cur = parent.ppid;
        }
        false
    };
    let data: HashMap<Pid, Vec<PipeEnd>> = procs
        .iter()
        .map(|p| {
            let own = p.ends.iter().filter(|e| !e.stderr && !inherited(p, e));
            (p.pid, own.copied().collect())
        })
        .collect();
    let sessions: BTreeSet<Option<Pid>> = procs
        .iter()
        .filter(|p| seeds.contains(&p.pid))
        .map(|p| p.session)
        .collect();
    let in_session =
        |p: &ProcEnds| p.session.is_none() || sessions.is_empty() || sessions.contains(&p.session);
    let mut members: BTreeSet<Pid> = seeds.iter().copied().collect();
    // The pipes walked, with how members hold them (handle, mode).
    let mut pipes: BTreeMap<u64, BTreeSet<(u64, Mode)>> = BTreeMap::new();
    loop {
        let before = (
            members.len(),
            pipes.values().map(BTreeSet::len).sum::<usize>(),
        );
        for p in procs {
            if members.contains(&p.pid) {
                for e in &data[&p.pid] {
                    pipes.entry(e.pipe).or_default().insert((e.handle, e.mode));
                }
            } else if in_session(p)
                && data[&p.pid].iter().any(|e| {
                    pipes
                        .get(&e.pipe)
                        .is_some_and(|held| held.iter().any(|&h| h != (e.handle, e.mode)))
                })
            {
                members.insert(p.pid);
            }
        }
        if (
            members.len(),
            pipes.values().map(BTreeSet::len).sum::<usize>(),
        ) == before
        {
            break;
        }
    }
    procs
        .iter()
        .filter(|p| members.contains(&p.pid))
        .cloned()
        .collect()
}

/// Adds to `procs` (a new look) the stages of `prev` that exited — their pid is not in
/// `alive` — but are joined by a pipe, writer to reader, to a process of the look, as
/// they were last seen (`seen`, by pid: their parent too, so that a subshell that only
/// wraps them is still known for one).
pub(crate) fn keep_exited(
    prev: &Pipeline,
    procs: &mut Vec<ProcEnds>,
    seen: &HashMap<Pid, ProcEnds>,
    alive: &BTreeSet<Pid>,
) {
    let mut gone: Vec<ProcEnds> = prev
        .stages
        .iter()
        .filter_map(|s| s.pid)
        .filter(|pid| !alive.contains(pid) && !procs.iter().any(|a| a.pid == *pid))
        .filter_map(|pid| seen.get(&pid).cloned())
        .collect();
    loop {
        let held = |f: fn(&PipeEnd) -> bool| -> BTreeSet<u64> {
            procs
                .iter()
                .flat_map(|a| a.ends.iter().filter(|e| f(e)).map(|e| e.pipe))
                .collect()
        };
        let (inputs, outputs) = (held(PipeEnd::reads), held(PipeEnd::writes));
        let Some(k) = gone.iter().position(|s| {
            s.ends.iter().any(|e| {
                (e.writes() && inputs.contains(&e.pipe)) || (e.reads() && outputs.contains(&e.pipe))
            })
        }) else {
            break;
        };
        procs.push(gone.remove(k));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{end, proc};
    use super::*;

    proptest::proptest! {
        /// Whatever the processes, stages are distinct processes from the input, and each
        /// pipe joins stages that write and read it, offering only a read-only end.
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
                    session: None,
                    ends: i
                        .map(|p| end(p, 0, if ro { Mode::Read } else { Mode::ReadWrite }))
                        .into_iter()
                        .chain(o.map(|p| end(p, 1, Mode::Write)))
                        .collect(),
                    command: String::new(),
                })
                .collect();
            let p = assemble(&procs);
            let pids: BTreeSet<Pid> = p.stages.iter().filter_map(|s| s.pid).collect();
            proptest::prop_assert_eq!(pids.len(), p.stages.len());
            proptest::prop_assert!(pids.iter().all(|pid| procs.iter().any(|q| q.pid == *pid)));
            for pipe in &p.pipes {
                proptest::prop_assert!(!pipe.writers.is_empty() && !pipe.readers.is_empty());
                for &w in &pipe.writers {
                    proptest::prop_assert!(p.stages[w].writes().any(|x| x == pipe.id));
                }
                for &r in &pipe.readers {
                    proptest::prop_assert!(p.stages[r].reads().any(|x| x == pipe.id));
                }
                if let Some(end) = pipe.read_end {
                    let holder = p.stages.iter().find(|s| s.pid == Some(end.pid)).unwrap();
                    let e = holder.ends.iter().find(|e| e.handle == end.handle).unwrap();
                    proptest::prop_assert_eq!((e.pipe, e.mode), (pipe.id, Mode::Read));
                }
            }
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
        let pids: Vec<Pid> = p.stages.iter().filter_map(|s| s.pid).collect();
        assert_eq!(pids, [20, 30, 10]);
        assert_eq!(p.pipes.len(), 2);
        assert_eq!(
            (p.pipes[0].id, p.pipes[0].writer(), p.pipes[0].reader()),
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
        let pids: Vec<Pid> = assemble(&procs)
            .stages
            .iter()
            .filter_map(|s| s.pid)
            .collect();
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
        let pids: Vec<Pid> = assemble(&procs)
            .stages
            .iter()
            .filter_map(|s| s.pid)
            .collect();
        assert_eq!(pids, [3, 4]);
        // `{ a | b; } | c`: group 2 wraps 3 | 4 and writes 200, as 4 does.
        let procs = [
            proc(2, 1, Some(50), Some(200)),
            proc(3, 2, Some(50), Some(100)),
            proc(4, 2, Some(100), Some(200)),
            proc(5, 1, Some(200), None),
        ];
        let p = assemble(&procs);
        let pids: Vec<Pid> = p.stages.iter().filter_map(|s| s.pid).collect();
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
        let pids: Vec<Pid> = assemble(&procs)
            .stages
            .iter()
            .filter_map(|s| s.pid)
            .collect();
        assert!(pids.contains(&3), "{pids:?}");
        assert_eq!(pids[0], 2);
    }

    #[test]
    fn assemble_never_offers_a_write_end_for_duplication() {
        let mut reader = proc(2, 0, None, None);
        reader.ends = vec![end(100, 0, Mode::ReadWrite)]; // fd 0 reopened read-write
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
        let first = [proc(1, 0, None, Some(100)), proc(2, 0, Some(100), None)];
        let prev = assemble(&first);
        let seen = first.iter().map(|p| (p.pid, p.clone())).collect();
        let mut procs = vec![proc(2, 0, Some(100), None)];
        keep_exited(&prev, &mut procs, &seen, &BTreeSet::from([2, 7]));
        let next = assemble(&procs);
        let pids: Vec<Pid> = next.stages.iter().filter_map(|s| s.pid).collect();
        assert_eq!(pids, [1, 2]);
        assert_eq!(next.pipes.len(), 1);
    }

    #[test]
    fn a_group_whose_stages_exited_is_still_no_stage() {
        // `{ a | b; } | c`: a (3) and b (4) exited; the group (2) waits for them, alive,
        // holding 200 as b did. Carried over with their parent, they keep it a wrapper.
        let first = [
            proc(2, 1, None, Some(200)),
            proc(3, 2, None, Some(100)),
            proc(4, 2, Some(100), Some(200)),
            proc(5, 1, Some(200), None),
        ];
        let prev = assemble(&first);
        let seen = first.iter().map(|p| (p.pid, p.clone())).collect();
        let mut procs = vec![first[0].clone(), first[3].clone()];
        keep_exited(&prev, &mut procs, &seen, &BTreeSet::from([2, 5]));
        let pids: Vec<Pid> = assemble(&procs)
            .stages
            .iter()
            .filter_map(|s| s.pid)
            .collect();
        assert_eq!(pids, [3, 4, 5]);
    }

    #[test]
    fn keep_exited_drops_a_live_process_that_is_no_stage_any_more() {
        // The shell (pid 1) stood in as the stage until its children appeared; it shares
        // its stdin with the first child but is alive, so it is not carried over.
        let shell = proc(1, 0, Some(50), None);
        let prev = assemble(std::slice::from_ref(&shell));
        let seen = HashMap::from([(1, shell)]);
        let mut procs = vec![proc(2, 1, Some(50), Some(100)), proc(3, 1, Some(100), None)];
        keep_exited(&prev, &mut procs, &seen, &BTreeSet::from([1, 2, 3]));
        let pids: Vec<Pid> = assemble(&procs)
            .stages
            .iter()
            .filter_map(|s| s.pid)
            .collect();
        assert_eq!(pids, [2, 3]);
    }

    #[test]
    fn a_parent_feeding_its_child_and_reading_it_back_is_a_cycle_of_two_pipes() {
        // Popen(['cat'], stdin=PIPE, stdout=PIPE): python (10) writes 100 at fd 4 and
        // reads 200 at fd 5; cat (11) reads 100 at fd 0 and writes 200 at fd 1. Both
        // also hold the terminal's pipe 7 as stdout/stderr, inherited from the shell (1).
        let mut python = proc(10, 1, None, None);
        python.ends = vec![
            end(7, 1, Mode::Write),
            end(100, 4, Mode::Write),
            end(200, 5, Mode::Read),
        ];
        let mut cat = proc(11, 10, Some(100), Some(200));
        cat.ends.push(end(7, 2, Mode::Write));
        let shell = ProcEnds {
            ends: vec![end(7, 1, Mode::Write)],
            ..proc(1, 0, None, None)
        };
        let logger = proc(2, 0, Some(7), None);
        let procs = [shell, logger, python, cat];
        let members: Vec<Pid> = connected(&procs, &[10]).iter().map(|p| p.pid).collect();
        assert_eq!(
            members,
            [10, 11],
            "the inherited stdout and stderr join nobody"
        );
        let p = assemble(&connected(&procs, &[11]));
        let pids: Vec<Option<Pid>> = p.stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [Some(10), Some(11)]);
        let joins: Vec<(u64, usize, usize)> = p
            .pipes
            .iter()
            .map(|q| (q.id, q.writer(), q.reader()))
            .collect();
        assert_eq!(joins, [(100, 0, 1), (200, 1, 0)]);
        assert_eq!(p.pipes[1].read_end, Some(HandleRef { pid: 10, handle: 5 }));
        assert!(!p.is_linear());
    }

    #[test]
    fn a_stage_holding_several_pipes_joins_each() {
        // `tee >(wc) | cat`-like: 1 writes 100 (to 2) and 101 (to 3).
        let mut tee = proc(1, 0, None, Some(100));
        tee.ends.push(end(101, 63, Mode::Write));
        let p = assemble(&[
            tee,
            proc(2, 0, Some(100), None),
            proc(3, 0, Some(101), None),
        ]);
        let joins: Vec<(u64, usize, usize)> = p
            .pipes
            .iter()
            .map(|q| (q.id, q.writer(), q.reader()))
            .collect();
        assert_eq!(joins, [(100, 0, 1), (101, 0, 2)]);
    }

    fn labels(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn a_stage_gone_before_the_first_look_keeps_its_place() {
        // `head F | while …; done | cat`: head already exited; the loop (a forked copy of
        // the shell) reads pipe 100 that no stage writes, and writes 200 to cat.
        let shell = "sh -c head F | while read l; do echo $l; done | cat";
        let mut looped = proc(21, 20, Some(100), Some(200));
        looped.command = shell.into();
        let mut cat = proc(22, 20, Some(200), None);
        cat.command = "cat".into();
        let mut p = assemble(&[looped, cat]);
        let text = labels(&["head F", "while read l; do echo $l; done", "cat"]);
        p.place(&text, &BTreeSet::new(), Some(shell));
        let got: Vec<(Option<Pid>, &str)> = p
            .stages
            .iter()
            .map(|s| (s.pid, s.command.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (None, "head F"),
                (Some(21), text[1].as_str()),
                (Some(22), "cat")
            ]
        );
        let joins: Vec<(u64, usize, usize)> = p
            .pipes
            .iter()
            .map(|q| (q.id, q.writer(), q.reader()))
            .collect();
        assert_eq!(joins, [(100, 0, 1), (200, 1, 2)]);
        // The pipe from the unseen head is measured through the loop's read end.
        assert_eq!(p.pipes[0].read_end, Some(HandleRef { pid: 21, handle: 0 }));
    }

    #[test]
    fn the_shells_own_stdin_proves_no_stage_before() {
        // `cmd | a | b` run with pipescope's stdin a pipe (50); `cmd` not seen yet, `a`
        // reads 100, b reads a. Only the labels decide where `a` goes.
        let mut a = proc(2, 1, Some(100), Some(101));
        a.command = "/usr/bin/a -x".into();
        let mut b = proc(3, 1, Some(101), None);
        b.command = "b".into();
        let text = labels(&["cmd", "a -x", "b"]);
        let mut p = assemble(&[a.clone(), b.clone()]);
        p.place(&text, &BTreeSet::from([50]), None);
        let pids: Vec<Option<Pid>> = p.stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [None, Some(2), Some(3)]);
        // The same two read from the shell's stdin: they are the first two stages.
        a.ends[0].pipe = 50;
        let mut p = assemble(&[a, b]);
        p.place(&labels(&["a -x", "b", "c"]), &BTreeSet::from([50]), None);
        let pids: Vec<Option<Pid>> = p.stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [Some(2), Some(3), None]);
        assert_eq!(p.pipes.len(), 1, "a→b; whether b writes to c is not known");
    }

    #[test]
    fn a_middle_stage_not_seen_keeps_both_neighbours_in_place() {
        let p1 = proc(1, 0, None, Some(100));
        let p3 = proc(3, 0, Some(200), None);
        let mut p = assemble(&[p1, p3]);
        p.place(&labels(&["p1", "p2", "p3"]), &BTreeSet::new(), None);
        let pids: Vec<Option<Pid>> = p.stages.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [Some(1), None, Some(3)]);
        let joins: Vec<(u64, usize, usize)> = p
            .pipes
            .iter()
            .map(|q| (q.id, q.writer(), q.reader()))
            .collect();
        assert_eq!(joins, [(100, 0, 1), (200, 1, 2)]);
    }

    #[test]
    fn more_processes_than_stages_are_left_as_found() {
        let mut p = assemble(&[
            proc(1, 0, None, Some(100)),
            proc(2, 0, Some(100), Some(200)),
            proc(3, 0, Some(200), None),
        ]);
        let before = p.clone();
        p.place(&labels(&["x", "y"]), &BTreeSet::new(), None);
        assert_eq!(p, before);
    }
}
