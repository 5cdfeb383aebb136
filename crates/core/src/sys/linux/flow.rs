//! The eBPF pipe probe's loader (aya): loads the committed object built from
//! `crates/core/bpf/pipeflow.bpf.c`, relocates it against the running kernel's BTF,
//! attaches its two programs to the raw tracepoints `sys_exit` and `sched_switch`, and
//! reads the `ENDS` map, and for calls still in progress, the `SLEEPERS` task storage.
//!
//! The links and maps are owned by [`Probe`] (aya closes their fds on drop); nothing is
//! pinned, so the kernel detaches the programs when the last fd closes, also when the
//! process is killed.
#![allow(unsafe_code)]

use std::error::Error as StdError;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;
use std::time::Duration;

use aya::maps::{Array, HashMap, Map, MapData};
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
    /// The kernel's `dev_t` of the FIFO's file system (major << 20 | minor), 0 for pipes.
    dev: u32,
    fifo: u32,
}

/// `struct end_val` of the BPF program; index 0 is reads, 1 writes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct EndCounters {
    bytes: [u64; 2],
    calls: [u64; 2],
    wait_ns: [u64; 2],
    comm: [u8; 16],
}

/// `struct sleeper` of the BPF program: a thread asleep in a call that may move pipe data.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct Sleeper {
    off_ns: u64,
    off_run: u64,
    off_delay: u64,
    wait_ns: u64,
    nr: i64,
    fd: [i32; 2],
}

// The layouts the C program declares (checked at compile time, as the kernel checks the
// sizes at map access).
const _: () = assert!(size_of::<EndKey>() == 24);
const _: () = assert!(std::mem::offset_of!(EndKey, ino) == 8);
const _: () = assert!(size_of::<EndCounters>() == 64);
const _: () = assert!(std::mem::offset_of!(EndCounters, comm) == 48);
const _: () = assert!(size_of::<Sleeper>() == 48);
const _: () = assert!(std::mem::offset_of!(Sleeper, fd) == 40);

// SAFETY: `EndKey` is `repr(C)`, made of integers only, with no padding (24 bytes, checked
// above): every bit pattern is a valid value.
unsafe impl Pod for EndKey {}
// SAFETY: `EndCounters` is `repr(C)`, made of integers and bytes only, with no padding
// (64 bytes, checked above): every bit pattern is a valid value.
unsafe impl Pod for EndCounters {}

/// The attached probe: the loaded object (programs, links, maps).
pub(crate) struct Probe {
    ebpf: Ebpf,
    /// The threads whose task storage is looked up for calls still asleep, kept from one
    /// reading to the next (each reading then costs one lookup per thread, and a schedstat
    /// read per thread asleep).
    threads: Threads,
}

/// The threads of the processes that used pipes, by process.
#[derive(Default)]
struct Threads {
    by_pid: std::collections::HashMap<u32, ProcessThreads>,
}

struct ProcessThreads {
    /// When its thread list was read (re-read each second: threads come and go rarely).
    listed: std::time::Instant,
    threads: Vec<Thread>,
}

struct Thread {
    tid: u32,
    /// Its pidfd: the key of its task storage.
    pidfd: std::os::fd::OwnedFd,
    /// Its `/proc/PID/task/TID/schedstat`, opened once.
    schedstat: Option<std::fs::File>,
    /// The sleep seen last (its `off_ns`) and the ends it resolved to.
    last: Option<(u64, Vec<InFlightEnd>)>,
}

/// An end a sleeping call works on.
#[derive(Clone)]
struct InFlightEnd {
    fd: u32,
    writes: bool,
    pipe: ObjectId,
    kind: PipeKind,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").finish_non_exhaustive()
    }
}

/// The programs of the object and the raw tracepoints they attach to.
const PROGRAMS: [(&str, &str); 2] = [
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
        // SLEEPERS is task storage, a map type aya creates but has no wrapper for: it is
        // read with a raw lookup (`sleeper`).
        let mut ebpf = EbpfLoader::new()
            .allow_unsupported_maps()
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
        Ok(Probe {
            ebpf,
            threads: Threads::default(),
        })
    }

    pub(crate) fn read(&mut self) -> Result<FlowReading> {
        let at = monotonic_now();
        let dropped = {
            let map = self.ebpf.map("DROPPED").ok_or_else(|| missing("DROPPED"))?;
            let dropped: Array<&MapData, u64> =
                Array::try_from(map).map_err(|e| fail("reading the eBPF pipe probe", &e))?;
            dropped.get(&0, 0).unwrap_or(0)
        };
        // The whole table in a few batch lookups (Linux 5.6), else entry by entry (two
        // syscalls each). An entry deleted by another reader between two steps of the
        // entry-by-entry walk just ends it early for this round; it was read before.
        let batch = match self.ebpf.map("ENDS") {
            Some(Map::HashMap(data)) => lookup_all(data.fd().as_fd()),
            _ => None,
        };
        let map = self.ebpf.map_mut("ENDS").ok_or_else(|| missing("ENDS"))?;
        let mut table: HashMap<&mut MapData, EndKey, EndCounters> =
            HashMap::try_from(map).map_err(|e| fail("reading the eBPF pipe probe", &e))?;
        let entries: Vec<(EndKey, EndCounters)> = match batch {
            Some(all) => all,
            None => table.iter().flatten().collect(),
        };
        let mut ends = Vec::new();
        let mut gone = Vec::new();
        // The process's name (its main thread's), read once per process; the thread name
        // the probe kept is the fallback for processes already gone.
        let mut names: std::collections::HashMap<u32, Option<String>> = Default::default();
        for (key, value) in entries {
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
        let live: std::collections::HashMap<u32, String> = names
            .into_iter()
            .filter_map(|(pid, name)| Some((pid, name?)))
            .collect();
        self.add_in_flight(&mut ends, &live, at)?;
        ends.sort_by(|a, b| (a.pid, a.handle, &a.pipe).cmp(&(b.pid, b.handle, &b.pipe)));
        Ok(FlowReading { at, ends, dropped })
    }

    /// Adds the sleep so far of the calls still asleep on a pipe, in the processes that
    /// have used pipes since the probe was attached: a reader asleep on an empty pipe for
    /// a minute shows that minute now, not when its read returns. The counters stay
    /// monotonic (the call's final figures are larger).
    /// `live`: the processes still there, with their names, as `read` found them.
    fn add_in_flight(
        &mut self,
        ends: &mut Vec<EndFlow>,
        live: &std::collections::HashMap<u32, String>,
        at: Duration,
    ) -> Result<()> {
        let Some(Map::Unsupported(map)) = self.ebpf.map("SLEEPERS") else {
            return Err(missing("SLEEPERS"));
        };
        let now = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX);
        self.threads.by_pid.retain(|pid, _| live.contains_key(pid));
        for (&pid, name) in live {
            let process = self
                .threads
                .by_pid
                .entry(pid)
                .or_insert_with(|| ProcessThreads {
                    listed: std::time::Instant::now(),
                    threads: list_threads(pid, Vec::new()),
                });
            if process.listed.elapsed() >= Duration::from_secs(1) {
                process.listed = std::time::Instant::now();
                process.threads = list_threads(pid, std::mem::take(&mut process.threads));
            }
            for thread in &mut process.threads {
                let mut s = Sleeper::default();
                if !map_lookup(map.fd().as_fd(), &thread.pidfd.as_raw_fd(), &mut s)
                    || s.off_ns == 0
                    || s.off_ns > now
                {
                    continue;
                }
                // Since it went to sleep: the time, less what it has run or waited for a
                // CPU since (the scheduler's counters, as the program reads them).
                let Some((run, delay)) = thread.schedstat.as_mut().and_then(read_schedstat) else {
                    continue;
                };
                let busy = run.saturating_sub(s.off_run) + delay.saturating_sub(s.off_delay);
                let waited = s.wait_ns + (now - s.off_ns).saturating_sub(busy);
                let call_ends = match &thread.last {
                    Some((off, e)) if *off == s.off_ns => e.clone(),
                    _ => {
                        let e = resolve_call(s.nr, s.fd, pid);
                        thread.last = Some((s.off_ns, e.clone()));
                        e
                    }
                };
                // One sleep, counted on the first pipe of a splice only.
                let Some(c) = call_ends.first() else { continue };
                let found = ends
                    .iter()
                    .position(|e| e.pid == pid && e.handle == u64::from(c.fd) && e.pipe == c.pipe);
                let end = match found {
                    Some(k) => &mut ends[k],
                    None => {
                        ends.push(EndFlow {
                            pid,
                            handle: u64::from(c.fd),
                            pipe: c.pipe.clone(),
                            kind: c.kind,
                            comm: name.clone(),
                            read: DirFlow::default(),
                            write: DirFlow::default(),
                        });
                        ends.last_mut().expect("just pushed")
                    }
                };
                let d = if c.writes {
                    &mut end.write
                } else {
                    &mut end.read
                };
                d.wait_time += Duration::from_nanos(waited);
            }
        }
        Ok(())
    }
}

/// The threads of `pid`, keeping those of `known` still there (their pidfds and files).
fn list_threads(pid: u32, mut known: Vec<Thread>) -> Vec<Thread> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut threads = Vec::new();
    for tid in tasks
        .flatten()
        .filter_map(|t| t.file_name().to_str()?.parse::<u32>().ok())
    {
        if let Some(k) = known.iter().position(|t| t.tid == tid) {
            threads.push(known.swap_remove(k));
        } else if let Some(pidfd) = pidfd_of(pid, tid) {
            threads.push(Thread {
                tid,
                pidfd,
                schedstat: std::fs::File::open(format!("/proc/{pid}/task/{tid}/schedstat")).ok(),
                last: None,
            });
        }
    }
    threads
}

/// A pidfd of thread `tid` of `pid` (for a thread other than the main one, PIDFD_THREAD:
/// Linux 6.9).
fn pidfd_of(pid: u32, tid: u32) -> Option<std::os::fd::OwnedFd> {
    const PIDFD_THREAD: u32 = libc::O_EXCL as u32;
    let flags = if tid == pid {
        rustix::process::PidfdFlags::empty()
    } else {
        rustix::process::PidfdFlags::from_bits_retain(PIDFD_THREAD)
    };
    let task = rustix::process::Pid::from_raw(i32::try_from(tid).ok()?)?;
    rustix::process::pidfd_open(task, flags).ok()
}

/// The pipe ends call `nr` with fd arguments `fd` works on in `pid`, as the program's
/// `pipe_call` sees them.
fn resolve_call(nr: i64, fd: [i32; 2], pid: u32) -> Vec<InFlightEnd> {
    call_ends(nr, fd, pid)
        .into_iter()
        .filter_map(|(fd, writes)| {
            let (pipe, kind) = pipe_at(pid, fd)?;
            Some(InFlightEnd {
                fd,
                writes,
                pipe,
                kind,
            })
        })
        .collect()
}

/// Every entry of the ENDS hash by BPF_MAP_LOOKUP_BATCH (aya 0.13 has no batch calls);
/// `None` where the kernel has no batch lookup, or it fails.
fn lookup_all(map: BorrowedFd<'_>) -> Option<Vec<(EndKey, EndCounters)>> {
    /// The part of `union bpf_attr` the BPF_MAP_*_BATCH commands read.
    #[repr(C)]
    struct BatchAttr {
        in_batch: u64,
        out_batch: u64,
        keys: u64,
        values: u64,
        count: u32,
        map_fd: u32,
        elem_flags: u64,
        flags: u64,
    }
    const BPF_MAP_LOOKUP_BATCH: libc::c_long = 24;
    const CHUNK: usize = 1024;
    let zero_key = EndKey {
        tgid: 0,
        fd: 0,
        ino: 0,
        dev: 0,
        fifo: 0,
    };
    let mut keys = vec![zero_key; CHUNK];
    let empty = EndCounters {
        bytes: [0; 2],
        calls: [0; 2],
        wait_ns: [0; 2],
        comm: [0; 16],
    };
    let mut values = vec![empty; CHUNK];
    let mut all = Vec::new();
    // The position in the hash's buckets: a u32 for a hash map (room for more).
    let (mut token_in, mut token_out) = (0u64, 0u64);
    let mut first = true;
    loop {
        let attr = BatchAttr {
            in_batch: if first {
                0
            } else {
                &token_in as *const u64 as u64
            },
            out_batch: &mut token_out as *mut u64 as u64,
            keys: keys.as_mut_ptr() as u64,
            values: values.as_mut_ptr() as u64,
            count: CHUNK as u32,
            map_fd: map.as_raw_fd() as u32,
            elem_flags: 0,
            flags: 0,
        };
        // SAFETY: `attr` is a valid BPF_MAP_LOOKUP_BATCH argument of the size passed;
        // `keys` and `values` hold `count` elements of the map's key and value sizes
        // (`EndKey`, `EndCounters`: the program's layouts, checked at compile time), and
        // the batch tokens are 8 bytes, more than the 4 a hash map's take; the kernel
        // writes them and `attr.count` only during the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                BPF_MAP_LOOKUP_BATCH,
                &attr as *const BatchAttr,
                size_of::<BatchAttr>() as libc::c_uint,
            )
        };
        let done = r != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT);
        if r != 0 && !done {
            return None;
        }
        let n = (attr.count as usize).min(CHUNK);
        all.extend(keys[..n].iter().copied().zip(values[..n].iter().copied()));
        if done {
            return Some(all);
        }
        token_in = token_out;
        first = false;
    }
}

/// BPF_MAP_LOOKUP_ELEM, for a map type aya does not wrap.
fn map_lookup<K, V>(map: BorrowedFd<'_>, key: &K, value: &mut V) -> bool {
    /// The part of `union bpf_attr` BPF_MAP_LOOKUP_ELEM reads.
    #[repr(C)]
    struct LookupAttr {
        map_fd: u32,
        pad: u32,
        key: u64,
        value: u64,
        flags: u64,
    }
    const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;
    let attr = LookupAttr {
        map_fd: map.as_raw_fd() as u32,
        pad: 0,
        key: key as *const K as u64,
        value: value as *mut V as u64,
        flags: 0,
    };
    // SAFETY: `attr` is a valid BPF_MAP_LOOKUP_ELEM argument of the size passed; `key`
    // and `value` point to live values of the map's key size (a pidfd, an int) and value
    // size (`Sleeper`, checked against the program's layout at compile time), which the
    // kernel reads and writes only during the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_LOOKUP_ELEM,
            &attr as *const LookupAttr,
            size_of::<LookupAttr>() as libc::c_uint,
        )
    };
    r == 0
}

/// A thread's time on a CPU and waiting for one, in ns, from its open
/// `/proc/PID/task/TID/schedstat` (the same sum_exec_runtime and run_delay the program
/// reads), re-read from the start.
fn read_schedstat(file: &mut std::fs::File) -> Option<(u64, u64)> {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 128];
    let n = file.read_at(&mut buf, 0).ok()?;
    crate::parse::schedstat(&buf[..n])
}

// x86-64 syscall numbers of the calls that move pipe data, as the program knows them.
const NR_READ: i64 = libc::SYS_read;
const NR_WRITE: i64 = libc::SYS_write;
const NR_READV: i64 = libc::SYS_readv;
const NR_WRITEV: i64 = libc::SYS_writev;
const NR_SENDFILE: i64 = libc::SYS_sendfile;
const NR_SPLICE: i64 = libc::SYS_splice;
const NR_TEE: i64 = libc::SYS_tee;
const NR_VMSPLICE: i64 = libc::SYS_vmsplice;
const NR_PREADV2: i64 = libc::SYS_preadv2;
const NR_PWRITEV2: i64 = libc::SYS_pwritev2;

/// The fds call `nr` (with the program's fd arguments `fd`) works on, and whether it
/// writes into each (as the program's `pipe_call` sees them).
fn call_ends(nr: i64, fd: [i32; 2], pid: u32) -> Vec<(u32, bool)> {
    let ends: &[(i32, bool)] = match nr {
        NR_READ | NR_READV | NR_PREADV2 => &[(fd[0], false)],
        NR_WRITE | NR_WRITEV | NR_PWRITEV2 | NR_TEE => &[(fd[0], true)],
        NR_SPLICE => &[(fd[0], false), (fd[1], true)],
        NR_SENDFILE => &[(fd[0], true), (fd[1], false)],
        NR_VMSPLICE => {
            let writes = opened_for_writing(pid, fd[0]).unwrap_or(false);
            return u32::try_from(fd[0])
                .map(|f| vec![(f, writes)])
                .unwrap_or_default();
        }
        _ => &[],
    };
    ends.iter()
        .filter_map(|&(f, w)| Some((u32::try_from(f).ok()?, w)))
        .collect()
}

/// Whether `pid`'s `fd` is open for writing (its fdinfo flags).
fn opened_for_writing(pid: u32, fd: i32) -> Option<bool> {
    let text = std::fs::read(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
    let flags = crate::parse::fdinfo_flags(&text)?;
    Some(flags & (libc::O_ACCMODE as u32) != libc::O_RDONLY as u32)
}

/// The pipe `pid`'s `fd` is on, with the ids the program gives it.
fn pipe_at(pid: u32, fd: u32) -> Option<(ObjectId, PipeKind)> {
    let path = format!("/proc/{pid}/fd/{fd}");
    let link = std::fs::read_link(&path).ok()?;
    if let crate::parse::FdLink::Pipe(ino) =
        crate::parse::fd_link(std::os::unix::ffi::OsStrExt::as_bytes(link.as_os_str()))
    {
        return Some((ObjectId::Inode { dev: 0, ino }, PipeKind::Anonymous));
    }
    let st = rustix::fs::stat(path.as_str()).ok()?;
    let fifo = ObjectId::Inode {
        dev: st.st_dev,
        ino: st.st_ino,
    };
    (rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Fifo)
        .then_some((fifo, PipeKind::Fifo))
}

/// The short name of process `pid`, or `None` when it is gone.
fn comm_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim_end_matches('\n').to_string())
}

/// A kernel `dev_t` (major in the top 12 bits, minor in the low 20) as user space
/// encodes it (what stat and the scan give).
fn user_dev(kernel: u32) -> u64 {
    rustix::fs::makedev(kernel >> 20, kernel & 0xf_ffff)
}

fn end_flow(key: &EndKey, v: &EndCounters) -> EndFlow {
    let dir = |i: usize| DirFlow {
        bytes: v.bytes[i],
        calls: v.calls[i],
        wait_time: Duration::from_nanos(v.wait_ns[i]),
    };
    let len = v.comm.iter().position(|&b| b == 0).unwrap_or(v.comm.len());
    EndFlow {
        pid: key.tgid,
        handle: u64::from(key.fd),
        pipe: ObjectId::Inode {
            dev: if key.fifo != 0 { user_dev(key.dev) } else { 0 },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_dev_t_reads_as_stat_gives_it() {
        // major 8, minor 1 (/dev/sda1): the kernel keeps 8 << 20 | 1.
        assert_eq!(user_dev(8 << 20 | 1), rustix::fs::makedev(8, 1));
        // A minor above 255 (tmpfs, overlay: 0:300).
        assert_eq!(user_dev(300), rustix::fs::makedev(0, 300));
    }

    #[test]
    fn each_call_names_the_ends_it_moves_data_through() {
        assert_eq!(call_ends(NR_READ, [3, -1], 0), vec![(3, false)]);
        assert_eq!(call_ends(NR_WRITEV, [1, -1], 0), vec![(1, true)]);
        assert_eq!(call_ends(NR_SPLICE, [0, 1], 0), vec![(0, false), (1, true)]);
        assert_eq!(
            call_ends(NR_SENDFILE, [1, 5], 0),
            vec![(1, true), (5, false)]
        );
        assert_eq!(call_ends(NR_TEE, [4, -1], 0), vec![(4, true)]);
        assert_eq!(call_ends(libc::SYS_getpid, [0, -1], 0), vec![]);
        assert_eq!(call_ends(NR_READ, [-1, -1], 0), vec![]);
    }
}
