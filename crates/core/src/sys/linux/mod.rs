//! Linux backend: reads /proc.
//!
//! Per process: `/proc/PID` is opened once as a directory (its owner is the process's
//! user), `stat` gives comm, ppid and start time, and `/proc/PID/fd` is listed with
//! getdents. Per fd, the least that answers the question:
//! - `readlinkat` of the fd link gives the name (`pipe:[N]`, a path, `anon_inode:[…]`);
//! - the MODE comes from `lstat` of the link itself: procfs gives the link `S_IRUSR` when
//!   the open file has `FMODE_READ` and `S_IWUSR` when it has `FMODE_WRITE` (an `O_PATH`
//!   fd has neither). Sockets and most anonymous inodes are always read-write and need no
//!   call; with `flags` or `long` the fdinfo `flags:` line decides instead;
//! - only fds named by a path get a `statx` through the link (for their type and
//!   identity), with `AT_STATX_DONT_SYNC`: the kernel jumps straight to the open file
//!   (no walk of the target's path) and takes cached attributes, so a hung network mount
//!   cannot hang the scan. Nothing ever stats a target by its path name.
//!
//! The pid list is shared by two threads and processes come out in pid order as they are
//! read ([`LiveScan`]), so memory stays flat. A `long` scan also finds the handles that
//! share an open file description (`shared`, kcmp).

#[cfg(all(target_arch = "x86_64", feature = "ebpf"))]
pub(crate) mod flow;
mod in_flight;
mod io_counters;
mod pipe;
mod pipe_ends;
pub(crate) mod sample;
mod shared;
mod state;
mod users;

use std::collections::{BTreeMap, HashMap};
use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use rustix::fs::{AtFlags, FileType, Mode as FsMode, OFlags, RawDir, StatxFlags};
use rustix::io::Errno;

use crate::error::kind_of;
use crate::model::{
    Handle, HandleDetails, Mode, Name, ObjectId, ObjectType, Pid, PipeKind, Process,
    ProcessSelector, ScanError, ScanOptions, Snapshot,
};
use crate::parse::{self, FdLink};
use crate::{Error, ErrorKind, Result};

pub(crate) use io_counters::{io_counters, pipe_fill};
pub(crate) use pipe::create_pipe;
pub(crate) use state::{Prober, partial_view};
pub(crate) use users::user_known;

/// Scans the processes `opts` selects, all at once.
pub(crate) fn scan(opts: &ScanOptions) -> Result<Snapshot> {
    let mut live = LiveScan::start(opts)?;
    // The snapshot will hold every handle: sharing is found from it at the end.
    live.candidates = None;
    let mut snap = Snapshot::default();
    for item in &mut live {
        match item {
            Ok(p) => snap.processes.push(p),
            Err(e) => snap.errors.push(e),
        }
    }
    snap.vanished = live.vanished;
    if opts.long {
        shared::find_shared(&mut snap);
    } else if opts.pipes_only {
        // No details to narrow the candidates: compare the ends of each pipe.
        pipe_ends::find_shared(&mut snap);
    }
    Ok(snap)
}

/// Pids handed to a thread at a time.
const CHUNK: usize = 8;
/// Chunks the helper thread may finish ahead of the consumer (bounds memory).
const AHEAD: usize = 4;

enum Outcome {
    Process(Process),
    Error(ScanError),
    Vanished,
    Skipped,
}

type Chunk = Vec<Outcome>;

/// A scan in progress, yielding processes in pid order as they are read, so a caller
/// can print each and drop it: memory stays bounded whatever the machine holds.
///
/// The pid list is cut into chunks; a helper thread and the consumer (inside `next`)
/// both take chunks from a shared counter; the helper's results come back over a
/// bounded channel and are put in order.
pub(crate) struct LiveScan {
    ctx: Arc<Context>,
    chunks: usize,
    counter: Arc<AtomicUsize>,
    helper: Option<JoinHandle<()>>,
    results: Option<Receiver<(usize, Chunk)>>,
    pending: BTreeMap<usize, Chunk>,
    next_chunk: usize,
    ready: std::vec::IntoIter<Outcome>,
    scratch: Scratch,
    /// Processes that exited while they were being scanned, so far.
    pub(crate) vanished: usize,
    /// With `long`: the handles passed so far, to compare descriptions at the end.
    candidates: Option<shared::Candidates>,
}

impl std::fmt::Debug for LiveScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveScan")
            .field("chunks", &self.chunks)
            .field("next_chunk", &self.next_chunk)
            .field("vanished", &self.vanished)
            .finish_non_exhaustive()
    }
}

impl LiveScan {
    /// Lists the pids and starts the helper thread.
    pub(crate) fn start(opts: &ScanOptions) -> Result<Self> {
        let proc_dir = open_dir(rustix::fs::CWD, c"/proc")
            .map_err(|e| Error::io("opening /proc", None, None, e.into()))?;
        let mut ctx = Context::new(proc_dir, opts.clone());
        ctx.list_pids()?;
        let ctx = Arc::new(ctx);
        let chunks = ctx.pids.len().div_ceil(CHUNK);
        let counter = Arc::new(AtomicUsize::new(0));
        let two_cores = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
        let (helper, results) = if two_cores && chunks > 1 {
            let (tx, rx) = sync_channel(AHEAD);
            let (ctx, counter) = (Arc::clone(&ctx), Arc::clone(&counter));
            let helper = std::thread::Builder::new()
                .name("pipescope-scan".into())
                .spawn(move || {
                    let mut scratch = Scratch::new();
                    loop {
                        let c = counter.fetch_add(1, Ordering::Relaxed);
                        if c >= ctx.pids.len().div_ceil(CHUNK) {
                            break;
                        }
                        if tx.send((c, ctx.chunk(c, &mut scratch))).is_err() {
                            break;
                        }
                    }
                })
                .ok();
            (helper, Some(rx))
        } else {
            (None, None)
        };
        Ok(LiveScan {
            ctx,
            chunks,
            counter,
            results: results.filter(|_| helper.is_some()),
            helper,
            pending: BTreeMap::new(),
            next_chunk: 0,
            ready: Vec::new().into_iter(),
            scratch: Scratch::new(),
            vanished: 0,
            candidates: opts.long.then(shared::Candidates::default),
        })
    }

    /// The open file descriptions held by more than one of the handles yielded so far
    /// (a `long` scan; empty otherwise), proven with kcmp. Call it once the iterator is
    /// exhausted.
    pub(crate) fn shared(&mut self) -> Vec<Vec<crate::model::HandleRef>> {
        self.candidates
            .take()
            .map(|c| c.classes())
            .unwrap_or_default()
    }

    /// The next chunk in order: from `pending`, by scanning one ourselves, or by
    /// waiting for the helper. `None` when all are done.
    fn next_chunk(&mut self) -> Option<Chunk> {
        while self.next_chunk < self.chunks {
            if let Some(chunk) = self.pending.remove(&self.next_chunk) {
                self.next_chunk += 1;
                return Some(chunk);
            }
            // Take in what the helper has finished.
            if let Some(rx) = &self.results {
                let before = self.pending.len();
                while let Ok((c, chunk)) = rx.try_recv() {
                    self.pending.insert(c, chunk);
                }
                if self.pending.len() > before {
                    continue;
                }
            }
            // Scan one ourselves, unless that would only pile up chunks ahead.
            if self.pending.len() < AHEAD {
                let c = self.counter.fetch_add(1, Ordering::Relaxed);
                if c < self.chunks {
                    let chunk = self.ctx.chunk(c, &mut self.scratch);
                    self.pending.insert(c, chunk);
                    continue;
                }
            }
            // The chunk we need is the helper's: wait for it.
            match self.results.as_ref().map(|rx| rx.recv()) {
                Some(Ok((c, chunk))) => {
                    self.pending.insert(c, chunk);
                }
                // The helper died: scan what is missing ourselves.
                _ => {
                    self.results = None;
                    let c = self.next_chunk;
                    let chunk = self.ctx.chunk(c, &mut self.scratch);
                    self.pending.insert(c, chunk);
                }
            }
        }
        None
    }
}

impl Iterator for LiveScan {
    type Item = std::result::Result<Process, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            for outcome in self.ready.by_ref() {
                match outcome {
                    Outcome::Process(p) => {
                        if let Some(c) = self.candidates.as_mut() {
                            c.add(&p);
                        }
                        return Some(Ok(p));
                    }
                    Outcome::Error(e) => return Some(Err(e)),
                    Outcome::Vanished => self.vanished += 1,
                    Outcome::Skipped => {}
                }
            }
            self.ready = self.next_chunk()?.into_iter();
        }
    }
}

impl Drop for LiveScan {
    fn drop(&mut self) {
        // Stop the helper: no more chunks to claim, and nobody listening.
        self.counter.store(usize::MAX / 2, Ordering::Relaxed);
        drop(self.results.take());
        if let Some(h) = self.helper.take() {
            let _ = h.join();
        }
    }
}

/// What every thread shares: /proc, the options, users, clock and the pid list.
struct Context {
    proc_dir: OwnedFd,
    opts: ScanOptions,
    users: HashMap<u32, String>,
    boot_ms: Option<u64>,
    ticks_per_s: u64,
    pids: Vec<Pid>,
    /// The pids were named one by one: each must exist, or it is reported.
    explicit: bool,
    /// For a pipes-only scan: the UNIX sockets that may hold descriptors in flight.
    sockets: Option<in_flight::UnixSockets>,
}

/// Buffers a thread reuses for every process and fd.
struct Scratch {
    dents: Vec<MaybeUninit<u8>>,
    link: Vec<u8>,
    text: Vec<u8>,
    /// A process's handles as they are found; copied out at their exact size.
    handles: Vec<Handle>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            dents: vec![MaybeUninit::uninit(); 32 * 1024],
            link: vec![0; 8192],
            text: Vec::with_capacity(4096),
            handles: Vec::with_capacity(256),
        }
    }
}

impl Context {
    fn new(proc_dir: OwnedFd, opts: ScanOptions) -> Self {
        let mut text = Vec::new();
        let users = read_file(rustix::fs::CWD, c"/etc/passwd", &mut text)
            .map(|()| parse::passwd(&text).into_iter().rev().collect())
            .unwrap_or_default();
        let boot_ms = read_file(proc_dir.as_fd(), c"stat", &mut text)
            .ok()
            .and_then(|()| parse::boot_time(&text))
            .map(|s| s * 1000);
        let sockets = if opts.pipes_only {
            in_flight::UnixSockets::dump()
        } else {
            None
        };
        Context {
            proc_dir,
            opts,
            users,
            boot_ms,
            ticks_per_s: rustix::param::clock_ticks_per_second().max(1),
            pids: Vec::new(),
            explicit: false,
            sockets,
        }
    }

    /// Fills in the pids to look at, ascending.
    fn list_pids(&mut self) -> Result<()> {
        let sel = &self.opts.processes;
        if !sel.is_empty() && sel.iter().all(|s| matches!(s, ProcessSelector::Pid(_))) {
            let mut pids: Vec<Pid> = sel
                .iter()
                .filter_map(|s| match s {
                    ProcessSelector::Pid(p) => Some(*p),
                    ProcessSelector::Name(_) => None,
                })
                .collect();
            pids.sort_unstable();
            pids.dedup();
            self.pids = pids;
            self.explicit = true;
            return Ok(());
        }
        let mut buf = vec![MaybeUninit::uninit(); 32 * 1024];
        let dir = open_dir(self.proc_dir.as_fd(), c".")
            .map_err(|e| Error::io("listing /proc", None, None, e.into()))?;
        let mut entries = RawDir::new(&dir, &mut buf);
        let mut pids = Vec::with_capacity(1024);
        while let Some(entry) = entries.next() {
            let entry = entry.map_err(|e| Error::io("listing /proc", None, None, e.into()))?;
            if let Some(pid) = parse::decimal(entry.file_name().to_bytes()) {
                pids.extend(Pid::try_from(pid).ok());
            }
        }
        pids.sort_unstable();
        self.pids = pids;
        Ok(())
    }

    /// Scans the `c`th chunk of pids.
    fn chunk(&self, c: usize, scratch: &mut Scratch) -> Chunk {
        let start = (c * CHUNK).min(self.pids.len());
        let end = (start + CHUNK).min(self.pids.len());
        self.pids[start..end]
            .iter()
            .map(|&pid| self.process(pid, self.explicit, scratch))
            .collect()
    }

    fn selected(&self, pid: Pid, comm: &[u8]) -> bool {
        let sel = &self.opts.processes;
        sel.is_empty() || sel.iter().any(|s| s.matches(pid, comm))
    }

    fn process(&self, pid: Pid, explicit: bool, s: &mut Scratch) -> Outcome {
        let mut num = itoa_buf();
        let pid_name = itoa(pid.into(), &mut num);
        let fail = |e: Errno, process: Option<&str>| {
            let e = io::Error::from(e);
            match kind_of(&e) {
                ErrorKind::Gone if !explicit => Outcome::Vanished,
                ErrorKind::Gone => Outcome::Error(ScanError {
                    pid,
                    process: None,
                    kind: ErrorKind::Gone,
                    message: "no such process".into(),
                }),
                kind => Outcome::Error(ScanError {
                    pid,
                    process: process.map(str::to_owned),
                    kind,
                    message: message(&e),
                }),
            }
        };
        let dir = match open_dir(self.proc_dir.as_fd(), pid_name) {
            Ok(d) => d,
            Err(e) => return fail(e, None),
        };
        let uid = rustix::fs::fstat(&dir).ok().map(|st| st.st_uid);
        if let Err(e) = read_proc(dir.as_fd(), c"stat", &mut s.text) {
            return fail(e, None);
        }
        let Some(stat) = parse::stat(&s.text) else {
            return Outcome::Vanished;
        };
        if !self.selected(pid, stat.comm) {
            return Outcome::Skipped;
        }
        let mut process = Process {
            pid,
            ppid: Some(stat.ppid),
            name: String::from_utf8_lossy(stat.comm).into_owned(),
            name_bytes: std::str::from_utf8(stat.comm)
                .is_err()
                .then(|| stat.comm.to_vec()),
            user: uid.map(|u| self.users.get(&u).cloned().unwrap_or_else(|| u.to_string())),
            uid,
            start_time_ms: self
                .boot_ms
                .map(|b| b + stat.start_ticks * 1000 / self.ticks_per_s),
            handles: Vec::new(),
        };
        let mut found = std::mem::take(&mut s.handles);
        found.clear();
        let listed = self.handles(&dir, s, &mut found);
        // One allocation of the exact size, instead of a growing vector per process.
        process.handles = Vec::with_capacity(found.len());
        process.handles.append(&mut found);
        s.handles = found;
        match listed {
            Ok(()) => Outcome::Process(process),
            Err(e) => fail(e, Some(&process.name)),
        }
    }

    /// Lists the fds of the process whose /proc directory is `dir`.
    fn handles(
        &self,
        dir: &OwnedFd,
        s: &mut Scratch,
        out: &mut Vec<Handle>,
    ) -> rustix::io::Result<()> {
        let fd_dir = open_dir(dir.as_fd(), c"fd")?;
        let want_info = self.opts.long || self.opts.flags;
        // A pipes-only scan reads the fdinfo of sockets (descriptors in flight).
        let info_dir = if want_info || self.opts.pipes_only {
            Some(open_dir(dir.as_fd(), c"fdinfo")?)
        } else {
            None
        };
        let Scratch {
            dents, link, text, ..
        } = s;
        let mut entries = RawDir::new(&fd_dir, &mut dents[..]);
        while let Some(entry) = entries.next() {
            let entry = entry?;
            let name = entry.file_name();
            let Some(fd) = parse::decimal(name.to_bytes()) else {
                continue;
            };
            let handle = describe(
                fd_dir.as_fd(),
                info_dir.as_ref().map(|d| d.as_fd()),
                name,
                fd,
                &self.opts,
                self.sockets.as_ref(),
                link,
                text,
            );
            match handle {
                Ok(Some(h)) => out.push(h),
                Ok(None) => {}
                // The fd was closed after it was listed.
                Err(Errno::NOENT) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Describes one fd: `fd_dir` is `/proc/PID/fd`, `info_dir` `/proc/PID/fdinfo` when flags
/// or details are wanted. `Ok(None)` when `opts` leaves this fd out.
// Everything a per-fd step needs, passed flat: it runs once per fd of the machine.
#[allow(clippy::too_many_arguments)]
fn describe(
    fd_dir: BorrowedFd<'_>,
    info_dir: Option<BorrowedFd<'_>>,
    name: &CStr,
    fd: u64,
    opts: &ScanOptions,
    sockets: Option<&in_flight::UnixSockets>,
    link: &mut [u8],
    text: &mut Vec<u8>,
) -> rustix::io::Result<Option<Handle>> {
    // An fd whose name cannot be read (a path longer than the kernel will return) costs
    // its name only: its type, identity and mode come through the link itself. Being
    // denied is the process's answer, not the fd's: that fails the process.
    let (target, unreadable) = match rustix::fs::readlinkat_raw(fd_dir, name, &mut *link) {
        Ok(n) => (&link[..n], None),
        Err(e @ (Errno::NOENT | Errno::ACCESS | Errno::PERM | Errno::SRCH)) => return Err(e),
        Err(e) => (&[][..], Some(e)),
    };
    let parsed = match unreadable {
        None => parse::fd_link(target),
        Some(_) => FdLink::Path(target),
    };
    if opts.pipes_only {
        match parsed {
            FdLink::Pipe(_) | FdLink::Path(_) => {}
            FdLink::Socket(ino) => {
                return match info_dir {
                    Some(dir) => in_flight::socket(dir, sockets, name, fd, ino, target, text),
                    None => Ok(None),
                };
            }
            _ => return Ok(None),
        }
    }
    let mut h = Handle {
        handle: fd,
        object_type: ObjectType::new("unknown"),
        mode: Mode::Unknown,
        name: Name(target.to_vec()),
        object: None,
        pipe: None,
        flags: None,
        access: None,
        details: unreadable.map(|e| {
            Box::new(HandleDetails {
                name_unavailable: Some(format!(
                    "the name could not be read: {}",
                    message(&io::Error::from(e))
                )),
                ..HandleDetails::default()
            })
        }),
    };
    let mut fixed_mode = None;
    match parsed {
        FdLink::Pipe(ino) => {
            h.object_type = ObjectType::new("pipe");
            h.object = Some(ObjectId::Inode { dev: 0, ino });
            h.pipe = Some(PipeKind::Anonymous);
        }
        FdLink::Socket(ino) => {
            h.object_type = ObjectType::new("socket");
            h.object = Some(ObjectId::Inode { dev: 0, ino });
            // Sockets are always opened read-write and cannot be reopened otherwise.
            fixed_mode = Some(Mode::ReadWrite);
        }
        FdLink::Anon(kind) => {
            h.object_type = match parse::anon_type(kind) {
                Some(t) => ObjectType::new(t),
                None => ObjectType(String::from_utf8_lossy(kind).into_owned().into()),
            };
            if parse::anon_always_read_write(kind) {
                fixed_mode = Some(Mode::ReadWrite);
            }
        }
        FdLink::Tagged(tag, ino) => {
            h.object_type = match tag {
                b"pidfd" => ObjectType::new("pidfd"),
                b"cgroup" | b"ipc" | b"mnt" | b"net" | b"pid" | b"pid_for_children" | b"time"
                | b"time_for_children" | b"user" | b"uts" => ObjectType::new("namespace"),
                _ => ObjectType(String::from_utf8_lossy(tag).into_owned().into()),
            };
            h.object = Some(ObjectId::Inode { dev: 0, ino });
        }
        FdLink::Path(_) | FdLink::Memfd(_) => {
            // Through the magic link, cached attributes only: see the module comment.
            match rustix::fs::statx(
                fd_dir,
                name,
                AtFlags::STATX_DONT_SYNC,
                StatxFlags::TYPE | StatxFlags::INO,
            ) {
                Ok(st) => {
                    let ft = FileType::from_raw_mode(st.stx_mode.into());
                    h.object_type = ObjectType::new(if matches!(parsed, FdLink::Memfd(_)) {
                        "memfd"
                    } else {
                        file_type_name(ft)
                    });
                    if ft == FileType::Fifo {
                        h.pipe = Some(PipeKind::Fifo);
                    }
                    h.object = Some(ObjectId::Inode {
                        dev: rustix::fs::makedev(st.stx_dev_major, st.stx_dev_minor),
                        ino: st.stx_ino,
                    });
                }
                Err(Errno::NOENT) => return Err(Errno::NOENT),
                // The process may have dropped the file from its table, or the kernel
                // refuses the jump: keep the name, type unknown.
                Err(_) => {}
            }
            if opts.pipes_only && h.pipe.is_none() {
                return Ok(None);
            }
        }
        FdLink::Other => {}
    }
    if let Some(info_dir) = info_dir.filter(|_| opts.long || opts.flags) {
        match read_proc(info_dir, name, text) {
            Ok(()) => {
                if opts.long {
                    let info = parse::fdinfo(text);
                    h.flags = info.flags;
                    let ino = info.ino.or(match h.object {
                        Some(ObjectId::Inode { ino, .. }) => Some(ino),
                        _ => None,
                    });
                    let name_unavailable = h.details.take().and_then(|d| d.name_unavailable);
                    h.details = Some(Box::new(HandleDetails {
                        pos: info.pos,
                        mnt_id: info.mnt_id,
                        ino,
                        extra: info.extra,
                        scm_fds: in_flight::scm_fds(text),
                        name_unavailable,
                        ..HandleDetails::default()
                    }));
                } else {
                    h.flags = parse::fdinfo_flags(text);
                }
            }
            Err(Errno::NOENT) => return Err(Errno::NOENT),
            Err(_) => {}
        }
    }
    h.mode = match (h.flags, fixed_mode) {
        (Some(flags), _) => mode_of_flags(flags),
        (None, Some(m)) => m,
        (None, None) => {
            match rustix::fs::statx(fd_dir, name, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::MODE) {
                Ok(st) => mode_of_link(st.stx_mode.into()),
                Err(Errno::NOENT) => return Err(Errno::NOENT),
                Err(_) => Mode::Unknown,
            }
        }
    };
    Ok(Some(h))
}

/// The mode an fd link's own permission bits give: procfs sets the owner's read bit for
/// `FMODE_READ` and the write bit for `FMODE_WRITE`.
pub(crate) fn mode_of_link(mode: u32) -> Mode {
    let m = FsMode::from_raw_mode(mode);
    match (m.contains(FsMode::RUSR), m.contains(FsMode::WUSR)) {
        (true, true) => Mode::ReadWrite,
        (true, false) => Mode::Read,
        (false, true) => Mode::Write,
        (false, false) => Mode::None,
    }
}

/// The mode open flags give.
pub(crate) fn mode_of_flags(flags: u32) -> Mode {
    match pipescope_access::fd_mode(flags) {
        pipescope_access::FdMode::Read => Mode::Read,
        pipescope_access::FdMode::Write => Mode::Write,
        pipescope_access::FdMode::ReadWrite => Mode::ReadWrite,
        pipescope_access::FdMode::Path => Mode::None,
    }
}

fn file_type_name(ft: FileType) -> &'static str {
    match ft {
        FileType::RegularFile => "file",
        FileType::Directory => "dir",
        FileType::Fifo => "fifo",
        FileType::CharacterDevice => "char",
        FileType::BlockDevice => "block",
        FileType::Socket => "socket",
        FileType::Symlink => "link",
        FileType::Unknown => "unknown",
    }
}

fn message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            // "Permission denied (os error 13)" → "permission denied"
            let s = s.split(" (os error").next().unwrap_or(&s);
            s.to_lowercase()
        }
    }
}

fn open_dir<Fd: AsFd>(dir: Fd, name: &CStr) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        FsMode::empty(),
    )
}

/// Reads a small file into `buf`, replacing what was there.
fn read_file<Fd: AsFd>(dir: Fd, name: &CStr, buf: &mut Vec<u8>) -> rustix::io::Result<()> {
    read_text(dir, name, buf, false)
}

/// Reads a procfs text file made in one go (`single_open`: stat, fdinfo) into `buf`. Such
/// a file's read copies all of its text that fits, so a read that leaves room in the
/// buffer has reached the end: no second read is needed to see end-of-file.
fn read_proc<Fd: AsFd>(dir: Fd, name: &CStr, buf: &mut Vec<u8>) -> rustix::io::Result<()> {
    read_text(dir, name, buf, true)
}

fn read_text<Fd: AsFd>(
    dir: Fd,
    name: &CStr,
    buf: &mut Vec<u8>,
    one_shot: bool,
) -> rustix::io::Result<()> {
    buf.clear();
    let file = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, FsMode::empty())?;
    loop {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(buf.capacity().max(4096));
        }
        let room = buf.capacity() - buf.len();
        let n = rustix::io::read(&file, rustix::buffer::spare_capacity(buf))?;
        if n == 0 || (one_shot && n < room) {
            return Ok(());
        }
    }
}

fn itoa_buf() -> [u8; 24] {
    [0; 24]
}

/// Writes `n` in decimal, NUL-terminated, into `buf`; returns it as a C string.
fn itoa(mut n: u64, buf: &mut [u8; 24]) -> &CStr {
    let mut i = buf.len() - 1;
    buf[i] = 0;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    CStr::from_bytes_with_nul(&buf[i..]).unwrap_or(c"0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itoa_writes_decimal() {
        let mut b = itoa_buf();
        assert_eq!(itoa(0, &mut b).to_bytes(), b"0");
        assert_eq!(itoa(4194304, &mut b).to_bytes(), b"4194304");
        assert_eq!(itoa(u64::MAX, &mut b).to_bytes(), b"18446744073709551615");
    }

    #[test]
    fn link_permission_bits_give_the_mode() {
        assert_eq!(mode_of_link(0o120500), Mode::Read);
        assert_eq!(mode_of_link(0o120300), Mode::Write);
        assert_eq!(mode_of_link(0o120700), Mode::ReadWrite);
        assert_eq!(mode_of_link(0o120000), Mode::None);
    }
}
