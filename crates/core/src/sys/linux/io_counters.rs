//! Figures `top` reads outside the probe: a process's I/O counters (`rchar`, `wchar` of
//! `/proc/PID/io`: every byte it read or wrote through any call, the only per-process
//! traffic figure without the eBPF probe), and a pipe's fill.

use crate::Pid;

/// `(rchar, wchar)` of `pid`, or `None` when it is gone or hidden from us.
pub(crate) fn io_counters(pid: Pid) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
    };
    Some((field("rchar:")?, field("wchar:")?))
}

/// The fill and capacity of pipe `ino`, through `pid`'s read-only end at `handle` (a
/// duplicate taken with `pidfd_getfd` and closed at once: nothing is read), or `None`
/// when that is not possible (not a read-only end of it, gone, no ptrace access).
pub(crate) fn pipe_fill(pid: Pid, handle: u64, ino: u64) -> Option<(u64, Option<u64>)> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()?;
    match super::sample::measure(&pidfd, handle, ino) {
        (Ok(fill), capacity) => Some((fill, capacity)),
        (Err(_), _) => None,
    }
}
