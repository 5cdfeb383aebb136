//! pipescope's library: one model of processes, their handles and the pipes between them,
//! filled in by a per-OS backend, plus the pipe graph and its findings.
//!
//! The public API is OS-neutral: [`scan`] returns a [`Snapshot`] on every system; the
//! backend behind it is chosen once, in `sys`. Systems without a backend return
//! [`Error::Unsupported`].
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod error;
pub mod graph;
pub mod model;
pub mod parse;
pub mod sample;
mod sys;

pub use error::{Error, ErrorKind, Result};
pub use model::*;

/// Scans the processes selected by `opts` and returns what they hold.
///
/// A process that exits during the scan is counted in [`Snapshot::vanished`]; one that
/// may not be inspected is listed in [`Snapshot::errors`]. Neither makes the scan fail.
pub fn scan(opts: &ScanOptions) -> Result<Snapshot> {
    sys::scan(opts)
}

/// Creates an anonymous pipe in this process and describes both of its ends (the demo of
/// `pipescope pipe`). Both ends are close-on-exec; give one to a child through
/// [`std::process::Stdio`].
pub fn create_pipe() -> Result<PipeDemo> {
    // Backends without `create_pipe` yet say so here, so that adding one touches only
    // this line and the backend.
    #[cfg(target_os = "linux")]
    return sys::create_pipe();
    #[cfg(not(target_os = "linux"))]
    return Err(Error::Unsupported("creating a pipe"));
}
