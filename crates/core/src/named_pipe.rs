//! Windows named pipes (`\\.\pipe\NAME`) as Sysinternals PipeList lists them — name,
//! current and maximum instances — plus what PipeList cannot show: the processes holding
//! each end (from the handle scan), what each end may do, and what is wrong with them.
//!
//! The model and the findings here are OS-neutral and pure; [`crate::named_pipes`] fills
//! them in on Windows and returns [`crate::Error::Unsupported`] elsewhere (a Linux FIFO is
//! a pipe of `pipescope pipes`).

use std::collections::BTreeMap;

use crate::model::{Mode, Pid};

/// Which end of a named-pipe instance a handle is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PipeSide {
    /// The end made by `CreateNamedPipe` (the server).
    Server,
    /// The end opened with `CreateFile` (a client).
    Client,
}

impl PipeSide {
    /// `server` or `client`.
    pub fn as_str(self) -> &'static str {
        match self {
            PipeSide::Server => "server",
            PipeSide::Client => "client",
        }
    }
}

/// The state of a named-pipe instance as one of its ends sees it (`NamedPipeState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PipeState {
    /// `FILE_PIPE_DISCONNECTED_STATE`: the server disconnected the instance.
    Disconnected,
    /// `FILE_PIPE_LISTENING_STATE`: the server instance waits for a client.
    Listening,
    /// `FILE_PIPE_CONNECTED_STATE`: a server and a client are joined.
    Connected,
    /// `FILE_PIPE_CLOSING_STATE`: the other end has closed its handle.
    Closing,
}

impl PipeState {
    /// `disconnected`, `listening`, `connected` or `closing`.
    pub fn as_str(self) -> &'static str {
        match self {
            PipeState::Disconnected => "disconnected",
            PipeState::Listening => "listening",
            PipeState::Connected => "connected",
            PipeState::Closing => "closing",
        }
    }

    /// From the `NamedPipeState` number (1 to 4).
    pub fn from_raw(state: u32) -> Option<PipeState> {
        match state {
            1 => Some(PipeState::Disconnected),
            2 => Some(PipeState::Listening),
            3 => Some(PipeState::Connected),
            4 => Some(PipeState::Closing),
            _ => None,
        }
    }
}

/// One handle to an end of a named pipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPipeEnd {
    /// The process holding it.
    pub pid: Pid,
    /// That process's image name.
    pub process: String,
    /// The handle value.
    pub handle: u64,
    /// Server or client, when the pipe could be asked.
    pub side: Option<PipeSide>,
    /// The instance's state as this end sees it, when the pipe could be asked.
    pub state: Option<PipeState>,
    /// The granted access mask.
    pub access: Option<u32>,
    /// What the handle may do with the data, in short.
    pub mode: Mode,
}

/// Maximum instances of a named pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaxInstances {
    /// At most this many.
    Limited(u32),
    /// `PIPE_UNLIMITED_INSTANCES`.
    Unlimited,
}

impl MaxInstances {
    /// From the raw count, where `u32::MAX` (-1) means unlimited.
    pub fn from_raw(n: u32) -> MaxInstances {
        if n == u32::MAX {
            MaxInstances::Unlimited
        } else {
            MaxInstances::Limited(n)
        }
    }
}

/// What is wrong with a named-pipe end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NamedFindingKind {
    /// A server instance listens and no client has connected.
    NoClient,
    /// A server instance whose client closed its end; the server has not disconnected.
    ClientGone,
    /// A client whose server instance has gone (closed or disconnected): its reads fail.
    ServerGone,
}

impl NamedFindingKind {
    /// `no-client`, `client-gone` or `server-gone`.
    pub fn as_str(self) -> &'static str {
        match self {
            NamedFindingKind::NoClient => "no-client",
            NamedFindingKind::ClientGone => "client-gone",
            NamedFindingKind::ServerGone => "server-gone",
        }
    }
}

/// A finding about one end of a named pipe; the sentence is one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedFinding {
    /// What is wrong.
    pub kind: NamedFindingKind,
    /// The process holding the end.
    pub pid: Pid,
    /// The handle.
    pub handle: u64,
    /// One sentence for a person.
    pub message: String,
}

/// One named pipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPipe {
    /// Its name under `\\.\pipe\`; empty for ends whose pipe no longer has a name (a
    /// client whose server has gone, on Wine).
    pub name: String,
    /// Instances that exist now, when known.
    pub instances: Option<u32>,
    /// Instances allowed, when known.
    pub max_instances: Option<MaxInstances>,
    /// Every handle to an end of it that the scan saw, by pid and handle.
    pub ends: Vec<NamedPipeEnd>,
    /// What is wrong with its ends.
    pub findings: Vec<NamedFinding>,
}

/// Every named pipe found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedPipes {
    /// By name (case-insensitive order, as the file system compares them).
    pub pipes: Vec<NamedPipe>,
    /// Whether the named-pipe directory could be listed. When it could not (Wine does
    /// not list it), only pipes with a handle open in a scanned process are shown.
    pub listed: bool,
    /// Processes the scan could not inspect.
    pub errors: Vec<crate::ScanError>,
}

/// A pipe as the named-pipe directory lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedPipe {
    /// Name under `\\.\pipe\`.
    pub name: String,
    /// Current instances.
    pub instances: u32,
    /// Maximum instances.
    pub max_instances: MaxInstances,
}

/// An end found by the handle scan, with what its pipe said of itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundEnd {
    /// Name under `\\.\pipe\` (empty when the handle's object has none).
    pub name: String,
    /// The end.
    pub end: NamedPipeEnd,
    /// `CurrentInstances` and `MaximumInstances` as this end's pipe reports them.
    pub instances: Option<(u32, MaxInstances)>,
}

/// Joins the directory listing (when there is one) and the ends found by the handle
/// scan into pipes, and finds what is wrong with each end.
pub fn assemble(listing: Option<Vec<ListedPipe>>, found: Vec<FoundEnd>) -> Vec<NamedPipe> {
    let key = |n: &str| n.to_lowercase();
    let mut pipes: BTreeMap<String, NamedPipe> = BTreeMap::new();
    for l in listing.into_iter().flatten() {
        pipes.insert(
            key(&l.name),
            NamedPipe {
                name: l.name,
                instances: Some(l.instances),
                max_instances: Some(l.max_instances),
                ends: Vec::new(),
                findings: Vec::new(),
            },
        );
    }
    for f in found {
        let p = pipes.entry(key(&f.name)).or_insert_with(|| NamedPipe {
            name: f.name.clone(),
            instances: None,
            max_instances: None,
            ends: Vec::new(),
            findings: Vec::new(),
        });
        if let (None, Some((cur, max))) = (p.instances, f.instances) {
            // Unnamed ends belong to different pipes: their counts say nothing together.
            if !f.name.is_empty() {
                p.instances = Some(cur);
                p.max_instances = Some(max);
            }
        }
        p.ends.push(f.end);
    }
    let mut out: Vec<NamedPipe> = pipes.into_values().collect();
    for p in &mut out {
        p.ends.sort_by_key(|e| (e.pid, e.handle));
        p.findings = p.ends.iter().filter_map(finding).collect();
    }
    out
}

fn finding(e: &NamedPipeEnd) -> Option<NamedFinding> {
    let (kind, message) = match (e.side?, e.state?) {
        (PipeSide::Server, PipeState::Listening) => (
            NamedFindingKind::NoClient,
            format!(
                "server instance (pid {} handle {:#x}) waits for a client; none has connected",
                e.pid, e.handle
            ),
        ),
        (PipeSide::Server, PipeState::Closing) => (
            NamedFindingKind::ClientGone,
            format!(
                "the client of this server instance (pid {} handle {:#x}) has closed its end; \
                 the server has not disconnected it",
                e.pid, e.handle
            ),
        ),
        (PipeSide::Client, PipeState::Closing | PipeState::Disconnected) => (
            NamedFindingKind::ServerGone,
            format!(
                "client (pid {} handle {:#x}) holds an instance whose server has gone: \
                 its reads and writes fail",
                e.pid, e.handle
            ),
        ),
        _ => return None,
    };
    Some(NamedFinding {
        kind,
        pid: e.pid,
        handle: e.handle,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(pid: Pid, handle: u64, side: PipeSide, state: u32) -> NamedPipeEnd {
        NamedPipeEnd {
            pid,
            process: format!("p{pid}.exe"),
            handle,
            side: Some(side),
            state: PipeState::from_raw(state),
            access: Some(0x12019f),
            mode: Mode::ReadWrite,
        }
    }

    fn found(name: &str, e: NamedPipeEnd, cur: u32, max: u32) -> FoundEnd {
        FoundEnd {
            name: name.into(),
            end: e,
            instances: Some((cur, MaxInstances::from_raw(max))),
        }
    }

    #[test]
    fn listing_and_holders_join_by_name_in_any_case() {
        let listing = vec![
            ListedPipe {
                name: "Demo".into(),
                instances: 2,
                max_instances: MaxInstances::Limited(3),
            },
            ListedPipe {
                name: "lonely".into(),
                instances: 1,
                max_instances: MaxInstances::Unlimited,
            },
        ];
        let ends = vec![
            found("demo", end(9, 0x40, PipeSide::Client, 3), 2, 3),
            found("Demo", end(7, 0x30, PipeSide::Server, 3), 2, 3),
            found("Demo", end(7, 0x34, PipeSide::Server, 2), 2, 3),
        ];
        let pipes = assemble(Some(listing), ends);
        assert_eq!(pipes.len(), 2);
        let demo = &pipes[0];
        assert_eq!(demo.name, "Demo");
        assert_eq!(demo.instances, Some(2));
        assert_eq!(demo.max_instances, Some(MaxInstances::Limited(3)));
        let held: Vec<(Pid, u64)> = demo.ends.iter().map(|e| (e.pid, e.handle)).collect();
        assert_eq!(held, [(7, 0x30), (7, 0x34), (9, 0x40)]);
        assert_eq!(demo.findings.len(), 1);
        assert_eq!(demo.findings[0].kind, NamedFindingKind::NoClient);
        assert_eq!((demo.findings[0].pid, demo.findings[0].handle), (7, 0x34));
        assert!(pipes[1].ends.is_empty() && pipes[1].findings.is_empty());
        assert_eq!(pipes[1].max_instances, Some(MaxInstances::Unlimited));
    }

    #[test]
    fn without_a_listing_counts_come_from_the_ends() {
        let ends = vec![
            found("svc", end(7, 0x30, PipeSide::Server, 4), 1, u32::MAX),
            found("", end(9, 0x44, PipeSide::Client, 4), 1, 1),
        ];
        let pipes = assemble(None, ends);
        let (gone, svc) = (&pipes[0], &pipes[1]);
        assert_eq!(gone.name, "");
        assert_eq!(gone.instances, None, "unnamed ends say nothing of one pipe");
        assert_eq!(gone.findings[0].kind, NamedFindingKind::ServerGone);
        assert_eq!(svc.instances, Some(1));
        assert_eq!(svc.max_instances, Some(MaxInstances::Unlimited));
        assert_eq!(svc.findings[0].kind, NamedFindingKind::ClientGone);
    }

    #[test]
    fn connected_ends_are_fine() {
        let ends = vec![
            found("ok", end(7, 0x30, PipeSide::Server, 3), 1, 1),
            found("ok", end(9, 0x30, PipeSide::Client, 3), 1, 1),
        ];
        assert!(assemble(None, ends)[0].findings.is_empty());
    }
}
