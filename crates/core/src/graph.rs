//! The pipe graph: every pipe a [`Snapshot`] saw, with all of its ends, and what is wrong
//! with it.
//!
//! OS-neutral: ends are grouped by the [`ObjectId`] the backend gave each handle, so the
//! same code serves Linux inodes and Windows object addresses. The findings follow the
//! questions people ask of a stuck pipeline: who else holds a write end (the reader's EOF
//! waits for it), which pipes have lost a side, and where the scan could not look.

use std::collections::HashMap;
use std::fmt;

use crate::ErrorKind;
use crate::model::{
    Handle, HandleRef, Mode, Name, ObjectId, Pid, PipeKind, Process, ScanError, Snapshot,
};

/// Processes a finding's message names before it says "and N more".
const NAMES_IN_MESSAGE: usize = 3;

/// How the graph reads a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphOptions {
    /// The handle value a process writes its standard output to, when the OS fixes one
    /// (fd 1 on Linux). A process holding a pipe's write end there is its intended
    /// writer; other holders of write ends are reported as `extra-writer`.
    pub stdout_handle: Option<u64>,
    /// The scan cannot see the whole machine (it runs in a nested pid namespace): a pipe
    /// that seems to have lost a side may have it outside, which a `hidden-holder`
    /// finding then says.
    pub partial_view: bool,
}

impl Default for GraphOptions {
    /// This system's conventions, and whether this process sees the whole machine.
    fn default() -> Self {
        GraphOptions {
            stdout_handle: if cfg!(unix) { Some(1) } else { None },
            partial_view: crate::sys::partial_view(),
        }
    }
}

/// How a handle is named in messages, in the words of this OS: `fd 4` on Unix, `handle
/// 0x38` on Windows (the number as [`crate::handle_value`] writes it).
pub fn handle_label(handle: u64) -> String {
    let word = if cfg!(windows) { "handle" } else { "fd" };
    format!("{word} {}", crate::handle_value(handle))
}

/// One end of a pipe: a handle held by a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeEnd {
    /// The process holding the handle.
    pub pid: Pid,
    /// The handle (fd).
    pub handle: u64,
    /// What the handle may do. A read-write end is listed among readers and writers.
    pub mode: Mode,
    /// Other handles sharing this handle's open file description, when the OS told.
    pub shared_with: Vec<HandleRef>,
    /// A small number shared by all ends of this pipe that share one open file
    /// description (1, 2, …); `None` when the end shares it with no other end we saw.
    pub description: Option<u32>,
}

impl PipeEnd {
    /// This end as a [`HandleRef`].
    pub fn handle_ref(&self) -> HandleRef {
        HandleRef {
            pid: self.pid,
            handle: self.handle,
        }
    }
}

/// What kind of problem a [`Finding`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// Besides the intended writer, another process holds a write end: the reader sees
    /// EOF only after that one closes it too.
    ExtraWriter,
    /// Write ends exist but no read end: the next write fails with EPIPE (SIGPIPE).
    NoReader,
    /// Read ends exist but no write end: the reader sees EOF.
    NoWriter,
    /// An end may be held where the scan cannot see it: descriptors in flight in a UNIX
    /// socket, or processes the scan was not allowed to inspect.
    HiddenHolder,
}

impl FindingKind {
    /// `extra-writer`, `no-reader`, `no-writer` or `hidden-holder`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::ExtraWriter => "extra-writer",
            FindingKind::NoReader => "no-reader",
            FindingKind::NoWriter => "no-writer",
            FindingKind::HiddenHolder => "hidden-holder",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something wrong (or possibly wrong) with one pipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The process the finding names (the extra writer; the socket holding descriptors
    /// in flight), when there is one.
    pub pid: Option<Pid>,
    /// The handle the finding names, when there is one.
    pub handle: Option<u64>,
    /// One sentence for a person.
    pub message: String,
}

/// A UNIX socket whose receive queue holds descriptors sent but not yet received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// The process holding the receiving socket.
    pub pid: Pid,
    /// The socket's handle.
    pub handle: u64,
    /// How many descriptors wait in its queue.
    pub count: u64,
}

/// One pipe (anonymous or FIFO) and every end of it the scan saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipe {
    /// The object all ends refer to.
    pub object: ObjectId,
    /// Anonymous pipe, FIFO or named pipe.
    pub kind: PipeKind,
    /// The name as the OS gives it: a FIFO's path (as its first holder sees it), a
    /// Windows pipe's name; empty for an anonymous pipe, whose name is its [`Pipe::id`].
    pub name: Name,
    /// Ends that can read, ordered by process and handle.
    pub readers: Vec<PipeEnd>,
    /// Ends that can write, ordered by process and handle.
    pub writers: Vec<PipeEnd>,
    /// Ends whose mode the backend could not tell.
    pub unknown: Vec<PipeEnd>,
    /// What is wrong with it.
    pub findings: Vec<Finding>,
}

impl Pipe {
    /// A stable text id: `pipe:[8844]` for an anonymous pipe, `fifo:[DEV:INO]` for a
    /// FIFO, the object address or name on Windows.
    pub fn id(&self) -> String {
        match (&self.object, self.kind) {
            (ObjectId::Inode { ino, .. }, PipeKind::Anonymous) => format!("pipe:[{ino}]"),
            (ObjectId::Inode { dev, ino }, _) => format!("fifo:[{dev}:{ino}]"),
            (ObjectId::Address(a), _) => format!("pipe@{a:#x}"),
            (ObjectId::Name(n), _) => n.clone(),
        }
    }

    /// The inode number, when the object is an inode.
    pub fn inode(&self) -> Option<u64> {
        match self.object {
            ObjectId::Inode { ino, .. } => Some(ino),
            _ => None,
        }
    }

    /// Every end, each once (a read-write end is in both `readers` and `writers`).
    pub fn ends(&self) -> impl Iterator<Item = &PipeEnd> {
        let rw = |e: &&PipeEnd| !(e.mode.reads() && e.mode.writes());
        self.readers
            .iter()
            .chain(self.writers.iter().filter(rw))
            .chain(self.unknown.iter())
    }

    /// Whether some end is held by `pid`.
    pub fn held_by(&self, pid: Pid) -> bool {
        self.ends().any(|e| e.pid == pid)
    }

    /// A self-pipe: it has readers and writers, and every end is in one process.
    pub fn is_self_pipe(&self) -> bool {
        let Some(first) = self.ends().next() else {
            return false;
        };
        !self.readers.is_empty()
            && !self.writers.is_empty()
            && self.ends().all(|e| e.pid == first.pid)
    }

    /// Whether the pipe carries a finding of this kind.
    pub fn has(&self, kind: FindingKind) -> bool {
        self.findings.iter().any(|f| f.kind == kind)
    }

    /// The end `pid`/`handle`, if it is one of this pipe's.
    pub fn end(&self, pid: Pid, handle: u64) -> Option<&PipeEnd> {
        self.ends().find(|e| e.pid == pid && e.handle == handle)
    }
}

/// Every pipe of a snapshot, with findings, and the processes holding them.
#[derive(Debug)]
pub struct PipeGraph<'a> {
    snapshot: &'a Snapshot,
    by_pid: HashMap<Pid, usize>,
    /// The pipes, ordered by kind and id.
    pub pipes: Vec<Pipe>,
    /// Sockets holding descriptors in flight, anywhere in the snapshot.
    pub in_flight: Vec<InFlight>,
    /// Pipe ends the backend could not tie to a pipe (no object identity: the unnamed
    /// anonymous pipes of Windows 10 and later), so they are in no [`Pipe`].
    pub unpaired: Vec<HandleRef>,
}

impl<'a> PipeGraph<'a> {
    /// Builds the graph of `snapshot`.
    pub fn build(snapshot: &'a Snapshot, opts: &GraphOptions) -> Self {
        let by_pid = snapshot
            .processes
            .iter()
            .enumerate()
            .map(|(i, p)| (p.pid, i))
            .collect();
        // Every pipe end once, as (process index, handle index), sorted so that the ends
        // of one pipe are neighbours: each pipe's lists are then built at their exact size
        // (a machine can hold hundreds of thousands of pipe ends).
        let mut in_flight = Vec::new();
        let mut unpaired = Vec::new();
        let mut slots: Vec<(u32, u32)> = Vec::new();
        for (pi, p) in snapshot.processes.iter().enumerate() {
            for (hi, h) in p.handles.iter().enumerate() {
                if let Some(count) = in_flight_count(h) {
                    in_flight.push(InFlight {
                        pid: p.pid,
                        handle: h.handle,
                        count,
                    });
                }
                match (h.pipe, &h.object) {
                    (Some(_), Some(_)) => slots.push((pi as u32, hi as u32)),
                    // An end the backend could not tie to its pipe (unnamed Windows pipes).
                    (Some(_), None) => unpaired.push(HandleRef {
                        pid: p.pid,
                        handle: h.handle,
                    }),
                    (None, _) => {}
                }
            }
        }
        let handle = |&(pi, hi): &(u32, u32)| -> (&'a Process, &'a Handle) {
            let p = &snapshot.processes[pi as usize];
            (p, &p.handles[hi as usize])
        };
        let key = |s: &(u32, u32)| {
            let (p, h) = handle(s);
            let object = h.object.as_ref();
            let ino = match object {
                Some(ObjectId::Inode { ino, .. }) => Some(*ino),
                _ => None,
            };
            (h.pipe, ino, object, p.pid, h.handle)
        };
        slots.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        let denied: Vec<&ScanError> = snapshot
            .errors
            .iter()
            .filter(|e| e.kind == ErrorKind::PermissionDenied)
            .collect();
        let mut graph = PipeGraph {
            snapshot,
            by_pid,
            pipes: Vec::new(),
            in_flight,
            unpaired,
        };
        let mut pipes = Vec::new();
        for group in slots.chunk_by(|a, b| handle(a).1.object == handle(b).1.object) {
            let (_, first) = handle(&group[0]);
            let (Some(kind), Some(object)) = (first.pipe, first.object.clone()) else {
                continue;
            };
            let count = |f: fn(Mode) -> bool| group.iter().filter(|s| f(handle(s).1.mode)).count();
            let mut pipe = Pipe {
                // An anonymous pipe's name is its id; keep only names that say more.
                name: if kind == PipeKind::Anonymous && matches!(object, ObjectId::Inode { .. }) {
                    Name::default()
                } else {
                    first.name.clone()
                },
                object,
                kind,
                readers: Vec::with_capacity(count(Mode::reads)),
                writers: Vec::with_capacity(count(Mode::writes)),
                unknown: Vec::new(),
                findings: Vec::new(),
            };
            for s in group {
                let (p, h) = handle(s);
                let end = PipeEnd {
                    pid: p.pid,
                    handle: h.handle,
                    mode: h.mode,
                    shared_with: h
                        .details
                        .as_ref()
                        .map(|d| d.shared_with.clone())
                        .unwrap_or_default(),
                    description: None,
                };
                match (h.mode.reads(), h.mode.writes()) {
                    (true, true) => {
                        pipe.readers.push(end.clone());
                        pipe.writers.push(end);
                    }
                    (true, false) => pipe.readers.push(end),
                    (false, true) => pipe.writers.push(end),
                    (false, false) => pipe.unknown.push(end),
                }
            }
            mark_descriptions(&mut pipe);
            pipe.findings = graph.findings(&pipe, opts, &denied);
            pipes.push(pipe);
        }
        drop(slots);
        graph.pipes = pipes;
        graph
    }

    /// The snapshot the graph was built from.
    pub fn snapshot(&self) -> &'a Snapshot {
        self.snapshot
    }

    /// The process `pid`, if the scan saw it.
    pub fn process(&self, pid: Pid) -> Option<&'a Process> {
        self.by_pid.get(&pid).map(|&i| &self.snapshot.processes[i])
    }

    /// The name of process `pid`, or `?` when the scan did not see it.
    pub fn process_name(&self, pid: Pid) -> &'a str {
        self.process(pid).map_or("?", |p| p.name.as_str())
    }

    /// The parent chain of `pid`: its parent, grandparent, … as far as the scan saw them
    /// (stops at a process it did not see, and at a loop).
    pub fn ancestors(&self, pid: Pid) -> Vec<&'a Process> {
        let mut chain: Vec<&'a Process> = Vec::new();
        let mut next = self.process(pid).and_then(|p| p.ppid);
        while let Some(pp) = next {
            if pp == 0 || pp == pid || chain.iter().any(|p| p.pid == pp) {
                break;
            }
            let Some(p) = self.process(pp) else { break };
            chain.push(p);
            next = p.ppid;
        }
        chain
    }

    /// The pipe whose end is handle `handle` of process `pid`.
    pub fn pipe_of(&self, pid: Pid, handle: u64) -> Option<&Pipe> {
        self.pipes.iter().find(|p| p.end(pid, handle).is_some())
    }

    fn label(&self, pid: Pid) -> String {
        format!("{pid} {}", self.process_name(pid))
    }

    fn findings(&self, pipe: &Pipe, opts: &GraphOptions, denied: &[&ScanError]) -> Vec<Finding> {
        // A Windows named pipe is duplex and per instance: its server and client ends both
        // read and write, each seeing end-of-file when the other end closes, and several
        // instances share one name. The one-way reasoning below does not apply to it.
        if pipe.kind == PipeKind::Named {
            return Vec::new();
        }
        let mut out = Vec::new();
        out.extend(self.extra_writers(pipe, opts));
        let missing_side = if pipe.unknown.is_empty() {
            if pipe.readers.is_empty() && !pipe.writers.is_empty() {
                let holders = self.list(&pipe.writers);
                out.push(Finding {
                    kind: FindingKind::NoReader,
                    pid: None,
                    handle: None,
                    message: format!(
                        "no process holds a read end; the next write by {holders} fails \
                         with EPIPE (SIGPIPE)"
                    ),
                });
                true
            } else if pipe.writers.is_empty() && !pipe.readers.is_empty() {
                let holders = self.list(&pipe.readers);
                out.push(Finding {
                    kind: FindingKind::NoWriter,
                    pid: None,
                    handle: None,
                    message: format!(
                        "no process holds a write end; {holders} reads end-of-file once \
                         the pipe is drained"
                    ),
                });
                true
            } else {
                false
            }
        } else {
            false
        };
        // Descriptors in flight or processes we could not see matter where they would
        // change the answer: a pipe that seems to have lost a side.
        if missing_side {
            for f in &self.in_flight {
                out.push(Finding {
                    kind: FindingKind::HiddenHolder,
                    pid: Some(f.pid),
                    handle: Some(f.handle),
                    message: format!(
                        "the UNIX socket held by {} (fd {}) has {} descriptor{} in flight \
                         (sent, not yet received); {} may be the missing end",
                        self.label(f.pid),
                        f.handle,
                        f.count,
                        if f.count == 1 { "" } else { "s" },
                        if f.count == 1 { "it" } else { "one" },
                    ),
                });
            }
            if !denied.is_empty() {
                let names: Vec<String> = denied
                    .iter()
                    .take(5)
                    .map(|e| match &e.process {
                        Some(n) => format!("{} {n}", e.pid),
                        None => e.pid.to_string(),
                    })
                    .collect();
                let more = denied.len().saturating_sub(names.len());
                let message = if denied.len() == 1 {
                    format!(
                        "the missing end may be held by {}, which the scan was not allowed \
                         to inspect",
                        names[0]
                    )
                } else {
                    format!(
                        "the missing end may be held by one of the {} processes the scan \
                         was not allowed to inspect ({}{})",
                        denied.len(),
                        names.join(", "),
                        if more > 0 {
                            format!(", and {more} more")
                        } else {
                            String::new()
                        }
                    )
                };
                out.push(Finding {
                    kind: FindingKind::HiddenHolder,
                    pid: None,
                    handle: None,
                    message,
                });
            }
            if opts.partial_view {
                out.push(Finding {
                    kind: FindingKind::HiddenHolder,
                    pid: None,
                    handle: None,
                    message: "this scan runs inside a pid namespace and cannot see the \
                              processes outside it: the missing end may be held there"
                        .to_string(),
                });
            }
        }
        out
    }

    /// `extra-writer`: write ends held by processes other than the intended writer.
    ///
    /// The intended writers are the processes holding a write end as their standard
    /// output; when none does, the longest-running writer (the pipe's likely creator).
    fn extra_writers(&self, pipe: &Pipe, opts: &GraphOptions) -> Vec<Finding> {
        let mut writer_pids: Vec<Pid> = pipe.writers.iter().map(|e| e.pid).collect();
        writer_pids.dedup();
        if writer_pids.len() < 2 {
            return Vec::new();
        }
        let mut intended: Vec<Pid> = pipe
            .writers
            .iter()
            .filter(|e| Some(e.handle) == opts.stdout_handle)
            .map(|e| e.pid)
            .collect();
        if intended.is_empty() {
            let first = writer_pids.iter().copied().min_by_key(|&pid| {
                let start = self.process(pid).and_then(|p| p.start_time_ms);
                (start.is_none(), start, pid)
            });
            intended.extend(first);
        }
        let readers = if pipe.readers.is_empty() {
            "the reader".to_string()
        } else {
            self.list(&pipe.readers)
        };
        intended.sort_unstable();
        intended.dedup();
        let main = self.names(&intended);
        pipe.writers
            .iter()
            .filter(|e| intended.binary_search(&e.pid).is_err())
            .map(|e| Finding {
                kind: FindingKind::ExtraWriter,
                pid: Some(e.pid),
                handle: Some(e.handle),
                message: format!(
                    "{} holds a write end ({}) besides {main}; {readers} will not see \
                     end-of-file until it closes it",
                    self.label(e.pid),
                    handle_label(e.handle)
                ),
            })
            .collect()
    }

    /// The processes holding `ends` (sorted by pid), for a message.
    fn list(&self, ends: &[PipeEnd]) -> String {
        let mut pids: Vec<Pid> = ends.iter().map(|e| e.pid).collect();
        pids.dedup();
        self.names(&pids)
    }

    /// `pid name` of each process, at most [`NAMES_IN_MESSAGE`] of them, then how many
    /// more: a pipe inherited by thousands of processes keeps its messages short.
    fn names(&self, pids: &[Pid]) -> String {
        let mut s = pids
            .iter()
            .take(NAMES_IN_MESSAGE)
            .map(|&p| self.label(p))
            .collect::<Vec<_>>()
            .join(", ");
        if pids.len() > NAMES_IN_MESSAGE {
            s.push_str(&format!(" and {} more", pids.len() - NAMES_IN_MESSAGE));
        }
        s
    }
}

/// The `scm_fds` count of a socket handle, when it is above zero.
fn in_flight_count(h: &Handle) -> Option<u64> {
    h.details.as_ref()?.scm_fds.filter(|&n| n > 0)
}

/// Numbers the groups of ends that share one open file description (1, 2, … in end
/// order); an end sharing with no other end of this pipe keeps `None`.
fn mark_descriptions(pipe: &mut Pipe) {
    let all: Vec<HandleRef> = {
        let mut v: Vec<HandleRef> = pipe
            .readers
            .iter()
            .chain(&pipe.writers)
            .chain(&pipe.unknown)
            .map(PipeEnd::handle_ref)
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let index = |r: &HandleRef| all.binary_search(r).ok();
    // Union-find over the shared_with links.
    let mut parent: Vec<usize> = (0..all.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for e in pipe
        .readers
        .iter()
        .chain(&pipe.writers)
        .chain(&pipe.unknown)
    {
        let Some(a) = index(&e.handle_ref()) else {
            continue;
        };
        for other in &e.shared_with {
            if let Some(b) = index(other) {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra] = rb;
            }
        }
    }
    let mut size = vec![0usize; all.len()];
    for i in 0..all.len() {
        let r = root(&mut parent, i);
        size[r] += 1;
    }
    let mut numbers: HashMap<usize, u32> = HashMap::new();
    let mut next = 1;
    let mut label = |i: usize| -> Option<u32> {
        let r = root(&mut parent, i);
        if size[r] < 2 {
            return None;
        }
        Some(*numbers.entry(r).or_insert_with(|| {
            next += 1;
            next - 1
        }))
    };
    let labels: Vec<Option<u32>> = (0..all.len()).map(&mut label).collect();
    for e in pipe
        .readers
        .iter_mut()
        .chain(pipe.writers.iter_mut())
        .chain(pipe.unknown.iter_mut())
    {
        if let Some(i) = index(&e.handle_ref()) {
            e.description = labels[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HandleDetails, ObjectType};

    /// The snapshots below are Linux-style: stdout is fd 1.
    const OPTS: GraphOptions = GraphOptions {
        stdout_handle: Some(1),
        partial_view: false,
    };

    fn pipe_end(fd: u64, ino: u64, mode: Mode) -> Handle {
        Handle {
            handle: fd,
            object_type: ObjectType::new("pipe"),
            mode,
            name: Name::from(format!("pipe:[{ino}]").as_str()),
            object: Some(ObjectId::Inode { dev: 0, ino }),
            pipe: Some(PipeKind::Anonymous),
            flags: None,
            access: None,
            details: None,
        }
    }

    fn shared(mut h: Handle, with: &[(Pid, u64)]) -> Handle {
        h.details = Some(Box::new(HandleDetails {
            shared_with: with
                .iter()
                .map(|&(pid, handle)| HandleRef { pid, handle })
                .collect(),
            ..HandleDetails::default()
        }));
        h
    }

    fn socket(fd: u64, scm_fds: u64) -> Handle {
        Handle {
            handle: fd,
            object_type: ObjectType::new("socket"),
            mode: Mode::ReadWrite,
            name: Name::from("socket:[77]"),
            object: Some(ObjectId::Inode { dev: 0, ino: 77 }),
            pipe: None,
            flags: None,
            access: None,
            details: Some(Box::new(HandleDetails {
                scm_fds: Some(scm_fds),
                ..HandleDetails::default()
            })),
        }
    }

    fn proc_(pid: Pid, ppid: Pid, name: &str, handles: Vec<Handle>) -> Process {
        Process {
            pid,
            ppid: Some(ppid),
            name: name.into(),
            name_bytes: None,
            user: None,
            uid: None,
            start_time_ms: Some(1_000 + u64::from(pid)),
            handles,
        }
    }

    fn snap(processes: Vec<Process>) -> Snapshot {
        Snapshot {
            processes,
            ..Snapshot::default()
        }
    }

    fn kinds(p: &Pipe) -> Vec<(FindingKind, Option<Pid>, Option<u64>)> {
        p.findings
            .iter()
            .map(|f| (f.kind, f.pid, f.handle))
            .collect()
    }

    fn ends(list: &[PipeEnd]) -> Vec<(Pid, u64)> {
        list.iter().map(|e| (e.pid, e.handle)).collect()
    }

    #[test]
    fn shell_chain_has_no_findings() {
        // sleep | cat | sleep: two pipes, each written on fd 1 and read on fd 0.
        let s = snap(vec![
            proc_(10, 1, "sh", vec![]),
            proc_(11, 10, "sleep", vec![pipe_end(1, 100, Mode::Write)]),
            proc_(
                12,
                10,
                "cat",
                vec![pipe_end(0, 100, Mode::Read), pipe_end(1, 200, Mode::Write)],
            ),
            proc_(13, 10, "sleep", vec![pipe_end(0, 200, Mode::Read)]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        assert_eq!(g.pipes.len(), 2);
        assert_eq!(g.pipes[0].id(), "pipe:[100]");
        assert_eq!(ends(&g.pipes[0].writers), vec![(11, 1)]);
        assert_eq!(ends(&g.pipes[0].readers), vec![(12, 0)]);
        assert_eq!(ends(&g.pipes[1].writers), vec![(12, 1)]);
        assert_eq!(ends(&g.pipes[1].readers), vec![(13, 0)]);
        assert!(g.pipes.iter().all(|p| p.findings.is_empty()));
        assert!(g.pipes.iter().all(|p| !p.is_self_pipe()));
    }

    #[test]
    fn stray_write_end_is_an_extra_writer_naming_every_holder() {
        // The stdout writer is the youngest writer: the stdout rule, not age, decides.
        let s = snap(vec![
            proc_(30, 1, "python", vec![pipe_end(1, 100, Mode::Write)]),
            proc_(12, 1, "grep", vec![pipe_end(0, 100, Mode::Read)]),
            proc_(20, 1, "bystander", vec![pipe_end(7, 100, Mode::Write)]),
            proc_(
                21,
                1,
                "daemon",
                vec![pipe_end(4, 100, Mode::Write), pipe_end(9, 100, Mode::Write)],
            ),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        let p = &g.pipes[0];
        assert_eq!(
            kinds(p),
            vec![
                (FindingKind::ExtraWriter, Some(20), Some(7)),
                (FindingKind::ExtraWriter, Some(21), Some(4)),
                (FindingKind::ExtraWriter, Some(21), Some(9)),
            ]
        );
        assert!(p.findings[0].message.contains("20 bystander"));
        assert!(p.findings[0].message.contains("30 python"));
        assert!(p.findings[0].message.contains("12 grep"));
    }

    #[test]
    fn ends_without_an_identity_are_unpaired_not_guessed() {
        let mut lone = pipe_end(0x34, 100, Mode::Read);
        lone.object = None;
        let s = snap(vec![
            proc_(11, 1, "a", vec![lone]),
            proc_(12, 1, "b", vec![pipe_end(3, 100, Mode::Write)]),
        ]);
        let g = PipeGraph::build(&s, &GraphOptions::default());
        assert_eq!(
            g.unpaired,
            [HandleRef {
                pid: 11,
                handle: 0x34
            }]
        );
        assert_eq!(g.pipes.len(), 1);
        assert!(g.pipes[0].readers.is_empty());
    }

    #[test]
    fn windows_named_pipes_get_no_one_way_findings() {
        let named = |handle: u64| Handle {
            handle,
            object_type: ObjectType::new("File"),
            mode: Mode::ReadWrite,
            name: Name::from(r"\Device\NamedPipe\svcctl"),
            object: Some(ObjectId::Name(r"\Device\NamedPipe\svcctl".into())),
            pipe: Some(PipeKind::Named),
            flags: None,
            access: Some(0x12019f),
            details: None,
        };
        let s = snap(vec![
            proc_(56, 1, "services.exe", vec![named(0x94), named(0xc0)]),
            proc_(76, 56, "winedevice.exe", vec![named(0x38)]),
        ]);
        let g = PipeGraph::build(&s, &GraphOptions::default());
        assert_eq!(g.pipes.len(), 1);
        assert_eq!(g.pipes[0].writers.len(), 3);
        assert!(g.pipes[0].findings.is_empty(), "{:?}", g.pipes[0].findings);
    }

    #[test]
    fn messages_name_a_few_processes_and_count_the_rest() {
        let mut procs: Vec<Process> = (0..10)
            .map(|i| proc_(100 + i, 1, "w", vec![pipe_end(1, 100, Mode::Write)]))
            .collect();
        procs.push(proc_(200, 1, "stray", vec![pipe_end(2, 100, Mode::Write)]));
        let s = snap(procs);
        let g = PipeGraph::build(&s, &OPTS);
        let f: Vec<&Finding> = g.pipes[0]
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ExtraWriter)
            .collect();
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("besides 100 w, 101 w, 102 w and 7 more; the reader"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn several_stdout_writers_are_all_intended() {
        // `(a & b) | c`: two processes write the pipe as stdout; neither is extra.
        let s = snap(vec![
            proc_(11, 1, "a", vec![pipe_end(1, 100, Mode::Write)]),
            proc_(12, 1, "b", vec![pipe_end(1, 100, Mode::Write)]),
            proc_(13, 1, "c", vec![pipe_end(0, 100, Mode::Read)]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        assert!(g.pipes[0].findings.is_empty());
    }

    #[test]
    fn without_a_stdout_writer_the_oldest_writer_is_intended() {
        let s = snap(vec![
            proc_(30, 1, "worker", vec![pipe_end(5, 100, Mode::Write)]),
            proc_(11, 1, "server", vec![pipe_end(5, 100, Mode::Write)]),
            proc_(12, 1, "reader", vec![pipe_end(3, 100, Mode::Read)]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        assert_eq!(
            kinds(&g.pipes[0]),
            vec![(FindingKind::ExtraWriter, Some(30), Some(5))]
        );
        // A single writer process with several write ends is not an extra writer.
        let s = snap(vec![
            proc_(
                11,
                1,
                "w",
                vec![pipe_end(1, 100, Mode::Write), pipe_end(9, 100, Mode::Write)],
            ),
            proc_(12, 1, "r", vec![pipe_end(0, 100, Mode::Read)]),
        ]);
        assert!(PipeGraph::build(&s, &OPTS).pipes[0].findings.is_empty());
    }

    #[test]
    fn lost_sides_are_found() {
        let s = snap(vec![
            proc_(11, 1, "writer", vec![pipe_end(1, 100, Mode::Write)]),
            proc_(12, 1, "reader", vec![pipe_end(0, 200, Mode::Read)]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        assert_eq!(
            kinds(&g.pipes[0]),
            vec![(FindingKind::NoReader, None, None)]
        );
        assert_eq!(
            kinds(&g.pipes[1]),
            vec![(FindingKind::NoWriter, None, None)]
        );
        assert!(g.pipes[0].findings[0].message.contains("11 writer"));
    }

    #[test]
    fn read_write_end_counts_on_both_sides() {
        let mut fifo = pipe_end(3, 300, Mode::ReadWrite);
        fifo.pipe = Some(PipeKind::Fifo);
        fifo.object = Some(ObjectId::Inode { dev: 42, ino: 300 });
        fifo.name = Name::from("/tmp/f");
        let mut r = fifo.clone();
        r.handle = 0;
        r.mode = Mode::Read;
        let s = snap(vec![
            proc_(11, 1, "a", vec![fifo]),
            proc_(12, 1, "b", vec![r]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        let p = &g.pipes[0];
        assert_eq!(p.id(), "fifo:[42:300]");
        assert_eq!(p.kind, PipeKind::Fifo);
        assert_eq!(ends(&p.readers), vec![(11, 3), (12, 0)]);
        assert_eq!(ends(&p.writers), vec![(11, 3)]);
        assert_eq!(p.ends().count(), 2);
        assert!(p.findings.is_empty());
    }

    #[test]
    fn self_pipe_is_recognised() {
        let s = snap(vec![proc_(
            11,
            1,
            "loop",
            vec![pipe_end(3, 100, Mode::Read), pipe_end(4, 100, Mode::Write)],
        )]);
        let g = PipeGraph::build(&s, &OPTS);
        assert!(g.pipes[0].is_self_pipe());
        // One lonely end is not a self-pipe: it is a pipe that lost a side.
        let s = snap(vec![proc_(11, 1, "x", vec![pipe_end(3, 100, Mode::Read)])]);
        assert!(!PipeGraph::build(&s, &OPTS).pipes[0].is_self_pipe());
    }

    #[test]
    fn shared_descriptions_are_numbered() {
        let s = snap(vec![
            proc_(
                11,
                1,
                "a",
                vec![shared(pipe_end(1, 100, Mode::Write), &[(20, 7)])],
            ),
            proc_(
                20,
                11,
                "b",
                vec![shared(pipe_end(7, 100, Mode::Write), &[(11, 1)])],
            ),
            proc_(12, 1, "c", vec![pipe_end(0, 100, Mode::Read)]),
            proc_(
                13,
                1,
                "d",
                vec![shared(pipe_end(0, 200, Mode::Read), &[(14, 0)])],
            ),
            proc_(14, 1, "e", vec![pipe_end(0, 200, Mode::Read)]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        let p = &g.pipes[0];
        assert_eq!(p.writers[0].description, Some(1));
        assert_eq!(p.writers[1].description, Some(1));
        assert_eq!(p.readers[0].description, None);
        // One-sided links are enough.
        let q = &g.pipes[1];
        assert_eq!(q.readers[0].description, Some(1));
        assert_eq!(q.readers[1].description, Some(1));
    }

    #[test]
    fn descriptors_in_flight_make_a_lost_side_a_hidden_holder() {
        let s = snap(vec![
            proc_(
                11,
                1,
                "sender",
                vec![pipe_end(3, 100, Mode::Read), socket(5, 0), socket(6, 1)],
            ),
            proc_(12, 1, "w", vec![pipe_end(1, 200, Mode::Write)]),
            proc_(13, 1, "r", vec![pipe_end(0, 200, Mode::Read)]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        assert_eq!(
            g.in_flight,
            vec![InFlight {
                pid: 11,
                handle: 6,
                count: 1
            }]
        );
        assert_eq!(
            kinds(&g.pipes[0]),
            vec![
                (FindingKind::NoWriter, None, None),
                (FindingKind::HiddenHolder, Some(11), Some(6))
            ]
        );
        assert!(g.pipes[1].findings.is_empty());
    }

    #[test]
    fn denied_processes_make_a_lost_side_a_hidden_holder() {
        let mut s = snap(vec![proc_(11, 1, "w", vec![pipe_end(1, 100, Mode::Write)])]);
        s.errors.push(ScanError {
            pid: 1,
            process: Some("init".into()),
            kind: ErrorKind::PermissionDenied,
            message: "permission denied".into(),
        });
        let g = PipeGraph::build(&s, &OPTS);
        assert_eq!(
            kinds(&g.pipes[0]),
            vec![
                (FindingKind::NoReader, None, None),
                (FindingKind::HiddenHolder, None, None)
            ]
        );
        assert!(g.pipes[0].findings[1].message.contains("1 init"));
    }

    #[test]
    fn a_partial_view_makes_a_lost_side_a_hidden_holder() {
        let s = snap(vec![proc_(11, 1, "r", vec![pipe_end(0, 100, Mode::Read)])]);
        let opts = GraphOptions {
            partial_view: true,
            ..OPTS
        };
        let g = PipeGraph::build(&s, &opts);
        assert_eq!(
            kinds(&g.pipes[0]),
            vec![
                (FindingKind::NoWriter, None, None),
                (FindingKind::HiddenHolder, None, None)
            ]
        );
        assert!(g.pipes[0].findings[1].message.contains("pid namespace"));
        // A pipe with both sides seen needs no such note.
        let s = snap(vec![
            proc_(11, 1, "r", vec![pipe_end(0, 100, Mode::Read)]),
            proc_(12, 1, "w", vec![pipe_end(1, 100, Mode::Write)]),
        ]);
        assert!(PipeGraph::build(&s, &opts).pipes[0].findings.is_empty());
    }

    #[test]
    fn unknown_modes_raise_no_lost_side() {
        let s = snap(vec![
            proc_(11, 1, "a", vec![pipe_end(1, 100, Mode::Write)]),
            proc_(12, 1, "b", vec![pipe_end(0, 100, Mode::Unknown)]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        assert!(g.pipes[0].findings.is_empty());
        assert_eq!(ends(&g.pipes[0].unknown), vec![(12, 0)]);
    }

    #[test]
    fn ancestors_stop_at_unknown_processes_and_loops() {
        let s = snap(vec![
            proc_(1, 0, "init", vec![]),
            proc_(10, 1, "sh", vec![]),
            proc_(11, 10, "sleep", vec![]),
            proc_(50, 51, "x", vec![]),
            proc_(51, 50, "y", vec![]),
        ]);
        let g = PipeGraph::build(&s, &OPTS);
        let chain: Vec<Pid> = g.ancestors(11).iter().map(|p| p.pid).collect();
        assert_eq!(chain, vec![10, 1]);
        let chain: Vec<Pid> = g.ancestors(50).iter().map(|p| p.pid).collect();
        assert_eq!(chain, vec![51]);
        assert!(g.ancestors(999).is_empty());
    }

    fn any_mode() -> impl proptest::strategy::Strategy<Value = Mode> {
        proptest::prop_oneof![
            proptest::strategy::Just(Mode::Read),
            proptest::strategy::Just(Mode::Write),
            proptest::strategy::Just(Mode::ReadWrite),
            proptest::strategy::Just(Mode::Unknown),
        ]
    }

    proptest::proptest! {
        /// Random processes holding random ends of a few pipes.
        #[test]
        fn the_graph_keeps_every_end_and_its_findings_follow_the_rules(
            procs in proptest::collection::vec(
                proptest::collection::vec((0u64..6, 1u64..4, any_mode()), 0..5),
                1..6,
            )
        ) {
            let snapshot = snap(
                procs
                    .iter()
                    .enumerate()
                    .map(|(i, ends)| {
                        let mut seen = std::collections::BTreeSet::new();
                        let handles = ends
                            .iter()
                            .filter(|(fd, _, _)| seen.insert(*fd))
                            .map(|&(fd, ino, mode)| pipe_end(fd, ino, mode))
                            .collect();
                        proc_(100 + i as Pid, 1, "p", handles)
                    })
                    .collect(),
            );
            let g = PipeGraph::build(&snapshot, &OPTS);
            let mut total = 0;
            for p in &g.pipes {
                total += p.ends().count();
                for e in p.ends() {
                    let h = snapshot.processes.iter().find(|q| q.pid == e.pid).unwrap()
                        .handles.iter().find(|h| h.handle == e.handle).unwrap();
                    proptest::prop_assert_eq!(h.object.as_ref(), Some(&p.object));
                    proptest::prop_assert_eq!(p.readers.iter().any(|r| r == e), h.mode.reads());
                    proptest::prop_assert_eq!(p.writers.iter().any(|w| w == e), h.mode.writes());
                }
                let mut writer_pids: Vec<Pid> = p.writers.iter().map(|e| e.pid).collect();
                writer_pids.dedup();
                let stdout_writers: Vec<Pid> =
                    p.writers.iter().filter(|e| e.handle == 1).map(|e| e.pid).collect();
                for f in p.findings.iter().filter(|f| f.kind == FindingKind::ExtraWriter) {
                    proptest::prop_assert!(writer_pids.len() > 1);
                    let pid = f.pid.unwrap();
                    proptest::prop_assert!(!stdout_writers.contains(&pid));
                    proptest::prop_assert!(p.writers.iter().any(|e| (e.pid, e.handle) == (pid, f.handle.unwrap())));
                }
                // Every write end outside the intended writers is named.
                if writer_pids.len() > 1 && !stdout_writers.is_empty() {
                    let named = p.findings.iter().filter(|f| f.kind == FindingKind::ExtraWriter).count();
                    let stray = p.writers.iter().filter(|e| !stdout_writers.contains(&e.pid)).count();
                    proptest::prop_assert_eq!(named, stray);
                }
                let lost_reader = p.readers.is_empty() && !p.writers.is_empty() && p.unknown.is_empty();
                let lost_writer = p.writers.is_empty() && !p.readers.is_empty() && p.unknown.is_empty();
                proptest::prop_assert_eq!(p.has(FindingKind::NoReader), lost_reader);
                proptest::prop_assert_eq!(p.has(FindingKind::NoWriter), lost_writer);
            }
            let handles: usize = snapshot.processes.iter().map(|p| p.handles.len()).sum();
            proptest::prop_assert_eq!(total, handles);
        }
    }
}
