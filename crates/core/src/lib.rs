//! pipescope's library: one model of processes, their handles and the pipes between them,
//! filled in by a per-OS backend, plus the pipe graph and its findings.
//!
//! The public API is OS-neutral: [`scan`] returns a [`Snapshot`] on every system; the
//! backend behind it is chosen once, in `sys`. Systems without a backend return
//! [`Error::Unsupported`].
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod activity;
pub mod buffering;
pub mod diagnose;
pub mod error;
pub mod flow;
pub mod graph;
pub mod launch;
pub mod model;
pub mod named_pipe;
pub mod parse;
mod parse_windows;
pub mod sample;
mod sys;
pub mod waitfor;
pub mod why;

pub use error::{Error, ErrorKind, Result};
pub use model::*;

/// Scans the processes selected by `opts` and returns what they hold.
///
/// A process that exits during the scan is counted in [`Snapshot::vanished`]; one that
/// may not be inspected is listed in [`Snapshot::errors`]. Neither makes the scan fail.
pub fn scan(opts: &ScanOptions) -> Result<Snapshot> {
    sys::scan(opts)
}

/// The object types of the running kernel with their live generic mappings (Windows);
/// [`Error::Unsupported`] elsewhere.
pub fn object_types() -> Result<Vec<LiveObjectType>> {
    #[cfg(windows)]
    return sys::object_types();
    #[cfg(not(windows))]
    return Err(Error::Unsupported("listing kernel object types"));
}

/// The handle types a scan of this system gives, for checking a type filter: Linux's
/// fixed list, or the running kernel's object types (Windows); empty where unknown.
pub fn handle_types() -> Vec<String> {
    #[cfg(target_os = "linux")]
    return parse::LINUX_HANDLE_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect();
    #[cfg(not(target_os = "linux"))]
    return object_types()
        .map(|types| types.into_iter().map(|t| t.name).collect())
        .unwrap_or_default();
}

/// Whether `user` names a user of this system (by name, through the system's user
/// database, or as a number); `None` where pipescope cannot tell (Windows).
pub fn user_known(user: &str) -> Option<bool> {
    sys::user_known(user)
}

/// Every named pipe of the machine (`\\.\pipe\`) with its instance counts, the processes
/// holding its ends, and what is wrong with them (Windows); [`Error::Unsupported`]
/// elsewhere.
pub fn named_pipes() -> Result<named_pipe::NamedPipes> {
    #[cfg(windows)]
    return sys::named_pipes();
    #[cfg(not(windows))]
    return Err(Error::Unsupported("listing named pipes"));
}

/// Starts a scan that yields the processes selected by `opts` one at a time, in pid
/// order, as they are read; a process that may not be inspected comes as an `Err`.
///
/// Unlike [`scan`], memory stays bounded by the processes in flight, and the first
/// process is available before the last is read: a printer can stream. Processes that
/// exit during the scan are skipped and counted in [`Scan::vanished`].
pub fn scan_iter(opts: &ScanOptions) -> Result<Scan> {
    #[cfg(target_os = "linux")]
    return Ok(Scan(ScanInner::Live(Box::new(sys::LiveScan::start(opts)?))));
    #[cfg(not(target_os = "linux"))]
    return sys::scan(opts).map(Scan::from);
}

/// A scan in progress (see [`scan_iter`]): an iterator of processes, in pid order, with
/// the ones that could not be inspected as `Err`.
#[derive(Debug)]
pub struct Scan(ScanInner);

#[derive(Debug)]
enum ScanInner {
    #[cfg(target_os = "linux")]
    Live(Box<sys::LiveScan>),
    Done {
        items: std::vec::IntoIter<std::result::Result<Process, ScanError>>,
        vanished: usize,
        shared: Vec<Vec<HandleRef>>,
    },
}

impl Scan {
    /// How many processes exited while they were being scanned, so far (all of them
    /// once the iterator is exhausted).
    pub fn vanished(&self) -> usize {
        match &self.0 {
            #[cfg(target_os = "linux")]
            ScanInner::Live(live) => live.vanished,
            ScanInner::Done { vanished, .. } => *vanished,
        }
    }

    /// With [`ScanOptions::long`]: the open file descriptions held by more than one of
    /// the handles yielded, each as its handles in order (Linux: proven with
    /// `kcmp(KCMP_FILE)` where permitted). Call it once the iterator is exhausted; it
    /// returns the list once, then an empty one.
    ///
    /// A streaming scan cannot fill [`HandleDetails::shared_with`] (a later process may
    /// share with an earlier one): this is its answer. [`scan`] fills both.
    pub fn shared(&mut self) -> Vec<Vec<HandleRef>> {
        match &mut self.0 {
            #[cfg(target_os = "linux")]
            ScanInner::Live(live) => live.shared(),
            ScanInner::Done { shared, .. } => std::mem::take(shared),
        }
    }
}

impl Iterator for Scan {
    type Item = std::result::Result<Process, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            #[cfg(target_os = "linux")]
            ScanInner::Live(live) => live.next(),
            ScanInner::Done { items, .. } => items.next(),
        }
    }
}

impl From<Snapshot> for Scan {
    /// Replays a finished scan, processes and errors merged in pid order.
    fn from(snap: Snapshot) -> Self {
        let mut shared = std::collections::BTreeSet::new();
        for p in &snap.processes {
            for h in &p.handles {
                let Some(d) = h.details.as_deref().filter(|d| !d.shared_with.is_empty()) else {
                    continue;
                };
                let mut class = d.shared_with.clone();
                class.push(HandleRef {
                    pid: p.pid,
                    handle: h.handle,
                });
                class.sort();
                shared.insert(class);
            }
        }
        let mut items: Vec<_> = snap
            .processes
            .into_iter()
            .map(Ok)
            .chain(snap.errors.into_iter().map(Err))
            .collect();
        items.sort_by_key(|i| match i {
            Ok(p) => p.pid,
            Err(e) => e.pid,
        });
        Scan(ScanInner::Done {
            items: items.into_iter(),
            vanished: snap.vanished,
            shared: shared.into_iter().collect(),
        })
    }
}

/// Creates an anonymous pipe in this process and describes both of its ends (the demo of
/// `pipescope pipe`). Both ends are close-on-exec; give one to a child through
/// [`std::process::Stdio`].
pub fn create_pipe() -> Result<PipeDemo> {
    // Backends without `create_pipe` yet say so here, so that adding one touches only
    // this line and the backend.
    #[cfg(any(target_os = "linux", windows))]
    return sys::create_pipe();
    #[cfg(not(any(target_os = "linux", windows)))]
    return Err(Error::Unsupported("creating a pipe"));
}
