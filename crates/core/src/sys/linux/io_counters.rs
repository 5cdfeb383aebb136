//! A process's I/O counters (`rchar`, `wchar` of `/proc/PID/io`): every byte it read or
//! wrote through any call, the only per-process traffic figure without the eBPF probe.

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
