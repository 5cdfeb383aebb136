//! The eBPF pipe probe's loader (aya): loads the committed object built from
//! `crates/core/bpf/pipeflow.bpf.c`, relocates it against the running kernel's BTF,
//! attaches its three programs to the raw tracepoints `sys_enter`, `sys_exit` and
//! `sched_switch`, and reads the `ENDS` map.
//!
//! The links and maps are owned by [`Probe`] (aya closes their fds on drop); nothing is
//! pinned, so the kernel detaches the programs when the last fd closes, also when the
//! process is killed.
#![allow(unsafe_code)]

use std::error::Error as StdError;
use std::io;
use std::path::Path;
use std::time::Duration;

use aya::maps::{Array, HashMap, MapData};
use aya::programs::RawTracePoint;
use aya::{Ebpf, EbpfLoader, Pod};

use crate::flow::{DirFlow, EndFlow, FlowReading};
use crate::{Error, ObjectId, PipeKind, Result};

/// The probe is built for this system.
pub(crate) const UNAVAILABLE: Option<&str> = None;

static OBJECT: &[u8] = aya::include_bytes_aligned!("../../../bpf/pipeflow.bpf.o");

/// `struct end_key` of the BPF program.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EndKey {
    tgid: u32,
    fd: u32,
    ino: u64,
    dev: u32,
    fifo: u32,
}

/// `struct end_val` of the BPF program; index 0 is reads, 1 writes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct EndCounters {
    bytes: [u64; 2],
    calls: [u64; 2],
    call_ns: [u64; 2],
    wait_ns: [u64; 2],
    last_ns: u64,
    comm: [u8; 16],
}

/// `struct inflight` of the BPF program: a pipe call in progress on one thread.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct InFlight {
    start_ns: u64,
    off_ns: u64,
    wait_ns: u64,
    end: [EndKey; 2],
    dir: [u8; 2],
    n: u8,
    pad: [u8; 5],
}

// The layouts the C program declares (checked at compile time, as the kernel checks the
// sizes at map access).
const _: () = assert!(size_of::<EndKey>() == 24);
const _: () = assert!(std::mem::offset_of!(EndKey, ino) == 8);
const _: () = assert!(size_of::<EndCounters>() == 88);
const _: () = assert!(std::mem::offset_of!(EndCounters, comm) == 72);

const _: () = assert!(size_of::<InFlight>() == 80);
const _: () = assert!(std::mem::offset_of!(InFlight, dir) == 72);

// SAFETY: `InFlight` is `repr(C)`, made of integers, bytes and `EndKey`s, with no padding
// (80 bytes, checked above): every bit pattern is a valid value.
unsafe impl Pod for InFlight {}
// SAFETY: `EndKey` is `repr(C)`, made of integers only, with no padding (24 bytes, checked
// above): every bit pattern is a valid value.
unsafe impl Pod for EndKey {}
// SAFETY: `EndCounters` is `repr(C)`, made of integers and bytes only, with no padding
// (88 bytes, checked above): every bit pattern is a valid value.
unsafe impl Pod for EndCounters {}

/// The attached probe: the loaded object (programs, links, maps).
pub(crate) struct Probe {
    ebpf: Ebpf,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").finish_non_exhaustive()
    }
}

/// The programs of the object and the raw tracepoints they attach to.
const PROGRAMS: [(&str, &str); 3] = [
    ("pipeflow_enter", "sys_enter"),
    ("pipeflow_exit", "sys_exit"),
    ("pipeflow_switch", "sched_switch"),
];

impl Probe {
    pub(crate) fn attach() -> Result<Probe> {
        if !Path::new("/sys/kernel/btf/vmlinux").exists() {
            return Err(Error::Unsupported(
                "the eBPF probe without kernel BTF (/sys/kernel/btf/vmlinux)",
            ));
        }
        // Checked first: without the privilege, loading would parse the kernel's BTF
        // (a few hundred milliseconds) only to be refused.
        if !privileged() {
            return Err(Error::io(
                "loading the eBPF pipe probe",
                None,
                None,
                io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "needs root, or CAP_BPF and CAP_PERFMON",
                ),
            ));
        }
        let mut ebpf = EbpfLoader::new()
            .load(OBJECT)
            .map_err(|e| fail("loading the eBPF pipe probe", &e))?;
        for (name, tracepoint) in PROGRAMS {
            let program: &mut RawTracePoint = ebpf
                .program_mut(name)
                .ok_or_else(|| missing(name))?
                .try_into()
                .map_err(|e| fail("loading the eBPF pipe probe", &e))?;
            program
                .load()
                .map_err(|e| fail("loading the eBPF pipe probe", &e))?;
            program
                .attach(tracepoint)
                .map_err(|e| fail("attaching the eBPF pipe probe", &e))?;
        }
        Ok(Probe { ebpf })
    }

    pub(crate) fn read(&mut self) -> Result<FlowReading> {
        let at = monotonic_now();
        let dropped = {
            let map = self.ebpf.map("DROPPED").ok_or_else(|| missing("DROPPED"))?;
            let dropped: Array<&MapData, u64> =
                Array::try_from(map).map_err(|e| fail("reading the eBPF pipe probe", &e))?;
            dropped.get(&0, 0).unwrap_or(0)
        };
        let map = self.ebpf.map_mut("ENDS").ok_or_else(|| missing("ENDS"))?;
        let mut table: HashMap<&mut MapData, EndKey, EndCounters> =
            HashMap::try_from(map).map_err(|e| fail("reading the eBPF pipe probe", &e))?;
        let mut ends = Vec::new();
        let mut gone = Vec::new();
        // An entry deleted by another reader between two steps of the walk just ends it
        // early for this round; it was read before.
        // The process's name (its main thread's), read once per process; the thread name
        // the probe kept is the fallback for processes already gone.
        let mut names: std::collections::HashMap<u32, Option<String>> = Default::default();
        for (key, value) in table.iter().flatten() {
            let name = names.entry(key.tgid).or_insert_with(|| comm_of(key.tgid));
            let mut end = end_flow(&key, &value);
            match name {
                Some(n) => end.comm.clone_from(n),
                None => gone.push(key),
            }
            ends.push(end);
        }
        for key in gone {
            // A late call of the exiting process may have recreated it: harmless either way.
            let _ = table.remove(&key);
        }
        self.add_in_flight(&mut ends, at)?;
        Ok(FlowReading { at, ends, dropped })
    }
}

impl Probe {
    /// Adds the calls still in progress, so far: a reader asleep on an empty pipe for a
    /// minute shows that minute now, not when its read returns. The counters stay
    /// monotonic (the call's final figures are larger).
    fn add_in_flight(&self, ends: &mut Vec<EndFlow>, at: Duration) -> Result<()> {
        let map = self
            .ebpf
            .map("INFLIGHT")
            .ok_or_else(|| missing("INFLIGHT"))?;
        let calls: HashMap<&MapData, u32, InFlight> =
            HashMap::try_from(map).map_err(|e| fail("reading the eBPF pipe probe", &e))?;
        let now = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX);
        for (_, call) in calls.iter().flatten() {
            let asleep = if call.off_ns != 0 {
                now.saturating_sub(call.off_ns)
            } else {
                0
            };
            let inside = Duration::from_nanos(now.saturating_sub(call.start_ns));
            let waited = Duration::from_nanos(call.wait_ns + asleep);
            for i in 0..usize::from(call.n.min(2)) {
                let key = &call.end[i];
                let pipe = ObjectId::Inode {
                    dev: u64::from(key.dev),
                    ino: key.ino,
                };
                let found = ends.iter().position(|e| {
                    e.pid == key.tgid && e.handle == u64::from(key.fd) && e.pipe == pipe
                });
                let end = match found {
                    Some(k) => &mut ends[k],
                    None => {
                        let Some(name) = comm_of(key.tgid) else {
                            continue;
                        };
                        let mut fresh = end_flow(key, &EMPTY);
                        fresh.comm = name;
                        ends.push(fresh);
                        ends.last_mut().expect("just pushed")
                    }
                };
                let d = if call.dir[i] & 1 == 1 {
                    &mut end.write
                } else {
                    &mut end.read
                };
                d.call_time += inside;
                d.wait_time += waited;
            }
        }
        ends.sort_by(|a, b| (a.pid, a.handle, &a.pipe).cmp(&(b.pid, b.handle, &b.pipe)));
        Ok(())
    }
}

const EMPTY: EndCounters = EndCounters {
    bytes: [0; 2],
    calls: [0; 2],
    call_ns: [0; 2],
    wait_ns: [0; 2],
    last_ns: 0,
    comm: [0; 16],
};

/// The short name of process `pid`, or `None` when it is gone.
fn comm_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim_end_matches('\n').to_string())
}

fn end_flow(key: &EndKey, v: &EndCounters) -> EndFlow {
    let dir = |i: usize| DirFlow {
        bytes: v.bytes[i],
        calls: v.calls[i],
        call_time: Duration::from_nanos(v.call_ns[i]),
        wait_time: Duration::from_nanos(v.wait_ns[i]),
    };
    let len = v.comm.iter().position(|&b| b == 0).unwrap_or(v.comm.len());
    EndFlow {
        pid: key.tgid,
        handle: u64::from(key.fd),
        pipe: ObjectId::Inode {
            dev: u64::from(key.dev),
            ino: key.ino,
        },
        kind: if key.fifo != 0 {
            PipeKind::Fifo
        } else {
            PipeKind::Anonymous
        },
        comm: String::from_utf8_lossy(&v.comm[..len]).into_owned(),
        read: dir(0),
        write: dir(1),
        last_call: Duration::from_nanos(v.last_ns),
    }
}

/// Whether this process may load and attach the probe: CAP_BPF and CAP_PERFMON, or
/// CAP_SYS_ADMIN, in its effective set. When the set cannot be read, it tries.
fn privileged() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    let Some(eff) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
    else {
        return true;
    };
    let has = |cap: u32| eff & (1u64 << cap) != 0;
    has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))
}

/// `bpf_ktime_get_ns()`'s clock: CLOCK_MONOTONIC.
fn monotonic_now() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn missing(name: &str) -> Error {
    Error::io(
        "loading the eBPF pipe probe",
        None,
        None,
        io::Error::other(format!("the object has no {name}")),
    )
}

/// An aya error as the library's: the OS error found in its chain decides the kind
/// (EPERM: no privilege), the whole chain is the message.
fn fail(what: &'static str, e: &(dyn StdError + 'static)) -> Error {
    let mut message = e.to_string();
    let mut kind = io::ErrorKind::Other;
    let mut cause = e.source();
    if let Some(io) = e.downcast_ref::<io::Error>() {
        kind = io.kind();
    }
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<io::Error>() {
            kind = io.kind();
        }
        let text = c.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = c.source();
    }
    if kind == io::ErrorKind::PermissionDenied {
        message.push_str(" (needs root, or CAP_BPF and CAP_PERFMON)");
    }
    // The verifier's log can be long: its first lines say enough for a one-line error.
    if message.len() > 600 {
        let mut cut = 600;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    Error::io(what, None, None, io::Error::new(kind, message))
}
