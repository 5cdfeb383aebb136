//! The JSON wire types: the stable schema of every `--json` output, kept apart from the
//! library's model so that the model may change without breaking readers of the JSON.

use serde::Serialize;

// --- pipescope pipes ---------------------------------------------------------------------

/// `pipescope pipes --json`: every pipe, its ends and its findings.
#[derive(Debug, Serialize)]
pub struct PipesOutput {
    /// The pipes, ordered by kind and inode.
    pub pipes: Vec<PipeJson>,
    /// Self-pipes left out (shown with `--all`).
    pub folded: usize,
    /// UNIX sockets holding descriptors sent but not yet received.
    pub in_flight: Vec<InFlightJson>,
    /// Processes the scan could not inspect.
    pub errors: Vec<ScanErrorJson>,
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
    /// Whether all ends are in one process.
    pub self_pipe: bool,
    /// Ends that may read (read-write ends are in both lists).
    pub readers: Vec<EndJson>,
    /// Ends that may write.
    pub writers: Vec<EndJson>,
    /// Ends whose mode the scan could not tell (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<EndJson>,
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
}

/// A finding about one pipe.
#[derive(Debug, Serialize)]
pub struct FindingJson {
    /// `extra-writer`, `no-reader`, `no-writer` or `hidden-holder`.
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

/// A process the scan could not inspect.
#[derive(Debug, Serialize)]
pub struct ScanErrorJson {
    /// The process.
    pub pid: u32,
    /// Its name, when known.
    pub process: Option<String>,
    /// `permission-denied`, `gone`, `unsupported`, `invalid-input` or `os`.
    pub kind: &'static str,
    /// One line for a person.
    pub message: String,
}

/// `pipescope pipes --why PID:FD --json`: why a read end sees no end-of-file.
#[derive(Debug, Serialize)]
pub struct WhyOutput {
    /// The read end asked about.
    pub end: EndJson,
    /// The pipe it reads.
    pub pipe: PipeJson,
    /// Every holder of a write end.
    pub holders: Vec<HolderJson>,
    /// UNIX sockets holding descriptors in flight (one may be a write end).
    pub in_flight: Vec<InFlightJson>,
    /// Processes the scan could not inspect (one may hold a write end).
    pub errors: Vec<ScanErrorJson>,
}

/// A holder of a write end, for `--why`.
#[derive(Debug, Serialize)]
pub struct HolderJson {
    /// The process.
    pub pid: u32,
    /// Its short name.
    pub process: String,
    /// The write end's handle.
    pub handle: u64,
    /// `w` or `rw`.
    pub mode: &'static str,
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

/// A handle of some process.
#[derive(Debug, Serialize)]
pub struct HandleRefJson {
    /// The process.
    pub pid: u32,
    /// The handle.
    pub handle: u64,
}

/// A process by id and name.
#[derive(Debug, Serialize)]
pub struct ProcessRefJson {
    /// The process.
    pub pid: u32,
    /// Its short name.
    pub process: String,
}
