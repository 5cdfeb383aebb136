//! Typed errors of the library: what failed, where, and a kind a caller can match.

use std::io;

use crate::model::Pid;

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is, for callers that react differently to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The OS refused: another user's process, a non-dumpable one, missing privilege.
    PermissionDenied,
    /// The process or handle went away while we looked at it.
    Gone,
    /// This operation has no backend on this OS.
    Unsupported,
    /// The caller asked for something that does not exist or makes no sense.
    InvalidInput,
    /// Any other OS error.
    Os,
}

/// An error of the library, with the process (and handle) it concerns when there is one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An OS call failed.
    #[error("{what}{}: {source}", at(*pid, *handle))]
    Io {
        /// What we were doing, e.g. "reading /proc/PID/fd".
        what: &'static str,
        /// The process concerned.
        pid: Option<Pid>,
        /// The handle (fd) concerned.
        handle: Option<u64>,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Not available on this OS.
    #[error("{0} is not supported on this system")]
    Unsupported(&'static str),
    /// Bad input from the caller.
    #[error("{0}")]
    InvalidInput(String),
}

fn at(pid: Option<Pid>, handle: Option<u64>) -> String {
    match (pid, handle) {
        (Some(p), Some(h)) => format!(" (pid {p}, handle {h})"),
        (Some(p), None) => format!(" (pid {p})"),
        (None, Some(h)) => format!(" (handle {h})"),
        (None, None) => String::new(),
    }
}

impl Error {
    /// Wraps an I/O error with what was being done and where.
    pub fn io(
        what: &'static str,
        pid: Option<Pid>,
        handle: Option<u64>,
        source: io::Error,
    ) -> Self {
        Error::Io {
            what,
            pid,
            handle,
            source,
        }
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { source, .. } => kind_of(source),
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
        }
    }
}

/// Classifies an OS error the way a scan cares about it.
pub fn kind_of(e: &io::Error) -> ErrorKind {
    match e.kind() {
        io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        io::ErrorKind::NotFound => ErrorKind::Gone,
        _ if e.raw_os_error() == Some(3) /* ESRCH */ && cfg!(unix) => ErrorKind::Gone,
        _ => ErrorKind::Os,
    }
}
