//! The one place a backend is chosen for this OS.
//!
//! Scanning: `scan` (and on Linux `LiveScan`), `create_pipe`, `object_types`.
//! Live sampling: `SampleBackend`, a type implementing [`crate::sample::Backend`].

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

#[cfg(not(target_os = "linux"))]
mod unsupported;
#[cfg(not(any(target_os = "linux", windows)))]
pub(crate) use unsupported::scan;

/// Live process state and pipe fills for the wait-for graph: none yet off Linux.
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::{Prober, partial_view};

/// The live sampling backend of this OS.
#[cfg(target_os = "linux")]
pub(crate) use linux::sample::Sampler as SampleBackend;
/// The live sampling backend of this OS: none yet.
#[cfg(not(any(target_os = "linux", windows)))]
pub(crate) use unsupported::Sampler as SampleBackend;
/// The live sampling backend of this OS.
#[cfg(windows)]
pub(crate) use windows::sample::Sampler as SampleBackend;

// The kernel pipe probe: its own switch, since it needs the `ebpf` feature and x86-64.
#[cfg(all(target_os = "linux", target_arch = "x86_64", feature = "ebpf"))]
pub(crate) use linux::flow;
#[cfg(not(all(target_os = "linux", target_arch = "x86_64", feature = "ebpf")))]
#[path = "flow_unsupported.rs"]
pub(crate) mod flow;

/// Whether a user name is known: not told on this system.
#[cfg(not(target_os = "linux"))]
pub(crate) fn user_known(_user: &str) -> Option<bool> {
    None
}

/// A process's I/O counters (read, written), where the OS keeps them.
#[cfg(not(target_os = "linux"))]
pub(crate) fn io_counters(_pid: crate::Pid) -> Option<(u64, u64)> {
    None
}

/// A pipe's fill and capacity through a process's read end, where the OS tells.
#[cfg(not(target_os = "linux"))]
pub(crate) fn pipe_fill(_pid: crate::Pid, _handle: u64, _ino: u64) -> Option<(u64, Option<u64>)> {
    None
}
