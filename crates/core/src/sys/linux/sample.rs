//! Linux sampling backend: finds a pipeline's processes and the pipe ends they hold in
//! /proc, reads each stage's counters (`/proc/PID/stat`, `io`, `wchan`, `syscall`) and
//! measures each pipe's fill with a duplicate of its read end (`pidfd_getfd`, then
//! `FIONREAD` and `F_GETPIPE_SZ`) closed at once. The text is parsed by [`crate::parse`].
//!
//! Only read-only ends are duplicated: a held write end would delay the reader's end of
//! file. The duplicate lives for two syscalls and never reads, so no byte of the
//! pipeline's data is consumed, delayed or reordered.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::fs::{AtFlags, FileType, OFlags, StatxFlags, fcntl_getfl, fstat};
use rustix::process::{Pid as RPid, PidfdFlags, PidfdGetfdFlags, pidfd_getfd, pidfd_open};

use super::mode_of_link;
use crate::model::{Mode, Pid, ProcessSelector};
use crate::parse::{self, FdLink};
use crate::sample::{
    Backend, Discovery, FillMissing, Pipe, PipeEnd, PipeSample, Pipeline, ProcEnds, Stage,
    StageSample, StageState, Target, connected,
};
use crate::waitfor::Activity;
use crate::{Error, Result};

/// What we keep per stage between samples.
#[derive(Debug)]
struct Tracked {
    /// Start time (clock ticks since boot) at first sight, to notice pid reuse.
    start: Option<u64>,
    /// A pidfd, for duplicating this stage's read ends; `Err` says why there is none.
    pidfd: std::result::Result<OwnedFd, FillMissing>,
    exited: bool,
    stat: Reread,
    io: Reread,
    wchan: Reread,
    syscall: Reread,
}

/// A /proc file kept open and read again from offset 0 at each sample: procfs builds the
/// text anew on every read from the start, and an open file saves an open and a close
/// per read (a held /proc file never keeps a process or a pipe alive).
#[derive(Debug, Default)]
struct Reread {
    file: Option<fs::File>,
}

impl Reread {
    fn read<'b>(&mut self, path: impl FnOnce() -> String, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        self.read_checked(path, buf).ok()
    }

    /// [`Reread::read`], saying why it failed.
    fn read_checked<'b>(
        &mut self,
        path: impl FnOnce() -> String,
        buf: &'b mut [u8],
    ) -> io::Result<&'b [u8]> {
        use std::os::unix::fs::FileExt;
        let file = match &self.file {
            Some(f) => f,
            None => self.file.insert(fs::File::open(path())?),
        };
        match file.read_at(buf, 0) {
            Ok(n) => Ok(&buf[..n]),
            Err(e) => {
                self.file = None;
                Err(e)
            }
        }
    }
}

/// The Linux [`Backend`].
#[derive(Debug)]
pub(crate) struct Sampler {
    tracked: HashMap<Pid, Tracked>,
    /// Stat of every process seen, read once per pid.
    seen: HashMap<Pid, Stat>,
    /// The processes a [`Target::Connected`] discovery found last time.
    members: BTreeSet<Pid>,
    /// The selectors that have matched a process at least once.
    found: Vec<ProcessSelector>,
    /// fdinfo of the read ends measured, by pid and fd.
    fdinfo: HashMap<(Pid, u64), Reread>,
    /// What the last discovery found of each process, for one whose fds can no longer
    /// be read (it made itself non-dumpable, say).
    known: HashMap<Pid, ProcEnds>,
    tick: Duration,
    me: Pid,
}

impl Backend for Sampler {
    fn new() -> Result<Self> {
        let hz = rustix::param::clock_ticks_per_second().max(1);
        Ok(Sampler {
            tracked: HashMap::new(),
            seen: HashMap::new(),
            members: BTreeSet::new(),
            found: Vec::new(),
            fdinfo: HashMap::new(),
            known: HashMap::new(),
            tick: Duration::from_nanos(1_000_000_000 / hz),
            me: std::process::id(),
        })
    }

    fn discover(&mut self, target: &Target) -> Result<Discovery> {
        // Parents do not change under a running pipeline: only new pids' stat is read.
        if let (Target::Children(root), true) = (target, self.seen.is_empty()) {
            // The shell's descendants were all forked after it, so (short of the pid
            // counter wrapping around) none of the older, lower pids is one: skip
            // reading them at all.
            for pid in list_pids()?.into_iter().filter(|p| p < root) {
                self.seen.insert(pid, Stat::unrelated());
            }
        }
        let table = proc_table(&mut self.seen)?;
        let mut alive: BTreeSet<Pid> = table
            .iter()
            .filter(|(_, st)| !matches!(st.state, b'Z' | b'X' | b'x'))
            .map(|(pid, _)| *pid)
            .collect();
        let procs = self.candidates(target, &table, &mut alive)?;
        if matches!(target, Target::Connected(_)) && !procs.is_empty() {
            self.members = procs.iter().map(|p| p.pid).collect();
        }
        // The shell's stdin, stdout and stderr (not the pipes it is making for its
        // stages, which it holds for a moment between forks).
        let root = match target {
            Target::Children(root) => proc_ends(*root, table.get(root), None, true).map(|mut r| {
                r.ends.retain(|e| e.handle <= 2);
                r
            }),
            Target::Connected(_) => None,
        };
        self.known = procs.iter().map(|p| (p.pid, p.clone())).collect();
        Ok(Discovery { procs, alive, root })
    }

    fn track(&mut self, pipeline: &Pipeline) {
        for pid in pipeline.stages.iter().filter_map(|s| s.pid) {
            self.tracked.entry(pid).or_insert_with(|| {
                let start = read_stat(pid).ok().map(|st| st.start);
                let pidfd = RPid::from_raw(pid as i32)
                    .ok_or(FillMissing::Gone)
                    .and_then(|p| {
                        pidfd_open(p, PidfdFlags::empty()).map_err(|e| missing(e.into()))
                    });
                Tracked {
                    start,
                    pidfd,
                    exited: false,
                    stat: Reread::default(),
                    io: Reread::default(),
                    wchan: Reread::default(),
                    syscall: Reread::default(),
                }
            });
        }
    }

    fn stage(&mut self, stage: &Stage, pid: Pid) -> StageSample {
        let mut out = StageSample::bare(Some(pid), StageState::Exited);
        let Some(t) = self.tracked.get_mut(&pid) else {
            return out;
        };
        if t.exited {
            return out;
        }
        let mut buf = [0u8; 1024];
        let Some(st) = t
            .stat
            .read(|| format!("/proc/{pid}/stat"), &mut buf)
            .and_then(parse::stat)
            .map(|s| (s.state, s.utime, s.stime, s.start_ticks, s.threads))
        else {
            t.exited = true;
            return out;
        };
        let (state, utime, stime, start, threads) = st;
        if t.start.is_some_and(|s| s != start) {
            t.exited = true;
            return out;
        }
        // A zombie not yet reaped by its shell still shows its final counters.
        out.cpu = Some(self.tick * (utime + stime) as u32);
        if let Some(text) = t.io.read(|| format!("/proc/{pid}/io"), &mut buf) {
            let io = parse::io_counters(text);
            (out.bytes_in, out.bytes_out) = (io.rchar, io.wchar);
        }
        if matches!(state, b'Z' | b'X' | b'x') {
            t.exited = true;
            return out;
        }
        out.activity = match state {
            b'R' => Activity::Running,
            b'T' | b't' => Activity::Stopped,
            _ => {
                let call = t.syscall.read(|| format!("/proc/{pid}/syscall"), &mut buf);
                let call = call.map(<[u8]>::to_vec);
                let wchan = &mut t.wchan;
                let main = super::state::sleeping(pid, call.as_deref(), || {
                    let mut b = [0u8; 128];
                    wchan
                        .read(|| format!("/proc/{pid}/wchan"), &mut b)
                        .map(<[u8]>::to_vec)
                });
                super::state::for_the_process(pid, threads, main).0
            }
        };
        out.state = state_of(&out.activity, stage);
        out
    }

    fn pipe(&mut self, p: &Pipe) -> PipeSample {
        let (fill, capacity) = self.fill_of(p);
        PipeSample {
            id: p.id,
            fill,
            capacity,
        }
    }

    fn exited(&self, pid: Pid) -> bool {
        self.tracked.get(&pid).is_none_or(|t| t.exited)
    }
}

impl Sampler {
    /// The processes that may be stages. One found exiting (its command line and fds
    /// already gone) is left out, and taken out of `alive` too.
    fn candidates(
        &mut self,
        target: &Target,
        table: &HashMap<Pid, Stat>,
        alive: &mut BTreeSet<Pid>,
    ) -> Result<Vec<ProcEnds>> {
        let mut ends = |pid: Pid, always: bool| {
            let e = proc_ends(pid, table.get(&pid), self.known.get(&pid), always);
            if e.is_none() && always {
                alive.remove(&pid);
            }
            e
        };
        match target {
            Target::Children(root) => {
                let mut kids: Vec<Pid> = Vec::new();
                let mut frontier = vec![*root];
                let mut seen = BTreeSet::from([*root]);
                while let Some(p) = frontier.pop() {
                    for (&pid, st) in table {
                        if st.ppid == p && seen.insert(pid) {
                            kids.push(pid);
                            frontier.push(pid);
                        }
                    }
                }
                // The shell is a stage itself once it has replaced itself with the one
                // command (`sh -c 'python3 x.py'`), whose children are then helpers.
                let shell = || {
                    let argv = fs::read(format!("/proc/{root}/cmdline")).unwrap_or_default();
                    let mut words = argv.split(|&b| b == 0);
                    let sh = words.next().is_some_and(|w| {
                        w.rsplit(|&b| b == b'/')
                            .next()
                            .is_some_and(|n| n.ends_with(b"sh"))
                    });
                    sh && words.next() == Some(b"-c")
                };
                if table.contains_key(root) && (kids.is_empty() || !shell()) {
                    kids.push(*root);
                }
                kids.sort_unstable();
                Ok(kids
                    .into_iter()
                    .filter(|pid| !matches!(table.get(pid).map(|s| s.state), Some(b'Z' | b'X')))
                    .filter_map(|pid| ends(pid, true))
                    .collect())
            }
            // The first time, names are matched and every process's fds are read; after
            // that only the members found and their descendants (a stage that forks
            // helpers), which keeps each refresh cheap.
            Target::Connected(_) if !self.members.is_empty() => {
                let mut pool: BTreeSet<Pid> = self.members.clone();
                let mut frontier: Vec<Pid> = pool.iter().copied().collect();
                while let Some(p) = frontier.pop() {
                    for (&pid, st) in table {
                        if st.ppid == p && pool.insert(pid) {
                            frontier.push(pid);
                        }
                    }
                }
                let seeds: Vec<Pid> = self.members.iter().copied().collect();
                let all: Vec<ProcEnds> = pool
                    .into_iter()
                    .filter(|pid| table.contains_key(pid))
                    .filter_map(|pid| ends(pid, true))
                    .collect();
                Ok(connected(&all, &seeds))
            }
            Target::Connected(selectors) => {
                let mut seeds = Vec::new();
                for sel in selectors {
                    // A zombie is no member of anything: it has exited and holds no
                    // pipe (a pipeline that just ended must not look like one stage).
                    let found: Vec<Pid> = table
                        .iter()
                        .filter(|(pid, st)| **pid != self.me && sel.matches(**pid, &st.comm))
                        .filter(|(_, st)| !matches!(st.state, b'Z' | b'X' | b'x'))
                        .map(|(pid, _)| *pid)
                        .collect();
                    // Once found, a process that exits leaves an empty pipeline, no error.
                    if found.is_empty() && !self.found.contains(sel) {
                        return Err(Error::InvalidInput(match sel {
                            ProcessSelector::Pid(p) => format!("no process with pid {p}"),
                            ProcessSelector::Name(n) => format!("no process named `{n}`"),
                        }));
                    }
                    if !found.is_empty() && !self.found.contains(sel) {
                        self.found.push(sel.clone());
                    }
                    seeds.extend(found);
                }
                // A pipeline lives in one session (see `connected`): only the seeds'
                // sessions are read, not the whole machine's fds.
                let sessions: BTreeSet<Pid> = seeds
                    .iter()
                    .filter_map(|p| table.get(p).map(|s| s.session))
                    .collect();
                let all: Vec<ProcEnds> = table
                    .iter()
                    .filter(|(pid, st)| **pid != self.me && sessions.contains(&st.session))
                    .filter_map(|(&pid, _)| ends(pid, seeds.contains(&pid)))
                    .collect();
                Ok(connected(&all, &seeds))
            }
        }
    }

    /// The fill and capacity of pipe `p`, or why the fill is not known. Checked in /proc
    /// first: nothing but a read-only end of this very pipe is ever duplicated.
    fn fill_of(&mut self, p: &Pipe) -> (std::result::Result<u64, FillMissing>, Option<u64>) {
        let Some(end) = p.read_end else {
            return (Err(FillMissing::NoReadEnd), None);
        };
        let pidfd = match self.tracked.get(&end.pid) {
            None => return (Err(FillMissing::Failed("not tracked".into())), None),
            Some(t) if t.exited => return (Err(FillMissing::Gone), None),
            Some(Tracked {
                pidfd: Err(why), ..
            }) => return (Err(why.clone()), None),
            Some(Tracked { pidfd: Ok(fd), .. }) => fd,
        };
        let info = self.fdinfo.entry((end.pid, end.handle)).or_default();
        let why = match read_end_now(info, end.pid, end.handle) {
            Ok((ino, true)) if ino == p.id => return measure(pidfd, end.handle, p.id),
            Ok(_) => FillMissing::Failed(format!(
                "fd {} no longer holds the pipe's read end",
                end.handle
            )),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                FillMissing::Denied(format!("reading the reader's fdinfo: {e}"))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                FillMissing::Failed(format!("the reader closed fd {}", end.handle))
            }
            Err(e) => missing(e),
        };
        (Err(why), None)
    }
}

fn missing(e: io::Error) -> FillMissing {
    if e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error()) {
        FillMissing::Gone
    } else if e.kind() == io::ErrorKind::PermissionDenied {
        FillMissing::Denied(e.to_string())
    } else {
        FillMissing::Failed(e.to_string())
    }
}

/// Duplicates the read end at `handle` of the process behind `pidfd`, checks it is still
/// a read-only end of pipe `ino`, asks how many bytes are queued and how many fit, and
/// closes it — all before returning.
pub(crate) fn measure(
    pidfd: &OwnedFd,
    handle: u64,
    ino: u64,
) -> (std::result::Result<u64, FillMissing>, Option<u64>) {
    let Ok(target) = i32::try_from(handle) else {
        return (Err(FillMissing::NoReadEnd), None);
    };
    let dup = match pidfd_getfd(pidfd, target, PidfdGetfdFlags::empty()) {
        Ok(fd) => fd,
        Err(e) if e == rustix::io::Errno::BADF => {
            return (
                Err(FillMissing::Failed(format!(
                    "the reader closed fd {handle}"
                ))),
                None,
            );
        }
        Err(e) if e == rustix::io::Errno::PERM || e == rustix::io::Errno::ACCESS => {
            return (
                Err(FillMissing::Denied(format!(
                    "{} (needs ptrace access to the reader)",
                    io::Error::from(e)
                ))),
                None,
            );
        }
        Err(e) => return (Err(missing(e.into())), None),
    };
    let same_pipe = fstat(&dup).is_ok_and(|st| st.st_ino == ino);
    let read_only = fcntl_getfl(&dup).is_ok_and(|fl| (fl & OFlags::RWMODE) == OFlags::RDONLY);
    if !(same_pipe && read_only) {
        drop(dup);
        return (
            Err(FillMissing::Failed(format!(
                "fd {handle} no longer holds the pipe's read end"
            ))),
            None,
        );
    }
    let fill = rustix::io::ioctl_fionread(&dup);
    let capacity = rustix::pipe::fcntl_getpipe_size(&dup)
        .ok()
        .map(|c| c as u64);
    drop(dup);
    (fill.map_err(|e| missing(e.into())), capacity)
}

/// The state views show for a stage doing `activity`: a read or write counts as blocked
/// on a pipe only when it is one of the stage's pipe ends (or the OS did not say which
/// handle, only that it is a pipe); any other wait is the stage's own business.
fn state_of(activity: &Activity, stage: &Stage) -> StageState {
    let holds =
        |fd: u64, f: fn(&PipeEnd) -> bool| stage.ends.iter().any(|e| e.handle == fd && f(e));
    match activity {
        Activity::Running => StageState::Running,
        Activity::Stopped => StageState::Stopped,
        Activity::Zombie => StageState::Exited,
        Activity::Reading { handle: None } => StageState::BlockedRead,
        Activity::Reading { handle: Some(h) } if holds(*h, PipeEnd::reads) => {
            StageState::BlockedRead
        }
        Activity::Writing { handle: None } => StageState::BlockedWrite,
        Activity::Writing { handle: Some(h) } if holds(*h, PipeEnd::writes) => {
            StageState::BlockedWrite
        }
        _ => StageState::Waiting,
    }
}

/// What discovery keeps of `/proc/PID/stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stat {
    comm: Vec<u8>,
    state: u8,
    ppid: Pid,
    session: Pid,
    start: u64,
}

impl Stat {
    /// A stand-in for a process known not to matter (parent 0, never read).
    fn unrelated() -> Stat {
        Stat {
            comm: Vec::new(),
            state: b'?',
            ppid: 0,
            session: 0,
            start: 0,
        }
    }
}

fn read_stat(pid: Pid) -> io::Result<Stat> {
    let text = fs::read(format!("/proc/{pid}/stat"))?;
    let st =
        parse::stat(&text).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad stat"))?;
    Ok(Stat {
        comm: st.comm.to_vec(),
        state: st.state,
        ppid: st.ppid,
        session: st.session,
        start: st.start_ticks,
    })
}

/// What `pid`'s `handle` is now: its pipe inode and whether it is read-only, from its
/// fdinfo (`ino:` since Linux 5.14; before, the fd's link).
fn read_end_now(info: &mut Reread, pid: Pid, handle: u64) -> io::Result<(u64, bool)> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unreadable fdinfo");
    let mut buf = [0u8; 512];
    let text = info.read_checked(|| format!("/proc/{pid}/fdinfo/{handle}"), &mut buf)?;
    let fdinfo = parse::fdinfo(text);
    let read_only = fdinfo.flags.ok_or_else(bad)? & 0o3 == 0;
    let ino = match fdinfo.ino {
        Some(ino) => ino,
        None => {
            let link = fs::read_link(format!("/proc/{pid}/fd/{handle}"))?;
            use std::os::unix::ffi::OsStrExt;
            match parse::fd_link(link.as_os_str().as_bytes()) {
                FdLink::Pipe(ino) => ino,
                _ => return Err(bad()),
            }
        }
    };
    Ok((ino, read_only))
}

/// Every pipe end (anonymous pipe or FIFO) `pid` holds, in fd order.
fn pipe_ends(pid: Pid) -> io::Result<Vec<PipeEnd>> {
    use std::os::unix::ffi::OsStrExt;
    let dir = format!("/proc/{pid}/fd");
    let mut ends = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(fd) = parse::decimal(name.as_bytes()) else {
            continue;
        };
        let Ok(link) = fs::read_link(entry.path()) else {
            continue; // closed since the listing
        };
        let pipe = match parse::fd_link(link.as_os_str().as_bytes()) {
            FdLink::Pipe(ino) => ino,
            // A FIFO: through the magic link, cached attributes only (no path walk).
            FdLink::Path(_) => match rustix::fs::statx(
                rustix::fs::CWD,
                entry.path(),
                AtFlags::STATX_DONT_SYNC,
                StatxFlags::TYPE | StatxFlags::INO,
            ) {
                Ok(st) if FileType::from_raw_mode(st.stx_mode.into()) == FileType::Fifo => {
                    st.stx_ino
                }
                _ => continue,
            },
            _ => continue,
        };
        // procfs gives the link itself the owner's read and write bits of the open mode.
        let mode = rustix::fs::statx(
            rustix::fs::CWD,
            entry.path(),
            AtFlags::SYMLINK_NOFOLLOW,
            StatxFlags::MODE,
        )
        .map_or(Mode::Unknown, |st| mode_of_link(st.stx_mode.into()));
        ends.push(PipeEnd {
            pipe,
            handle: fd,
            mode,
            stderr: fd == 2,
        });
    }
    ends.sort_by_key(|e| e.handle);
    Ok(ends)
}

/// `pid` as discovery sees it, or `None` when it holds no pipe end and is not wanted
/// `always`, or is exiting. Ends that may no longer be looked at are taken from what was
/// `known` of it before.
fn proc_ends(
    pid: Pid,
    stat: Option<&Stat>,
    known: Option<&ProcEnds>,
    always: bool,
) -> Option<ProcEnds> {
    let ends = match pipe_ends(pid) {
        Ok(ends) => ends,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            known.map(|k| k.ends.clone()).unwrap_or_default()
        }
        Err(_) => return None,
    };
    if ends.is_empty() && !always {
        return None;
    }
    // An empty command line: a kernel thread, or a process already exiting (its memory
    // and fds are being torn down) — no stage either way.
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let command = cmdline
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ");
    if command.is_empty() {
        return None;
    }
    Some(ProcEnds {
        pid,
        ppid: stat.map(|s| s.ppid),
        session: stat.map(|s| s.session),
        command,
        ends,
    })
}

/// The pids listed in /proc.
fn list_pids() -> Result<Vec<Pid>> {
    let dir = fs::read_dir("/proc").map_err(|e| Error::io("reading /proc", None, None, e))?;
    Ok(dir
        .flatten()
        .filter_map(|e| {
            use std::os::unix::ffi::OsStrExt;
            Pid::try_from(parse::decimal(e.file_name().as_bytes())?).ok()
        })
        .collect())
}

/// Every live (not zombie) descendant of `root`, parents before their children.
pub(crate) fn descendants(root: Pid) -> Result<Vec<Pid>> {
    let table = proc_table(&mut HashMap::new())?;
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (&pid, st) in &table {
            if st.ppid == p && pid != root && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out.retain(|pid| !matches!(table.get(pid).map(|s| s.state), Some(b'Z' | b'X' | b'x')));
    Ok(out)
}

/// Every visible process's stat, by pid. A pid already in `cache` is not read again (its
/// state there may be stale; its parent, as a rule, is not); pids no longer listed leave
/// the cache.
fn proc_table(cache: &mut HashMap<Pid, Stat>) -> Result<HashMap<Pid, Stat>> {
    let pids = list_pids()?.into_iter();
    let mut table = HashMap::with_capacity(cache.len());
    for pid in pids {
        let st = match cache.remove(&pid) {
            Some(st) => st,
            None => match read_stat(pid) {
                Ok(st) => st,
                Err(_) => continue,
            },
        };
        table.insert(pid, st);
    }
    cache.clone_from(&table);
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(ends: &[(u64, Mode)]) -> Stage {
        Stage {
            pid: Some(1),
            command: String::new(),
            ends: ends
                .iter()
                .map(|&(handle, mode)| PipeEnd {
                    pipe: 100 + handle,
                    handle,
                    mode,
                    stderr: handle == 2,
                })
                .collect(),
        }
    }

    #[test]
    fn only_the_stages_own_pipe_ends_make_it_blocked() {
        let s = stage(&[(0, Mode::Read), (1, Mode::Write), (5, Mode::Write)]);
        let reading = |h| Activity::Reading { handle: h };
        let writing = |h| Activity::Writing { handle: h };
        assert_eq!(state_of(&reading(Some(0)), &s), StageState::BlockedRead);
        assert_eq!(state_of(&writing(Some(5)), &s), StageState::BlockedWrite);
        // A read of fd 9, no pipe of the stage (a file, a socket): its own business.
        assert_eq!(state_of(&reading(Some(9)), &s), StageState::Waiting);
        // Writing fd 0, which it may only read: not a pipe write of its.
        assert_eq!(state_of(&writing(Some(0)), &s), StageState::Waiting);
        // The wait channel says a pipe, not which.
        assert_eq!(state_of(&reading(None), &s), StageState::BlockedRead);
        assert_eq!(
            state_of(&Activity::WaitingForChild { child: Some(7) }, &s),
            StageState::Waiting
        );
        assert_eq!(state_of(&Activity::Unknown, &s), StageState::Waiting);
    }

    #[test]
    fn finds_every_pipe_end_of_a_process_with_its_mode() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let ino = fstat(&r).unwrap().st_ino;
        let ends = pipe_ends(std::process::id()).unwrap();
        use std::os::fd::AsRawFd;
        let find = |fd: i32| ends.iter().find(|e| e.handle == fd as u64).copied();
        let re = find(r.as_raw_fd()).unwrap();
        let we = find(w.as_raw_fd()).unwrap();
        assert_eq!((re.pipe, re.mode, re.stderr), (ino, Mode::Read, false));
        assert_eq!((we.pipe, we.mode), (ino, Mode::Write));
    }

    #[test]
    fn measures_a_pipe_it_did_not_create_through_a_pidfd() {
        // Our own read end, reached the way a stage's is: pidfd_open + pidfd_getfd.
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let (r, w) = rustix::pipe::pipe().unwrap();
        let mut w = std::fs::File::from(w);
        w.write_all(&[7u8; 1000]).unwrap();
        let me = RPid::from_raw(std::process::id() as i32).unwrap();
        let Ok(pidfd) = pidfd_open(me, PidfdFlags::empty()) else {
            return; // kernels before 5.3
        };
        let ino = fstat(&r).unwrap().st_ino;
        let (fill, cap) = measure(&pidfd, r.as_raw_fd() as u64, ino);
        if let Err(FillMissing::Denied(_)) = fill {
            return; // pidfd_getfd refused in this sandbox
        }
        assert_eq!(fill, Ok(1000));
        assert!(cap.unwrap() >= 4096);
        // The write end is refused, never measured.
        let (fill, _) = measure(&pidfd, w.as_raw_fd() as u64, ino);
        assert!(matches!(fill, Err(FillMissing::Failed(_))), "{fill:?}");
        // Nothing was consumed.
        assert_eq!(rustix::io::ioctl_fionread(&r).unwrap(), 1000);
    }
}
