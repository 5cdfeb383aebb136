//! `--why PID:FD`: why is this end of a pipe waiting, and what would end the wait?
//!
//! [`explain`] answers from a [`PipeGraph`] and the [`LiveState`] [`crate::diagnose`]
//! saw: what the process is doing with the end, every process on the other side — its
//! state, its parents, how it got its end (the open file description it shares with an
//! ancestor, a sibling, or no one) — and what must happen for the wait to end ("end of
//! file needs 1001 sleep and 1002 sleep to exit or close fd 1"). The answer is a typed
//! [`Why`] whose `message` is one field; printers render it.

use crate::activity::{Activity, EndState, PipeFill};
use crate::graph::{Finding, Pipe, PipeEnd, PipeGraph, handle_label};
use crate::model::{HandleRef, Mode, Pid};
use crate::waitfor::{Diagnosis, exit_or_close, fill_text};
use crate::{Error, Result};

use crate::diagnose::LiveState;

/// A process by id and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessRef {
    /// The process.
    pub pid: Pid,
    /// Its short name.
    pub name: String,
}

/// Which side of its pipe an end is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// It reads (a read-write end counts as a reader: the question is its end-of-file).
    Read,
    /// It only writes.
    Write,
}

/// How a process came to hold its end of the pipe, as far as the scan can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// It shares the open file description of `handle` in `from`, an ancestor: it
    /// inherited the end across `fork`.
    Inherited {
        /// The ancestor still holding it.
        from: ProcessRef,
        /// The ancestor's handle.
        handle: u64,
    },
    /// It shares the open file description of `handle` in `with`, which is not an
    /// ancestor: both got it from the same fork (siblings), one passed it to the other
    /// (a child), or it was sent over a socket.
    Shares {
        /// The other process.
        with: ProcessRef,
        /// Its handle.
        handle: u64,
    },
    /// No other process holds this open file description: the process made or opened it
    /// itself, or got it from a process that has since closed it or exited.
    Alone,
    /// Unknown: the scan could not compare open file descriptions.
    Unknown,
}

/// A process on the other side of the pipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherEnd {
    /// The process.
    pub process: ProcessRef,
    /// Its handles on the pipe, with their modes.
    pub handles: Vec<(u64, Mode)>,
    /// What it is doing.
    pub activity: Activity,
    /// What it is doing with its (first) end.
    pub state: EndState,
    /// Its parent has gone (reparented out of its session).
    pub orphaned: bool,
    /// The pipe's `extra-writer` finding names it.
    pub extra_writer: bool,
    /// How it got its end.
    pub origin: Origin,
    /// Its parent, grandparent, … as far as the scan saw them.
    pub ancestry: Vec<ProcessRef>,
    /// Start time, milliseconds since the Unix epoch, when known.
    pub started_ms: Option<u64>,
    /// Other handles (anywhere) sharing its first end's open file description.
    pub shared_with: Vec<HandleRef>,
}

/// What must happen for the wait to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// A reader sees end-of-file only when every write end is closed: each of these
    /// processes must exit or close these handles (data comes if one of them writes).
    EndOfFile {
        /// The holders of write ends, with their handles.
        holders: Vec<(ProcessRef, Vec<u64>)>,
    },
    /// No process holds a write end: the reader sees end-of-file once the pipe is
    /// drained (unless the end is held out of sight).
    Drained,
    /// A writer blocked on a full pipe needs a reader to read; these hold read ends.
    Room {
        /// The holders of read ends, with their handles.
        readers: Vec<(ProcessRef, Vec<u64>)>,
    },
    /// No process holds a read end: the next write fails with EPIPE (SIGPIPE).
    Broken,
}

/// The answer to `--why PID:FD`.
#[derive(Clone, Debug, PartialEq)]
pub struct Why {
    /// The process asked about.
    pub process: ProcessRef,
    /// Its end.
    pub end: PipeEnd,
    /// Which side the end is on.
    pub side: Side,
    /// The pipe, by index into [`PipeGraph::pipes`].
    pub pipe: usize,
    /// The pipe's id (`pipe:[8844]`).
    pub pipe_id: String,
    /// The pipe's fill, when it was measured.
    pub fill: Option<PipeFill>,
    /// What the process is doing.
    pub activity: Activity,
    /// What it is doing with this end: [`EndState::Reading`] or [`EndState::Writing`]
    /// when it is blocked on it.
    pub state: EndState,
    /// Every process on the other side (writers of a read end, readers of a write end),
    /// this process included when it holds the other side too.
    pub others: Vec<OtherEnd>,
    /// What would end the wait.
    pub need: Need,
    /// The pipe's findings from its ends.
    pub findings: Vec<Finding>,
    /// The confirmed wait-for findings about this pipe.
    pub diagnoses: Vec<Diagnosis>,
    /// Descriptors in flight in UNIX sockets anywhere (one may be an end of this pipe).
    pub in_flight: u64,
    /// Processes the scan could not inspect (one may hold an end).
    pub not_inspected: usize,
    /// The scan runs in a pid namespace: ends may be held by processes outside it.
    pub partial_view: bool,
    /// The answer for a person, in a few sentences.
    pub message: String,
}

/// Explains what handle `handle` of process `pid` waits for. Fails with
/// [`Error::InvalidInput`] when the process is unknown, could not be inspected, or the
/// handle is not an end of a pipe.
pub fn explain(graph: &PipeGraph<'_>, live: &LiveState, pid: Pid, handle: u64) -> Result<Why> {
    let label = handle_label(handle);
    let Some(index) = graph
        .pipes
        .iter()
        .position(|p| p.end(pid, handle).is_some())
    else {
        let snapshot = graph.snapshot();
        if let Some(e) = snapshot.errors.iter().find(|e| e.pid == pid) {
            return Err(Error::InvalidInput(format!(
                "process {pid} could not be inspected: {}",
                e.message
            )));
        }
        let Some(p) = graph.process(pid) else {
            return Err(Error::InvalidInput(format!("no process {pid}")));
        };
        return Err(Error::InvalidInput(format!(
            "{label} of process {pid} ({}) is not an end of a pipe",
            p.name
        )));
    };
    let pipe = &graph.pipes[index];
    let Some(end) = pipe.end(pid, handle).cloned() else {
        return Err(Error::InvalidInput(format!("no {label} in process {pid}")));
    };
    let side = if end.mode.reads() || !end.mode.writes() {
        Side::Read
    } else {
        Side::Write
    };
    let other_ends: &[PipeEnd] = match side {
        Side::Read => &pipe.writers,
        Side::Write => &pipe.readers,
    };
    let others = other_processes(graph, live, pipe, other_ends);
    let holders: Vec<(ProcessRef, Vec<u64>)> = others
        .iter()
        .map(|o| (o.process.clone(), o.handles.iter().map(|h| h.0).collect()))
        .collect();
    let need = match (side, holders.is_empty()) {
        (Side::Read, false) => Need::EndOfFile { holders },
        (Side::Read, true) => Need::Drained,
        (Side::Write, false) => Need::Room { readers: holders },
        (Side::Write, true) => Need::Broken,
    };
    let snapshot = graph.snapshot();
    let mut why = Why {
        process: process_ref(graph, pid),
        end,
        side,
        pipe: index,
        pipe_id: pipe.id(),
        fill: live.fill(index).cloned(),
        activity: live.activity(pid).clone(),
        state: live.activity(pid).at_end(handle),
        others,
        need,
        findings: pipe.findings.clone(),
        diagnoses: live.findings_for(index).cloned().collect(),
        in_flight: graph.in_flight.iter().map(|f| f.count).sum(),
        not_inspected: snapshot.errors.len(),
        partial_view: live.partial_view,
        message: String::new(),
    };
    why.message = message(&why);
    Ok(why)
}

fn process_ref(graph: &PipeGraph<'_>, pid: Pid) -> ProcessRef {
    ProcessRef {
        pid,
        name: graph.process_name(pid).to_string(),
    }
}

/// The processes holding `ends`, each once, in pid order.
fn other_processes(
    graph: &PipeGraph<'_>,
    live: &LiveState,
    pipe: &Pipe,
    ends: &[PipeEnd],
) -> Vec<OtherEnd> {
    let mut out: Vec<OtherEnd> = Vec::new();
    for e in ends {
        if let Some(o) = out.iter_mut().find(|o| o.process.pid == e.pid) {
            o.handles.push((e.handle, e.mode));
            continue;
        }
        let ancestry = ancestry(graph, e.pid);
        let shared = shared_refs(pipe, e);
        let origin = origin(graph, &ancestry, &shared);
        out.push(OtherEnd {
            process: process_ref(graph, e.pid),
            handles: vec![(e.handle, e.mode)],
            activity: live.activity(e.pid).clone(),
            state: live.end_state(e),
            orphaned: live.processes.get(&e.pid).is_some_and(|s| s.orphaned),
            extra_writer: pipe.findings.iter().any(|f| {
                f.kind == crate::graph::FindingKind::ExtraWriter
                    && f.pid == Some(e.pid)
                    && f.handle == Some(e.handle)
            }),
            origin,
            ancestry,
            started_ms: graph.process(e.pid).and_then(|p| p.start_time_ms),
            shared_with: shared,
        });
    }
    out
}

/// The parents of `pid` as far as the scan saw them, then the first one it did not see
/// (named from the scan's errors, or `?`), so a chain always says where it ends.
fn ancestry(graph: &PipeGraph<'_>, pid: Pid) -> Vec<ProcessRef> {
    let seen = graph.ancestors(pid);
    let mut chain: Vec<ProcessRef> = seen
        .iter()
        .map(|p| ProcessRef {
            pid: p.pid,
            name: p.name.clone(),
        })
        .collect();
    let last_parent = match seen.last() {
        Some(p) => p.ppid,
        None => graph.process(pid).and_then(|p| p.ppid),
    };
    if let Some(pp) = last_parent.filter(|&pp| pp != 0 && pp != pid) {
        if !chain.iter().any(|p| p.pid == pp) && graph.process(pp).is_none() {
            let name = graph
                .snapshot()
                .errors
                .iter()
                .find(|e| e.pid == pp)
                .and_then(|e| e.process.clone())
                .unwrap_or_else(|| "?".to_string());
            chain.push(ProcessRef { pid: pp, name });
        }
    }
    chain
}

/// Every handle known to share `e`'s open file description: the ones the scan proved,
/// and the ends of this pipe with the same description number.
fn shared_refs(pipe: &Pipe, e: &PipeEnd) -> Vec<HandleRef> {
    let mut refs: Vec<HandleRef> = e.shared_with.clone();
    if let Some(d) = e.description {
        refs.extend(
            pipe.ends()
                .filter(|o| o.description == Some(d) && (o.pid, o.handle) != (e.pid, e.handle))
                .map(PipeEnd::handle_ref),
        );
    }
    refs.sort_unstable();
    refs.dedup();
    refs
}

fn origin(graph: &PipeGraph<'_>, ancestry: &[ProcessRef], shared: &[HandleRef]) -> Origin {
    // The nearest ancestor sharing the description is where it came from.
    for a in ancestry {
        if let Some(r) = shared.iter().find(|r| r.pid == a.pid) {
            return Origin::Inherited {
                from: a.clone(),
                handle: r.handle,
            };
        }
    }
    if let Some(r) = shared.first() {
        return Origin::Shares {
            with: process_ref(graph, r.pid),
            handle: r.handle,
        };
    }
    // A pipes scan compares every end of a pipe; without any description numbers (no
    // end shares with another) the end is alone. Windows gives no descriptions at all.
    if cfg!(windows) {
        Origin::Unknown
    } else {
        Origin::Alone
    }
}

fn names(list: &[(ProcessRef, Vec<u64>)]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|(p, _)| format!("{} {}", p.pid, p.name))
        .collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn handles_text(list: &[(ProcessRef, Vec<u64>)]) -> String {
    let mut fds: Vec<u64> = list.iter().flat_map(|(_, h)| h.iter().copied()).collect();
    fds.sort_unstable();
    fds.dedup();
    let items: Vec<String> = fds.into_iter().map(handle_label).collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn message(w: &Why) -> String {
    let who = format!(
        "{} {} ({})",
        w.process.pid,
        w.process.name,
        handle_label(w.end.handle)
    );
    let fill = match &w.fill {
        Some(PipeFill {
            fill: Ok(f),
            capacity,
        }) => format!(" ({})", fill_text(Some(*f), *capacity)),
        _ => String::new(),
    };
    let doing = match w.state {
        EndState::Reading => format!("is blocked reading {}{fill}", w.pipe_id),
        EndState::Writing => format!("is blocked writing {}{fill}", w.pipe_id),
        EndState::Unknown => format!(
            "{} {}{fill} (what it is doing is not known)",
            if w.side == Side::Read {
                "reads"
            } else {
                "writes"
            },
            w.pipe_id,
        ),
        _ => format!(
            "{} {}{fill}; it is not blocked on it ({})",
            if w.side == Side::Read {
                "reads"
            } else {
                "writes"
            },
            w.pipe_id,
            w.activity.describe()
        ),
    };
    let mut s = format!("{who} {doing}.");
    match &w.need {
        Need::EndOfFile { holders } => {
            let n = holders.len();
            s.push_str(&format!(
                " It sees end-of-file only when every write end is closed: end-of-file \
                 needs {}{}.",
                exit_or_close(
                    &holders
                        .iter()
                        .map(|(p, h)| (format!("{} {}", p.pid, p.name), h.clone()))
                        .collect::<Vec<_>>()
                ),
                if n == 1 && holders[0].0.pid == w.process.pid {
                    " (it holds a write end itself)"
                } else {
                    ""
                }
            ));
        }
        Need::Drained => s.push_str(
            " No process holds a write end, so it sees end-of-file once the pipe is drained.",
        ),
        Need::Room { readers } => s.push_str(&format!(
            " A blocked write needs a reader to read: {} {} {}.",
            names(readers),
            if readers.len() == 1 { "holds" } else { "hold" },
            handles_text(readers),
        )),
        Need::Broken => {
            s.push_str(" No process holds a read end: the next write fails with EPIPE (SIGPIPE).")
        }
    }
    let lost_side = matches!(w.need, Need::Drained | Need::Broken);
    if w.partial_view && lost_side {
        s.push_str(
            " This scan runs inside a pid namespace and cannot see processes outside it: \
             the other end may be held there.",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::activity::ProcessState;
    use crate::graph::GraphOptions;
    use crate::model::{
        Handle, HandleDetails, Name, ObjectId, ObjectType, PipeKind, Process, ScanError, Snapshot,
    };

    fn end(fd: u64, mode: Mode, shared: &[(Pid, u64)]) -> Handle {
        Handle {
            handle: fd,
            object_type: ObjectType::new("pipe"),
            mode,
            name: Name::from("pipe:[100]"),
            object: Some(ObjectId::Inode { dev: 0, ino: 100 }),
            pipe: Some(PipeKind::Anonymous),
            flags: None,
            access: None,
            details: Some(Box::new(HandleDetails {
                shared_with: shared
                    .iter()
                    .map(|&(pid, handle)| HandleRef { pid, handle })
                    .collect(),
                ..HandleDetails::default()
            })),
        }
    }

    fn process(pid: Pid, ppid: Pid, name: &str, handles: Vec<Handle>) -> Process {
        Process {
            pid,
            ppid: Some(ppid),
            name: name.into(),
            name_bytes: None,
            user: None,
            uid: None,
            start_time_ms: Some(1_000),
            handles,
        }
    }

    /// `sh` (10) keeps a copy (fd 5) of the write end its child `sleep` (11) writes on
    /// fd 1; `cat` (12) reads. pid 1 could not be inspected.
    fn snapshot() -> Snapshot {
        Snapshot {
            processes: vec![
                process(10, 1, "sh", vec![end(5, Mode::Write, &[(11, 1)])]),
                process(11, 10, "sleep", vec![end(1, Mode::Write, &[(10, 5)])]),
                process(12, 10, "cat", vec![end(0, Mode::Read, &[])]),
            ],
            errors: vec![ScanError {
                pid: 1,
                process: Some("init".into()),
                kind: crate::ErrorKind::PermissionDenied,
                message: "permission denied".into(),
            }],
            vanished: 0,
        }
    }

    fn live(activities: &[(Pid, Activity)]) -> LiveState {
        let mut processes = BTreeMap::new();
        for (pid, a) in activities {
            processes.insert(
                *pid,
                ProcessState {
                    activity: a.clone(),
                    ..ProcessState::unknown()
                },
            );
        }
        LiveState {
            processes,
            fills: vec![Some(PipeFill {
                fill: Ok(0),
                capacity: Some(65536),
            })],
            findings: Vec::new(),
            looks: 1,
            partial_view: false,
        }
    }

    const OPTS: GraphOptions = GraphOptions {
        stdout_handle: Some(1),
        partial_view: false,
    };

    #[test]
    fn a_read_end_names_every_writer_its_origin_and_what_end_of_file_needs() {
        let snap = snapshot();
        let g = PipeGraph::build(&snap, &OPTS);
        let state = live(&[
            (10, Activity::WaitingForChild { child: Some(11) }),
            (
                11,
                Activity::Sleeping {
                    reason: Some("nanosleep".into()),
                },
            ),
            (12, Activity::Reading { handle: Some(0) }),
        ]);
        let w = explain(&g, &state, 12, 0).unwrap();
        assert_eq!((w.side, w.state), (Side::Read, EndState::Reading));
        let pids: Vec<Pid> = w.others.iter().map(|o| o.process.pid).collect();
        assert_eq!(pids, vec![10, 11]);
        // The child got its end from its parent, which still holds it.
        assert_eq!(
            w.others[1].origin,
            Origin::Inherited {
                from: ProcessRef {
                    pid: 10,
                    name: "sh".into()
                },
                handle: 5
            }
        );
        // The parent shares it with a child: not where it came from.
        assert!(
            matches!(&w.others[0].origin, Origin::Shares { with, handle: 1 } if with.pid == 11)
        );
        assert_eq!(w.others[1].state, EndState::Idle);
        assert_eq!(w.others[0].state, EndState::WaitingForChild);
        // The parent chain ends at the first process the scan could not see, named.
        let chain: Vec<(Pid, &str)> = w.others[1]
            .ancestry
            .iter()
            .map(|p| (p.pid, p.name.as_str()))
            .collect();
        assert_eq!(chain, vec![(10, "sh"), (1, "init")]);
        assert_eq!(
            w.need,
            Need::EndOfFile {
                holders: vec![
                    (
                        ProcessRef {
                            pid: 10,
                            name: "sh".into()
                        },
                        vec![5]
                    ),
                    (
                        ProcessRef {
                            pid: 11,
                            name: "sleep".into()
                        },
                        vec![1]
                    ),
                ]
            }
        );
        let fd = handle_label;
        assert!(
            w.message.starts_with(&format!(
                "12 cat ({}) is blocked reading pipe:[100] (empty).",
                fd(0)
            )),
            "{}",
            w.message
        );
        assert!(
            w.message.contains(&format!(
                "end-of-file needs 10 sh ({}) and 11 sleep ({}) to exit or close them",
                fd(5),
                fd(1)
            )),
            "{}",
            w.message
        );
        // The sh's copy is a stray: the pipe's own finding says so.
        assert!(w.others[0].extra_writer);
    }

    #[test]
    fn a_write_end_needs_a_reader_and_unknowns_are_said() {
        let snap = snapshot();
        let g = PipeGraph::build(&snap, &OPTS);
        let w = explain(&g, &live(&[]), 11, 1).unwrap();
        assert_eq!(w.side, Side::Write);
        assert_eq!(w.state, EndState::Unknown);
        assert!(
            matches!(&w.need, Need::Room { readers } if readers.len() == 1 && readers[0].0.pid == 12)
        );
        assert!(
            w.message.contains("what it is doing is not known"),
            "{}",
            w.message
        );
        assert!(!w.message.contains("not blocked"), "{}", w.message);
    }

    #[test]
    fn bad_targets_are_typed_errors() {
        let snap = snapshot();
        let g = PipeGraph::build(&snap, &OPTS);
        let state = live(&[]);
        let msg = |pid, fd| explain(&g, &state, pid, fd).unwrap_err().to_string();
        assert!(
            msg(12, 7).contains("is not an end of a pipe"),
            "{}",
            msg(12, 7)
        );
        assert_eq!(msg(99, 0), "no process 99");
        assert!(msg(1, 0).contains("could not be inspected: permission denied"));
        assert_eq!(
            explain(&g, &state, 99, 0).unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn a_lost_side_in_a_pid_namespace_says_the_end_may_be_outside() {
        let snap = Snapshot {
            processes: vec![process(12, 1, "cat", vec![end(0, Mode::Read, &[])])],
            ..Snapshot::default()
        };
        let g = PipeGraph::build(&snap, &OPTS);
        let mut state = live(&[(12, Activity::Reading { handle: Some(0) })]);
        state.partial_view = true;
        let w = explain(&g, &state, 12, 0).unwrap();
        assert_eq!(w.need, Need::Drained);
        assert!(
            w.message.contains("the other end may be held there"),
            "{}",
            w.message
        );
    }
}
