//! The JSON wire types: every JSON document pipescope prints is built from these, so the
//! schema is in one place. They borrow from the library's model and derive `Serialize`;
//! lists are serialized from iterators, so a large scan streams out without being built
//! as one string. The schema is stable: fields may be added, never renamed or removed.
//!
//! Names: `name` is always a string. A name that is not valid UTF-8 (possible on Linux)
//! has its invalid bytes replaced by U+FFFD in `name`, and carries its exact bytes in
//! `name_b64` (standard base64); `name_b64` is absent whenever `name` is exact.
use std::borrow::Cow;
use std::cell::RefCell;

use pipescope_core::{
    ErrorKind, Handle, HandleDetails, HandleRef, Name, ObjectId, Process, ScanError,
};
use serde::{Serialize, Serializer};

use crate::out;

pub mod access;

// `pipescope handles --json` prints one object, streamed by `cmd/handles.rs`:
// `{"processes": [ProcessJson…], "errors": [ErrorJson…], "vanished": N}`, and with `-l`
// `"shared": [[HandleRefJson…]…]`: the open file descriptions held by more than one
// handle (a streaming scan learns them only at its end, so they are not per handle).

/// One process and its handles.
#[derive(Debug, Serialize)]
pub struct ProcessJson<'a> {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
    /// Short name (Linux `comm`); invalid UTF-8 replaced by U+FFFD (then `name_b64` has
    /// the exact bytes).
    pub name: &'a str,
    /// The exact bytes of the name in standard base64, only when it is not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_b64: Option<String>,
    /// Owner's user name (the number when it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    /// Owner's numeric user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Start time, milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time_ms: Option<u64>,
    /// The handles, in handle order.
    pub handles: Stream<Box<dyn Iterator<Item = HandleJson<'a>> + 'a>>,
}

impl<'a> ProcessJson<'a> {
    /// The wire form of `p`, with the handles `handles` yields.
    pub fn new(p: &'a Process, handles: impl Iterator<Item = &'a Handle> + 'a) -> Self {
        ProcessJson {
            pid: p.pid,
            ppid: p.ppid,
            name: &p.name,
            name_b64: p.name_bytes.as_deref().map(out::base64),
            user: p.user.as_deref(),
            uid: p.uid,
            start_time_ms: p.start_time_ms,
            handles: Stream::new(Box::new(handles.map(HandleJson::new))),
        }
    }
}

/// One handle.
#[derive(Debug, Serialize)]
pub struct HandleJson<'a> {
    /// The handle value (Linux fd number).
    pub handle: u64,
    /// What the object is: `file`, `dir`, `pipe`, `fifo`, `socket`, `char`, `block`,
    /// `eventfd`, `epoll`, `timerfd`, `signalfd`, `inotify`, `pidfd`, `memfd`, `io_uring`,
    /// `namespace`, … (Linux); the object type name on Windows.
    #[serde(rename = "type")]
    pub object_type: &'a str,
    /// `r`, `w`, `rw`, `-` (no data access, e.g. `O_PATH`) or `?` (unknown).
    pub mode: &'static str,
    /// The object's name: a path, `pipe:[8844]`, `socket:[N]`, `anon_inode:[eventfd]`…;
    /// invalid UTF-8 replaced by U+FFFD (then `name_b64` has the exact bytes).
    pub name: Cow<'a, str>,
    /// The exact bytes of the name in standard base64, only when it is not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_b64: Option<String>,
    /// Inode number of the object, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
    /// Device of the object (`st_dev` as one number; 0 for pipes and sockets), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<u64>,
    /// Windows: the kernel object's address, as `0x…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_address: Option<String>,
    /// `anonymous`, `fifo` or `named` when the handle is an end of a pipe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipe: Option<&'static str>,
    /// Linux open flags (fdinfo `flags:`), with `-l`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<FlagsJson>,
    /// Windows: the granted access mask.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<u32>,
    /// Windows: the granted access decoded for the object's type (with `access`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_decoded: Option<AccessJson>,
    /// Handle Properties, with `-l`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<DetailsJson<'a>>,
}

impl<'a> HandleJson<'a> {
    /// The wire form of `h`.
    pub fn new(h: &'a Handle) -> Self {
        let (inode, dev, object_address) = match &h.object {
            Some(ObjectId::Inode { dev, ino }) => (Some(*ino), Some(*dev), None),
            Some(ObjectId::Address(a)) => (None, None, Some(format!("{a:#x}"))),
            Some(ObjectId::Name(_)) | None => (None, None, None),
        };
        let NameJson { name, name_b64 } = NameJson::new(&h.name);
        HandleJson {
            handle: h.handle,
            object_type: h.object_type.as_str(),
            mode: h.mode.as_str(),
            name,
            name_b64,
            inode,
            dev,
            object_address,
            pipe: h.pipe.map(|k| k.as_str()),
            flags: h.flags.map(FlagsJson::new),
            access: h.access,
            access_decoded: h.access.map(|m| AccessJson::new(m, h.object_type.as_str())),
            details: h.details.as_deref().map(DetailsJson::new),
        }
    }
}

/// `name` (a string, exact when the name is UTF-8) and `name_b64` (the exact bytes,
/// only when they are not valid UTF-8).
#[derive(Debug, Serialize)]
pub struct NameJson<'a> {
    /// The name as text; invalid UTF-8 bytes replaced by U+FFFD.
    pub name: Cow<'a, str>,
    /// The exact bytes in standard base64, present only when `name` is not exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_b64: Option<String>,
}

impl<'a> NameJson<'a> {
    /// The wire form of a name.
    pub fn new(n: &'a Name) -> Self {
        match std::str::from_utf8(n.as_bytes()) {
            Ok(s) => NameJson {
                name: Cow::Borrowed(s),
                name_b64: None,
            },
            Err(_) => NameJson {
                name: n.to_string_lossy(),
                name_b64: Some(out::base64(n.as_bytes())),
            },
        }
    }
}

/// Open flags: the mask and the names of its bits (`O_WRONLY`, `O_CLOEXEC`…).
#[derive(Debug, Serialize)]
pub struct FlagsJson {
    /// The flags as fdinfo gives them (a number; fdinfo prints it in octal).
    pub mask: u32,
    /// The flags by name, access mode first.
    pub names: Vec<&'static str>,
}

impl FlagsJson {
    /// The wire form of open flags.
    pub fn new(mask: u32) -> Self {
        FlagsJson {
            mask,
            names: pipescope_access::fd_flag_names(mask),
        }
    }
}

/// A Windows access mask decoded with the access crate for the handle's object type.
#[derive(Debug, Serialize)]
pub struct AccessJson {
    /// The mask in hex, `0x120189`.
    pub hex: String,
    /// Well-known combinations folded (`FILE_GENERIC_READ`), then the other rights.
    pub compact: Vec<&'static str>,
    /// Every set right by name, in bit order.
    pub rights: Vec<&'static str>,
    /// Bits with no name for this type.
    pub unknown: u32,
    /// The rights in plain words.
    pub summary: String,
}

impl AccessJson {
    /// Decodes `mask` for the type named `object_type` (no type when the access crate
    /// does not know it: then only standard and generic bits are named).
    pub fn new(mask: u32, object_type: &str) -> Self {
        let d = pipescope_access::decode(mask, pipescope_access::lookup_type(object_type));
        AccessJson {
            hex: format!("{mask:#x}"),
            compact: d.compact.clone(),
            rights: d.names().collect(),
            unknown: d.unknown,
            summary: d.summary(),
        }
    }
}

/// The Handle Properties (`-l`).
#[derive(Debug, Serialize)]
pub struct DetailsJson<'a> {
    /// File position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos: Option<u64>,
    /// Mount id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mnt_id: Option<u64>,
    /// Inode number (fdinfo `ino:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ino: Option<u64>,
    /// The type-specific fdinfo lines, in order, as `{"key": …, "value": …}`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub extra: Vec<KeyValue<'a>>,
    /// Windows: handle count of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle_count: Option<u32>,
    /// Windows: pointer count of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer_count: Option<u32>,
    /// Windows: handle attributes.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub attributes: &'a [&'static str],
    /// Windows: the kernel object's address as `0x…`, or `hidden` when the OS does not
    /// show it (Wine; Windows 11 24H2 and later without SeDebugPrivilege).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_address: Option<String>,
    /// Windows: paged pool quota charged for the object, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paged_quota: Option<u32>,
    /// Windows: non-paged pool quota charged for the object, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonpaged_quota: Option<u32>,
    /// Why the name could not be read (then `name` is empty), e.g. a name query that did
    /// not answer within 1 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_unavailable: Option<&'a str>,
}

impl<'a> DetailsJson<'a> {
    /// The wire form of handle details.
    pub fn new(d: &'a HandleDetails) -> Self {
        DetailsJson {
            pos: d.pos,
            mnt_id: d.mnt_id,
            ino: d.ino,
            extra: d
                .extra
                .iter()
                .map(|(k, v)| KeyValue { key: k, value: v })
                .collect(),
            handle_count: d.handle_count,
            pointer_count: d.pointer_count,
            attributes: &d.attributes,
            object_address: object_address(d),
            paged_quota: d.paged_quota,
            nonpaged_quota: d.nonpaged_quota,
            name_unavailable: d.name_unavailable.as_deref(),
        }
    }
}

/// Windows: the object address as `0x…`, or `hidden` (never `0x0`); elsewhere none.
pub fn object_address(d: &HandleDetails) -> Option<String> {
    match d.object_address {
        Some(a) => Some(format!("{a:#x}")),
        None if cfg!(windows) => Some("hidden".to_owned()),
        None => None,
    }
}

/// The wire form of shared open file descriptions: each as the handles holding it.
pub fn shared(classes: &[Vec<HandleRef>]) -> Vec<Vec<HandleRefJson>> {
    classes
        .iter()
        .map(|c| {
            c.iter()
                .map(|r| HandleRefJson {
                    pid: r.pid,
                    handle: r.handle,
                })
                .collect()
        })
        .collect()
}

/// Another handle, by process and value.
#[derive(Debug, Serialize)]
pub struct HandleRefJson {
    /// The process holding it.
    pub pid: u32,
    /// The handle value.
    pub handle: u64,
}

/// One type-specific line.
#[derive(Debug, Serialize)]
pub struct KeyValue<'a> {
    /// The key, e.g. `eventfd-count`, `tfd`.
    pub key: &'a str,
    /// The rest of the line.
    pub value: &'a str,
}

/// A process that could not be inspected.
#[derive(Debug, Serialize)]
pub struct ErrorJson<'a> {
    /// The process.
    pub pid: u32,
    /// Its name, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<&'a str>,
    /// `permission_denied`, `gone`, `unsupported`, `invalid_input` or `os`.
    pub kind: &'static str,
    /// One line for a person, e.g. `permission denied`.
    pub error: &'a str,
}

impl<'a> ErrorJson<'a> {
    /// The wire form of a scan error.
    pub fn new(e: &'a ScanError) -> Self {
        ErrorJson {
            pid: e.pid,
            process: e.process.as_deref(),
            kind: kind_name(e.kind),
            error: &e.message,
        }
    }
}

/// The wire name of an error kind.
pub fn kind_name(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::PermissionDenied => "permission_denied",
        ErrorKind::Gone => "gone",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::Os => "os",
    }
}

/// `pipescope handles --summary --json`.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    /// Handles listed in all.
    pub total_handles: usize,
    /// Processes listed.
    pub total_processes: usize,
    /// Handle count per type, most first.
    pub by_type: Vec<TypeCount<'a>>,
    /// Handle count per process, in pid order.
    pub by_process: Vec<ProcessCount<'a>>,
    /// Processes that could not be inspected.
    pub errors: Vec<ErrorJson<'a>>,
    /// Processes that exited during the scan.
    pub vanished: usize,
}

/// Handles of one type.
#[derive(Debug, Serialize)]
pub struct TypeCount<'a> {
    /// The type.
    #[serde(rename = "type")]
    pub object_type: &'a str,
    /// How many.
    pub count: usize,
}

/// Handles of one process.
#[derive(Debug, Serialize)]
pub struct ProcessCount<'a> {
    /// The process.
    pub pid: u32,
    /// Its name.
    pub name: &'a str,
    /// How many handles.
    pub count: usize,
}

/// `pipescope pipe --json`.
#[derive(Debug, Serialize)]
pub struct PipeReport<'a> {
    /// The process that made the pipe.
    pub pid: u32,
    /// Bytes the pipe holds before a writer blocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
    /// Both ends in the creating process, read end first.
    pub ends: Vec<PipeEndJson<'a>>,
    /// With `--inherit`: every handle on this pipe in the creator and the child, as a
    /// scan of both processes sees them after the child started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_from: Option<Vec<SeenFrom<'a>>>,
}

/// One end of the demo pipe.
#[derive(Debug, Serialize)]
pub struct PipeEndJson<'a> {
    /// `read` or `write`.
    pub end: &'static str,
    /// The handle.
    #[serde(flatten)]
    pub handle: HandleJson<'a>,
}

/// The demo pipe as one process holds it.
#[derive(Debug, Serialize)]
pub struct SeenFrom<'a> {
    /// The process.
    pub pid: u32,
    /// Its name.
    pub name: &'a str,
    /// `creator` or `child`.
    pub role: &'static str,
    /// Its handles on the pipe.
    pub handles: Vec<HandleJson<'a>>,
}

/// A list serialized straight from an iterator, element by element, so that nothing
/// holds the whole document. It can be serialized once; after that it is empty.
pub struct Stream<I>(RefCell<Option<I>>);

impl<I> Stream<I> {
    /// A list of what `it` yields.
    pub fn new(it: I) -> Self {
        Stream(RefCell::new(Some(it)))
    }
}

impl<I> std::fmt::Debug for Stream<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream(..)")
    }
}

impl<I, T> Serialize for Stream<I>
where
    I: Iterator<Item = T>,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let it = self.0.borrow_mut().take();
        s.collect_seq(it.into_iter().flatten())
    }
}

// --- pipescope pipes ---------------------------------------------------------------------

/// `pipescope pipes --json`: every pipe, its ends and its findings.
#[derive(Debug, Serialize)]
pub struct PipesOutput<'a> {
    /// The pipes, ordered by kind and inode.
    pub pipes: Vec<PipeJson>,
    /// Self-pipes left out (shown with `--all`).
    pub folded: usize,
    /// UNIX sockets holding descriptors sent but not yet received.
    pub in_flight: Vec<InFlightJson>,
    /// Pipe ends that could not be tied to their pipe (Windows 10 and later leave
    /// anonymous pipes unnamed, and nothing a program may ask pairs their ends).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub unpaired: Vec<HandleRefJson>,
    /// Processes the scan could not inspect.
    pub errors: Vec<ErrorJson<'a>>,
    /// The findings of the wait-for graph (deadlocks, orphan writers, stopped readers
    /// and writers), each with its evidence; each also appears, in short, among the
    /// `findings` of every pipe it concerns.
    pub diagnoses: Vec<DiagnosisJson>,
    /// How many looks at the live state were taken: 1, or 2 when a finding needed
    /// confirming (the second at least 100 ms after the first).
    pub looks: u32,
}

/// One pipe.
#[derive(Debug, Serialize)]
pub struct PipeJson {
    /// `pipe:[INODE]` for an anonymous pipe, `fifo:[DEV:INODE]` for a FIFO.
    pub id: String,
    /// The inode number (`null` when the OS gives no inode).
    pub inode: Option<u64>,
    /// `anonymous`, `fifo` or `named`.
    pub kind: &'static str,
    /// A FIFO's path as the first holder sees it; `null` for an anonymous pipe.
    pub path: Option<String>,
    /// The path's exact bytes in standard base64, only when `path` is not exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
    /// Whether all ends are in one process.
    pub self_pipe: bool,
    /// Ends that may read (read-write ends are in both lists).
    pub readers: Vec<EndJson>,
    /// Ends that may write.
    pub writers: Vec<EndJson>,
    /// Ends whose mode the scan could not tell (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<EndJson>,
    /// Bytes queued in the pipe, measured without reading them; `null` when unknown.
    pub fill: Option<u64>,
    /// Bytes the pipe can hold; `null` when unknown.
    pub capacity: Option<u64>,
    /// Why `fill` is `null` (absent when it was measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// What is wrong with the pipe.
    pub findings: Vec<FindingJson>,
}

/// One end of a pipe.
#[derive(Debug, Serialize)]
pub struct EndJson {
    /// The process holding it.
    pub pid: u32,
    /// The process's short name.
    pub process: String,
    /// The handle (fd).
    pub handle: u64,
    /// `r`, `w`, `rw` or `?`.
    pub mode: &'static str,
    /// Ends of this pipe with the same number share one open file description; `null`
    /// when this end shares it with no other end seen.
    pub description: Option<u32>,
    /// What the holder is doing with this end: `reading` or `writing` (blocked on it),
    /// `running`, `idle`, `waiting-for-child`, `stopped`, `zombie` or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// What the holder process is doing, in detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityJson>,
}

/// What a process is doing.
#[derive(Debug, Serialize)]
pub struct ActivityJson {
    /// `running`, `reading`, `writing`, `waiting-for-child`, `idle`, `stopped`, `zombie`
    /// or `unknown`.
    pub state: &'static str,
    /// The handle it is blocked reading or writing, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<u64>,
    /// The child it waits for, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<u32>,
    /// The system call it sleeps in, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syscall: Option<&'static str>,
    /// Why it is idle: the system call or kernel wait channel, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its parent has gone: it was reparented out of the session it started in.
    pub orphaned: bool,
}

/// A finding of the wait-for graph, with its evidence.
#[derive(Debug, Serialize)]
pub struct DiagnosisJson {
    /// `deadlock`, `orphan-writer`, `stopped-reader` or `stopped-writer`.
    pub kind: &'static str,
    /// The blocked processes; for a deadlock, the cycle in order (each waits on the
    /// next, the last on the first).
    pub waits: Vec<WaitJson>,
    /// Deadlock: other processes stuck behind the cycle.
    pub behind: Vec<WaitJson>,
    /// The processes to blame (the orphaned writers; the stopped processes).
    pub holders: Vec<DiagnosisHolderJson>,
    /// The pipes concerned, with their fill.
    pub pipes: Vec<PipeFillJson>,
    /// One paragraph for a person.
    pub message: String,
}

/// A blocked process and what it waits on.
#[derive(Debug, Serialize)]
pub struct WaitJson {
    /// The process.
    pub pid: u32,
    /// Its name.
    pub process: String,
    /// `read` (an empty pipe), `write` (a full pipe) or `child` (a child's exit).
    pub on: &'static str,
    /// The handle read or written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<u64>,
    /// The pipe's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipe: Option<String>,
    /// The child waited for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<u32>,
    /// The processes that could release it.
    pub waits_for: Vec<u32>,
}

/// A process a diagnosis blames.
#[derive(Debug, Serialize)]
pub struct DiagnosisHolderJson {
    /// The process.
    pub pid: u32,
    /// Its name.
    pub process: String,
    /// Its handles on the pipe.
    pub handles: Vec<u64>,
    /// What it was doing.
    pub activity: ActivityJson,
}

/// A pipe's id and fill, as evidence.
#[derive(Debug, Serialize)]
pub struct PipeFillJson {
    /// `pipe:[INODE]` or `fifo:[DEV:INODE]`.
    pub id: String,
    /// Bytes queued, when measured.
    pub fill: Option<u64>,
    /// Capacity, when known.
    pub capacity: Option<u64>,
}

/// A finding about one pipe.
#[derive(Debug, Serialize)]
pub struct FindingJson {
    /// `extra-writer`, `no-reader`, `no-writer`, `hidden-holder`, or one of the
    /// wait-for graph's (`deadlock`, `orphan-writer`, `stopped-reader`,
    /// `stopped-writer`, detailed in `diagnoses`).
    pub kind: &'static str,
    /// The process it names (the extra writer; the socket holder), or `null`.
    pub pid: Option<u32>,
    /// The handle it names, or `null`.
    pub handle: Option<u64>,
    /// One sentence for a person.
    pub message: String,
}

/// A socket with descriptors in flight.
#[derive(Debug, Serialize)]
pub struct InFlightJson {
    /// The process holding the receiving socket.
    pub pid: u32,
    /// Its name.
    pub process: String,
    /// The socket's handle.
    pub handle: u64,
    /// How many descriptors wait in its queue.
    pub count: u64,
}

/// `pipescope pipes --why PID:FD --json`: what an end of a pipe waits for.
#[derive(Debug, Serialize)]
pub struct WhyOutput<'a> {
    /// The end asked about.
    pub end: EndJson,
    /// `read` (a read or read-write end: the question is its end-of-file) or `write`.
    pub side: &'static str,
    /// The pipe.
    pub pipe: PipeJson,
    /// Every process on the other side: the holders of write ends for a read end, of
    /// read ends for a write end.
    pub holders: Vec<HolderJson>,
    /// What would end the wait.
    pub need: NeedJson,
    /// The confirmed wait-for findings about this pipe.
    pub diagnoses: Vec<DiagnosisJson>,
    /// UNIX sockets holding descriptors in flight (one may be an end of this pipe).
    pub in_flight: Vec<InFlightJson>,
    /// Processes the scan could not inspect (one may hold an end).
    pub errors: Vec<ErrorJson<'a>>,
    /// The scan runs inside a pid namespace: ends may be held outside it.
    pub partial_view: bool,
    /// The answer for a person.
    pub message: String,
}

/// What would end a wait.
#[derive(Debug, Serialize)]
pub struct NeedJson {
    /// `end-of-file` (these processes must exit or close these handles), `drained` (no
    /// writer: end-of-file once the pipe is empty), `room` (one of these must read) or
    /// `broken` (no reader: the next write fails with EPIPE).
    pub kind: &'static str,
    /// The processes, with their handles.
    pub processes: Vec<NeedProcessJson>,
}

/// A process and its handles on the pipe.
#[derive(Debug, Serialize)]
pub struct NeedProcessJson {
    /// The process.
    pub pid: u32,
    /// Its name.
    pub process: String,
    /// Its handles.
    pub handles: Vec<u64>,
}

/// A process on the other side of the pipe, for `--why`.
#[derive(Debug, Serialize)]
pub struct HolderJson {
    /// The process.
    pub pid: u32,
    /// Its short name.
    pub process: String,
    /// Its (first) handle on the pipe.
    pub handle: u64,
    /// Every handle it holds on the pipe.
    pub handles: Vec<u64>,
    /// `r`, `w` or `rw`, of the first handle.
    pub mode: &'static str,
    /// What it is doing with its end (see `EndJson.state`).
    pub state: &'static str,
    /// What it is doing, in detail.
    pub activity: ActivityJson,
    /// How it got its end.
    pub origin: OriginJson,
    /// Other handles sharing this end's open file description.
    pub shared_with: Vec<HandleRefJson>,
    /// Whether this holder is reported as an `extra-writer`.
    pub extra: bool,
    /// Parent, grandparent, … as far as the scan saw them.
    pub parents: Vec<ProcessRefJson>,
    /// Start time, milliseconds since the Unix epoch.
    pub started_ms: Option<u64>,
    /// Seconds it has been running.
    pub running_s: Option<u64>,
}

/// How a process got its end of a pipe.
#[derive(Debug, Serialize)]
pub struct OriginJson {
    /// `inherited` (it shares the open file description with an ancestor, `pid`),
    /// `shares` (with a process that is not an ancestor), `alone` (no other process holds
    /// it: it made or opened it itself, or got it from a process since gone) or
    /// `unknown`.
    pub kind: &'static str,
    /// The other process, for `inherited` and `shares`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Its handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<u64>,
}

/// A process by id and name.
#[derive(Debug, Serialize)]
pub struct ProcessRefJson {
    /// The process.
    pub pid: u32,
    /// Its short name.
    pub process: String,
}

// --- `pipescope run` / `pipescope watch` ----------------------------------------------

/// One line per interval of `run --json` / `watch --json`.
#[derive(Debug, Serialize)]
pub struct LiveSample {
    /// Always `"sample"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Seconds since sampling started.
    pub t: f64,
    /// Stages in pipeline order (for `run`, one per stage of the pipeline's text).
    pub stages: Vec<LiveStage>,
    /// Pipes between stages, ordered by first writer then first reader (in a shell
    /// pipeline, pipe `i` joins stage `i` to stage `i + 1`).
    pub pipes: Vec<LivePipe>,
    /// The verdict so far (as in the report).
    pub verdict: Bottleneck,
    /// Findings standing now (with the probe only): `buffering`.
    pub findings: Vec<BufferingJson>,
}

/// A stage at one moment.
#[derive(Debug, Serialize)]
pub struct LiveStage {
    /// Process id; `null` for a stage of `run`'s pipeline text not seen (yet).
    pub pid: Option<u32>,
    /// What it runs.
    pub command: String,
    /// `run`, `read` (blocked reading a pipe), `write` (blocked writing a pipe), `wait`
    /// (asleep for another reason), `stop`, `exit` or `unseen` (never seen).
    pub state: &'static str,
    /// Bytes read so far: with the probe (`source: probe` in the report), from the
    /// stage's pipe ends only, exact; when sampling, from all sources. `null` when hidden
    /// from us (another user's process, a non-dumpable one).
    pub bytes_in: Option<u64>,
    /// Bytes written so far: to the stage's pipe ends only with the probe, to all
    /// targets when sampling; `null` likewise.
    pub bytes_out: Option<u64>,
    /// Bytes written per second over the last interval; `null` likewise.
    pub rate_out: Option<u64>,
}

/// A pipe at one moment.
#[derive(Debug, Serialize)]
pub struct LivePipe {
    /// Index of the (first) stage writing it.
    pub writer: usize,
    /// Index of the (first) stage reading it.
    pub reader: usize,
    /// Indexes of every stage writing it (a pipe may join any stages).
    pub writers: Vec<usize>,
    /// Indexes of every stage reading it.
    pub readers: Vec<usize>,
    /// Bytes queued now; `null` when not measured (see `missing`).
    pub fill: Option<u64>,
    /// Capacity in bytes, when known.
    pub capacity: Option<u64>,
    /// Why the fill is not measured, or `null`.
    pub missing: Option<String>,
}

/// The last line of `run --json` / `watch --json`: totals and the verdict.
#[derive(Debug, Serialize)]
pub struct LiveReport {
    /// Always `"report"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The pipeline text (`run`) or the processes asked for (`watch`).
    pub command: String,
    /// Seconds sampled.
    pub seconds: f64,
    /// `run`: the pipeline's exit status (128 + N when killed by signal N); `null` for
    /// `watch` or when detached before the end.
    pub exit_status: Option<i32>,
    /// The signal sent to pipescope that ended the watching (`watch`) or that pipescope
    /// passed on to the pipeline (`run`), as `"SIGTERM"`; `null` when none was.
    pub signal: Option<String>,
    /// Stages in pipeline order.
    pub stages: Vec<ReportStage>,
    /// Pipes in pipeline order.
    pub pipes: Vec<ReportPipe>,
    /// Which stage holds the pipeline back.
    pub bottleneck: Bottleneck,
    /// `probe`: bytes counted on each stage's pipe ends and blocked shares measured by
    /// the eBPF probe (exact); `sampling`: `/proc` counters and sampled states
    /// (estimates).
    pub source: &'static str,
    /// Why the probe was not used, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_note: Option<String>,
}

/// Totals of one stage.
#[derive(Debug, Serialize)]
pub struct ReportStage {
    /// What it runs.
    pub command: String,
    /// Process id; `null` for a stage of `run`'s pipeline text never seen (it exited
    /// before the first look).
    pub pid: Option<u32>,
    /// Bytes read (all sources; for `watch`, since attaching); `null` when hidden from us.
    pub bytes_in: Option<u64>,
    /// Bytes written (all targets; for `watch`, since attaching); `null` likewise.
    pub bytes_out: Option<u64>,
    /// Average bytes read per second while seen alive.
    pub throughput_in: Option<u64>,
    /// Average bytes written per second while seen alive.
    pub throughput_out: Option<u64>,
    /// CPU time over wall time while seen alive, percent of one core.
    pub cpu_percent: f64,
    /// Share of samples running (0 to 1).
    pub running: f64,
    /// Share of samples blocked reading a pipe.
    pub blocked_read: f64,
    /// Share of samples blocked writing a pipe.
    pub blocked_write: f64,
    /// Share of samples asleep for another reason (timer, disk, child).
    pub waiting: f64,
    /// Samples taken while it was alive.
    pub samples: u64,
}

/// Totals of one pipe.
#[derive(Debug, Serialize)]
pub struct ReportPipe {
    /// Index of the (first) stage writing it.
    pub writer: usize,
    /// Index of the (first) stage reading it.
    pub reader: usize,
    /// Indexes of every stage writing it.
    pub writers: Vec<usize>,
    /// Indexes of every stage reading it.
    pub readers: Vec<usize>,
    /// Capacity in bytes, when known.
    pub capacity: Option<u64>,
    /// Average bytes queued over the measured samples; `null` if never measured.
    pub fill_avg: Option<u64>,
    /// Most bytes queued at one sample.
    pub fill_max: Option<u64>,
    /// Share of measured samples it was full (≥ 87.5 % of capacity).
    pub full: Option<f64>,
    /// Share of measured samples it was nearly empty (< 12.5 % of capacity).
    pub empty: Option<f64>,
    /// Samples whose fill was measured.
    pub samples: u64,
    /// Why the fill was not measured (at the last sample), or `null`.
    pub missing: Option<String>,
}

/// The verdict.
#[derive(Debug, Serialize)]
pub struct Bottleneck {
    /// `bottleneck` (a stage holds the others back), `input` / `output` (no stage is
    /// busy: the pipeline waits for its input, or for its output to drain), `none`
    /// (nothing sampled), `deadlock` (stages blocked on each other in a cycle) or
    /// `stuck` (no progress: a stopped reader or writer, an orphaned writer).
    pub kind: &'static str,
    /// 0-based index of the stage to blame; `null` when no one stage is.
    pub stage: Option<usize>,
    /// One sentence (stages counted from 1 in it, as in the views).
    pub reason: String,
    /// For `deadlock` and `stuck`: the wait-for graph's findings, each confirmed by two
    /// looks at least 100 ms apart with no byte moved. Empty otherwise.
    pub findings: Vec<LiveFinding>,
}

/// A finding of the wait-for graph about a live pipeline.
#[derive(Debug, Serialize)]
pub struct LiveFinding {
    /// `deadlock`, `orphan-writer`, `stopped-reader` or `stopped-writer`.
    pub kind: &'static str,
    /// The blocked processes; for a deadlock, the cycle in order (each waits on the
    /// next, the last on the first).
    pub waits: Vec<LiveWait>,
    /// Deadlock: other processes stuck behind the cycle.
    pub behind: Vec<LiveWait>,
    /// The processes to blame (stopped ones, orphaned writers); empty for a deadlock.
    pub holders: Vec<u32>,
    /// The pipes concerned (`pipe:[8844]`).
    pub pipes: Vec<String>,
    /// One paragraph for a person.
    pub message: String,
}

/// A blocked process in a finding.
#[derive(Debug, Serialize)]
pub struct LiveWait {
    /// The process.
    pub pid: u32,
    /// Its stage's index, when it is a stage.
    pub stage: Option<usize>,
    /// `read` (an empty pipe), `write` (a full pipe) or `child` (a child's exit).
    pub on: &'static str,
    /// The handle read or written.
    pub handle: Option<u64>,
    /// The child waited for.
    pub child: Option<u32>,
    /// The processes that could release it.
    pub waits_for: Vec<u32>,
}

// `pipescope top --json` prints one `TopSample` per line, one per refresh.

/// One refresh of `pipescope top`.
#[derive(Debug, Serialize)]
pub struct TopSample {
    /// Seconds since `top` started.
    pub t: f64,
    /// `probe` (exact, from the kernel) or `sampling` (estimates).
    pub source: &'static str,
    /// Whether the byte counts are exact (`source` is `probe` and no call was missed).
    pub exact: bool,
    /// The refresh interval's length, milliseconds.
    pub interval_ms: f64,
    /// The busiest pipes, in the order asked for (`--sort`), at most `--limit`.
    pub pipes: Vec<TopPipe>,
    /// The ends that waited longest in the interval (probe only), at most `--limit`.
    pub waiting: Vec<TopEnd>,
    /// Pipe calls the probe could not count in the interval (its tables were full).
    pub dropped: u64,
    /// Findings standing now (probe only): `buffering`.
    pub findings: Vec<BufferingJson>,
}

/// The `buffering` finding (`top`, `run`, `watch`): a process that keeps reading its
/// input pipe but holds its output in a buffer.
#[derive(Debug, Serialize)]
pub struct BufferingJson {
    /// Always `buffering`.
    pub kind: &'static str,
    /// The process.
    pub pid: u32,
    /// Its short name.
    pub name: String,
    /// The pipe it reads (`pipe:[INO]`).
    pub input: String,
    /// The pipe it holds back (`pipe:[INO]`).
    pub output: String,
    /// The size of its earlier write bursts (its buffer), bytes.
    pub burst: u64,
    /// Bytes read since it last wrote.
    pub read_since_write: u64,
    /// Milliseconds since it last wrote, while reading.
    pub quiet_ms: f64,
    /// One sentence for a person, with the cures.
    pub message: String,
    /// The usual cures.
    pub cures: &'static [&'static str],
}

impl BufferingJson {
    /// The wire form of a finding.
    pub fn new(b: &pipescope_core::buffering::Buffering) -> Self {
        let id =
            |o: &ObjectId| pipescope_core::flow::pipe_id(o, pipescope_core::PipeKind::Anonymous);
        BufferingJson {
            kind: "buffering",
            pid: b.pid,
            name: b.name.clone(),
            input: id(&b.input),
            output: id(&b.output),
            burst: b.burst,
            read_since_write: b.read_since_write,
            quiet_ms: b.quiet.as_secs_f64() * 1e3,
            message: b.message.clone(),
            cures: &pipescope_core::buffering::CURES,
        }
    }
}

/// A pipe in `top`.
#[derive(Debug, Serialize)]
pub struct TopPipe {
    /// `pipe:[INO]` or `fifo:[DEV:INO]`.
    pub id: String,
    /// Inode number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ino: Option<u64>,
    /// `anonymous` or `fifo`.
    pub kind: &'static str,
    /// Bytes written into it in the interval (sampling: its writers' total writes).
    pub written: u64,
    /// Bytes read from it in the interval (sampling: its readers' total reads).
    pub read: u64,
    /// The larger of `written` and `read`, per second.
    pub bytes_per_sec: f64,
    /// Bytes queued in it at the end of the interval, or `null` when not measured (no
    /// reader's end could be duplicated).
    pub fill: Option<u64>,
    /// Its capacity in bytes, when measured.
    pub capacity: Option<u64>,
    /// Its writing ends.
    pub writers: Vec<TopEnd>,
    /// Its reading ends.
    pub readers: Vec<TopEnd>,
}

/// An end in `top`.
#[derive(Debug, Serialize)]
pub struct TopEnd {
    /// Process id.
    pub pid: u32,
    /// Short name.
    pub name: String,
    /// Handle (fd).
    pub handle: u64,
    /// The pipe's id (as `TopPipe::id`).
    pub pipe: String,
    /// `read` or `write`.
    pub dir: &'static str,
    /// Bytes through this end (sampling: all the process's reads or writes).
    pub bytes: u64,
    /// Calls on this end (probe only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<u64>,
    /// Milliseconds its calls slept waiting for data or room (probe only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<f64>,
    /// `wait_ms` as a share of the interval, 0 to 1 (probe only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_share: Option<f64>,
}

impl TopSample {
    /// The wire form of one refresh, `at` after the start, with at most `limit` pipes.
    pub fn new(
        t: &pipescope_core::flow::Traffic,
        at: std::time::Duration,
        limit: usize,
    ) -> TopSample {
        use pipescope_core::flow::{EndTraffic, FlowSource, PipeTraffic};
        let secs = t.elapsed.as_secs_f64().max(1e-3);
        let end = |e: &EndTraffic, id: String| TopEnd {
            pid: e.pid,
            name: e.name.clone(),
            handle: e.handle,
            pipe: id,
            dir: if e.writes { "write" } else { "read" },
            bytes: e.bytes,
            calls: e.calls,
            wait_ms: e.wait.map(|w| w.as_secs_f64() * 1e3),
            wait_share: e.wait.map(|w| (w.as_secs_f64() / secs).min(1.0)),
        };
        let pipe = |p: &PipeTraffic| {
            let id = p.id();
            TopPipe {
                ino: match p.pipe {
                    ObjectId::Inode { ino, .. } => Some(ino),
                    _ => None,
                },
                kind: p.kind.as_str(),
                written: p.written,
                read: p.read,
                bytes_per_sec: p.bytes() as f64 / secs,
                fill: p.fill,
                capacity: p.capacity,
                writers: p.writers.iter().map(|e| end(e, id.clone())).collect(),
                readers: p.readers.iter().map(|e| end(e, id.clone())).collect(),
                id,
            }
        };
        TopSample {
            t: at.as_secs_f64(),
            source: t.source.as_str(),
            exact: t.source == FlowSource::Probe && t.dropped == 0,
            interval_ms: t.elapsed.as_secs_f64() * 1e3,
            pipes: t.pipes.iter().take(limit).map(pipe).collect(),
            waiting: t
                .waiting
                .iter()
                .take(limit)
                .map(|e| end(e, e.pipe_id()))
                .collect(),
            dropped: t.dropped,
            findings: t.buffering.iter().map(BufferingJson::new).collect(),
        }
    }
}

// --- pipescope pipes --named ---------------------------------------------------------------

/// `pipescope pipes --named --json`: every named pipe, as PipeList lists them, with the
/// processes holding each end.
#[derive(Debug, Serialize)]
pub struct NamedPipesOutput<'a> {
    /// The pipes by name.
    pub pipes: Vec<NamedPipeJson>,
    /// Whether the system listed its named-pipe directory (`false` on Wine: then only
    /// pipes held open by a scanned process are shown, with counts from their ends).
    pub listed: bool,
    /// Processes the scan could not inspect.
    pub errors: Vec<ErrorJson<'a>>,
}

/// One named pipe.
#[derive(Debug, Serialize)]
pub struct NamedPipeJson {
    /// The name under `\\.\pipe\` (empty for ends whose pipe has lost its name).
    pub name: String,
    /// `\\.\pipe\NAME`, as a program opens it (absent when the name is empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Instances that exist now, or `null` when unknown.
    pub instances: Option<u32>,
    /// Instances allowed: a number, `"unlimited"`, or `null` when unknown.
    pub max_instances: Option<serde_json::Value>,
    /// Server ends (from `CreateNamedPipe`).
    pub servers: Vec<NamedEndJson>,
    /// Client ends (from `CreateFile`).
    pub clients: Vec<NamedEndJson>,
    /// Ends that could not be asked which side they are (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<NamedEndJson>,
    /// What is wrong with its ends.
    pub findings: Vec<FindingJson>,
}

/// One handle to an end of a named pipe.
#[derive(Debug, Serialize)]
pub struct NamedEndJson {
    /// The process holding it.
    pub pid: u32,
    /// Its image name.
    pub process: String,
    /// The handle value.
    pub handle: u64,
    /// `r`, `w`, `rw` or `-`.
    pub mode: &'static str,
    /// `disconnected`, `listening`, `connected`, `closing`, or `null` when unknown.
    pub state: Option<&'static str>,
    /// The granted access, decoded for a `File` object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessJson>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipescope_core::{Mode, ObjectType, PipeKind};

    fn handle(name: &[u8]) -> Handle {
        Handle {
            handle: 3,
            object_type: ObjectType::new("pipe"),
            mode: Mode::Write,
            name: Name(name.to_vec()),
            object: Some(ObjectId::Inode { dev: 0, ino: 8844 }),
            pipe: Some(PipeKind::Anonymous),
            flags: Some(0o2000001),
            access: None,
            details: None,
        }
    }

    #[test]
    fn utf8_names_have_no_b64() {
        let h = handle(b"pipe:[8844]");
        let v = serde_json::to_value(HandleJson::new(&h)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"handle": 3, "type": "pipe", "mode": "w", "name": "pipe:[8844]",
                "inode": 8844, "dev": 0, "pipe": "anonymous",
                "flags": {"mask": 0o2000001, "names": ["O_WRONLY", "O_CLOEXEC"]}})
        );
    }

    #[test]
    fn invalid_utf8_names_carry_their_bytes() {
        let h = handle(b"/tmp/\xff\n");
        let v = serde_json::to_value(HandleJson::new(&h)).unwrap();
        assert_eq!(v["name"], "/tmp/\u{fffd}\n");
        assert_eq!(v["name_b64"], "L3RtcC//Cg==");
    }

    #[test]
    fn a_process_streams_the_handles_it_is_given() {
        let p = Process {
            pid: 7,
            ppid: Some(1),
            name: "cat".into(),
            name_bytes: None,
            user: Some("root".into()),
            uid: Some(0),
            start_time_ms: None,
            handles: vec![
                handle(b"pipe:[1]"),
                handle(b"pipe:[2]"),
                handle(b"pipe:[3]"),
            ],
        };
        let only_2 = p
            .handles
            .iter()
            .filter(|h| h.name.as_bytes() == b"pipe:[2]");
        let v = serde_json::to_value(ProcessJson::new(&p, only_2)).unwrap();
        assert_eq!(v["pid"], 7);
        assert_eq!(v["user"], "root");
        assert!(v.get("start_time_ms").is_none());
        let handles = v["handles"].as_array().unwrap();
        assert_eq!(handles.len(), 1);
        assert_eq!(handles[0]["name"], "pipe:[2]");
    }
}
