//! One module per subcommand: its arguments and what it does.

pub mod access;
pub mod handles;
pub mod meta;
pub mod named_pipes;
pub mod pipe;
pub mod pipes;
pub mod run;
pub mod top;
pub mod watch;

/// Whether a scan of named processes found none of them: it saw no process, and every
/// error it met says the process is gone (one that refused us exists).
pub(crate) fn none_matched(snap: &pipescope_core::Snapshot) -> bool {
    snap.processes.is_empty()
        && snap
            .errors
            .iter()
            .all(|e| e.kind == pipescope_core::ErrorKind::Gone)
}
