//! Linux pipeline sampler: finds stages in /proc, reads each stage's counters
//! (`/proc/PID/io`, `stat`, `wchan`) and measures each pipe's fill with a duplicate of its
//! read end (`pidfd_getfd`, then `FIONREAD` and `F_GETPIPE_SZ`) closed at once.
//!
//! Only read-only ends are duplicated: a held write end would delay the reader's end of
//! file. The duplicate lives for two syscalls and never reads, so no byte of the
//! pipeline's data is consumed, delayed or reordered.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::fs::{OFlags, fcntl_getfl, fstat};
use rustix::process::{Pid as RPid, PidfdFlags, PidfdGetfdFlags, pidfd_getfd, pidfd_open};

use crate::model::{Pid, ProcessSelector};
use crate::sample::{
    FillMissing, Pipe, PipeEnd, PipeSample, Pipeline, ProcEnds, Sample, StageSample, StageState,
    Target, connected, pipe_wait_from_wchan,
};
use crate::{Error, Result};

/// What we keep per stage between samples.
#[derive(Debug)]
struct Tracked {
    /// Start time (clock ticks since boot) at first sight, to notice pid reuse.
    start: Option<u64>,
    /// A pidfd, for duplicating this stage's read end; `Err` says why there is none.
    pidfd: std::result::Result<OwnedFd, FillMissing>,
    exited: bool,
    stat: Reread,
    io: Reread,
    wchan: Reread,
}

/// A /proc file kept open and read again from offset 0 at each sample: procfs builds the
/// text anew on every read from the start, and an open file saves an open and a close
/// per read (a held /proc file never keeps a process or a pipe alive).
#[derive(Debug, Default)]
struct Reread {
    file: Option<fs::File>,
}

impl Reread {
    fn read<'b>(&mut self, path: impl FnOnce() -> String, buf: &'b mut [u8]) -> Option<&'b str> {
        self.read_checked(path, buf).ok()
    }

    /// [`Reread::read`], saying why it failed.
    fn read_checked<'b>(
        &mut self,
        path: impl FnOnce() -> String,
        buf: &'b mut [u8],
    ) -> io::Result<&'b str> {
        use std::os::unix::fs::FileExt;
        let file = match &self.file {
            Some(f) => f,
            None => self.file.insert(fs::File::open(path())?),
        };
        match file.read_at(buf, 0) {
            Ok(n) => std::str::from_utf8(&buf[..n])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) => {
                self.file = None;
                Err(e)
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct Sampler {
    tracked: HashMap<Pid, Tracked>,
    /// Stat of every process seen, read once per pid.
    seen: HashMap<Pid, Stat>,
    /// The processes a [`Target::Connected`] discovery found last time.
    members: BTreeSet<Pid>,
    /// fdinfo of the read ends measured, by pid and fd.
    fdinfo: HashMap<(Pid, u64), Reread>,
    /// What the last discovery found of each process, for one whose fds can no longer
    /// be read (it made itself non-dumpable, say).
    known: HashMap<Pid, ProcEnds>,
    tick: Duration,
    me: Pid,
}

impl Sampler {
    pub(crate) fn new() -> Self {
        let hz = rustix::param::clock_ticks_per_second().max(1);
        Sampler {
            tracked: HashMap::new(),
            seen: HashMap::new(),
            members: BTreeSet::new(),
            fdinfo: HashMap::new(),
            known: HashMap::new(),
            tick: Duration::from_nanos(1_000_000_000 / hz),
            me: std::process::id(),
        }
    }

    /// The processes of the pipeline as they are now.
    /// Also returns every pid alive now, so that stages no longer found can be told
    /// from stages that exited.
    pub(crate) fn discover(&mut self, target: &Target) -> Result<(Vec<ProcEnds>, BTreeSet<Pid>)> {
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
        let alive: BTreeSet<Pid> = table
            .iter()
            .filter(|(_, st)| !matches!(st.state, 'Z' | 'X' | 'x'))
            .map(|(pid, _)| *pid)
            .collect();
        let mut alive = alive;
        let procs = self.candidates(target, &table, &mut alive)?;
        if matches!(target, Target::Connected(_)) && !procs.is_empty() {
            self.members = procs.iter().map(|p| p.pid).collect();
        }
        self.known = procs.iter().map(|p| (p.pid, p.clone())).collect();
        Ok((procs, alive))
    }

    /// The processes that may be stages. One found exiting (its command line and fds
    /// already gone) is left out, and taken out of `alive` too.
    fn candidates(
        &self,
        target: &Target,
        table: &HashMap<Pid, Stat>,
        alive: &mut BTreeSet<Pid>,
    ) -> Result<Vec<ProcEnds>> {
        let mut ends = |pid: Pid, ppid: Option<Pid>| {
            let e = proc_ends(pid, ppid, self.known.get(&pid));
            if e.is_none() {
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
                if kids.is_empty() && table.contains_key(root) {
                    kids.push(*root);
                }
                kids.sort_unstable();
                Ok(kids
                    .into_iter()
                    .filter(|pid| !matches!(table.get(pid).map(|s| s.state), Some('Z' | 'X')))
                    .filter_map(|pid| ends(pid, table.get(&pid).map(|s| s.ppid)))
                    .collect())
            }
            // The first time, names are matched and every process's fds 0 and 1 are
            // read; after that only the members found and their descendants (a stage
            // that forks helpers), which keeps each refresh cheap.
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
                    .filter_map(|pid| ends(pid, table.get(&pid).map(|s| s.ppid)))
                    .collect();
                Ok(connected(&all, &seeds))
            }
            Target::Connected(selectors) => {
                let mut seeds = Vec::new();
                for sel in selectors {
                    let found: Vec<Pid> = match sel {
                        ProcessSelector::Pid(p) => {
                            table.contains_key(p).then_some(*p).into_iter().collect()
                        }
                        ProcessSelector::Name(n) => table
                            .iter()
                            .filter(|(pid, st)| st.comm == *n && **pid != self.me)
                            .map(|(pid, _)| *pid)
                            .collect(),
                    };
                    if found.is_empty() && self.tracked.is_empty() {
                        return Err(Error::InvalidInput(match sel {
                            ProcessSelector::Pid(p) => format!("no process with pid {p}"),
                            ProcessSelector::Name(n) => format!("no process named `{n}`"),
                        }));
                    }
                    seeds.extend(found);
                }
                let all: Vec<ProcEnds> = table
                    .iter()
                    .filter(|(pid, _)| **pid != self.me)
                    .filter_map(|(&pid, st)| ends(pid, Some(st.ppid)))
                    .filter(|p| seeds.contains(&p.pid) || p.input.is_some() || p.output.is_some())
                    .collect();
                Ok(connected(&all, &seeds))
            }
        }
    }

    /// Starts following the stages of `pipeline` that are new.
    pub(crate) fn track(&mut self, pipeline: &Pipeline) {
        for s in &pipeline.stages {
            self.tracked.entry(s.pid).or_insert_with(|| {
                let start = read_stat(s.pid).ok().map(|st| st.start);
                let pidfd = RPid::from_raw(s.pid as i32)
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
                }
            });
        }
    }

    /// Reads every stage and pipe of `pipeline` once.
    pub(crate) fn sample(&mut self, pipeline: &Pipeline, at: Duration) -> Sample {
        let stages = pipeline
            .stages
            .iter()
            .map(|s| self.sample_stage(s.pid, s.input.map(|e| e.handle)))
            .collect();
        let pipes = pipeline
            .pipes
            .iter()
            .map(|p| {
                let (fill, capacity) = self.fill_of(p);
                PipeSample {
                    ino: p.ino,
                    fill,
                    capacity,
                }
            })
            .collect();
        Sample { at, stages, pipes }
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
            Ok((ino, true)) if ino == p.ino => return measure(pidfd, end.handle, p.ino),
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

    fn sample_stage(&mut self, pid: Pid, input_fd: Option<u64>) -> StageSample {
        let mut out = StageSample {
            pid,
            state: StageState::Exited,
            bytes_in: None,
            bytes_out: None,
            cpu: None,
        };
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
            .and_then(parse_stat)
        else {
            t.exited = true;
            return out;
        };
        if t.start.is_some_and(|s| s != st.start) {
            t.exited = true;
            return out;
        }
        // A zombie not yet reaped by its shell still shows its final counters.
        out.cpu = Some(self.tick * (st.utime + st.stime) as u32);
        if let Some(text) = t.io.read(|| format!("/proc/{pid}/io"), &mut buf) {
            (out.bytes_in, out.bytes_out) = parse_io(text);
        }
        if matches!(st.state, 'Z' | 'X' | 'x') {
            t.exited = true;
            return out;
        }
        out.state = match st.state {
            'R' => StageState::Running,
            'T' | 't' => StageState::Stopped,
            _ => {
                let wchan = t.wchan.read(|| format!("/proc/{pid}/wchan"), &mut buf);
                wait_of(pid, wchan, input_fd).unwrap_or(StageState::Waiting)
            }
        };
        out
    }

    pub(crate) fn all_exited(&self, pipeline: &Pipeline) -> bool {
        pipeline
            .stages
            .iter()
            .all(|s| self.tracked.get(&s.pid).is_none_or(|t| t.exited))
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

/// Which way a sleeping stage waits: its wait channel, or (where `wchan` is hidden) the
/// system call it sleeps in and on which fd.
fn wait_of(pid: Pid, wchan: Option<&str>, input_fd: Option<u64>) -> Option<StageState> {
    if let Some(w) = wchan.filter(|w| !w.is_empty() && *w != "0") {
        return Some(pipe_wait_from_wchan(w).unwrap_or(StageState::Waiting));
    }
    let text = fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    wait_from_syscall(&text, input_fd)
}

/// Parses `/proc/PID/syscall` ("NR arg0 …"): a read of the input fd is a blocked read, a
/// write of fd 1 a blocked write (system call numbers of this architecture).
fn wait_from_syscall(text: &str, input_fd: Option<u64>) -> Option<StageState> {
    let mut f = text.split_whitespace();
    let nr: u64 = f.next()?.parse().ok()?;
    let fd = u64::from_str_radix(f.next()?.trim_start_matches("0x"), 16).ok()?;
    #[cfg(target_arch = "x86_64")]
    let (reads, writes) = ([0u64, 19], [1u64, 20]);
    #[cfg(target_arch = "aarch64")]
    let (reads, writes) = ([63u64, 65], [64u64, 66]);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let (reads, writes): ([u64; 0], [u64; 0]) = ([], []);
    if reads.contains(&nr) && Some(fd) == input_fd {
        Some(StageState::BlockedRead)
    } else if writes.contains(&nr) && fd == 1 {
        Some(StageState::BlockedWrite)
    } else {
        Some(StageState::Waiting)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stat {
    comm: String,
    state: char,
    ppid: Pid,
    utime: u64,
    stime: u64,
    start: u64,
}

impl Stat {
    /// A stand-in for a process known not to matter (parent 0, never read).
    fn unrelated() -> Stat {
        Stat {
            comm: String::new(),
            state: '?',
            ppid: 0,
            utime: 0,
            stime: 0,
            start: 0,
        }
    }
}

fn read_stat(pid: Pid) -> io::Result<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad stat"))
}

/// Parses `/proc/PID/stat`; the name sits in parentheses and may hold anything.
fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let f: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    Some(Stat {
        comm,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        utime: f.get(11)?.parse().ok()?,
        stime: f.get(12)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

/// `rchar` and `wchar` of `/proc/PID/io`.
fn parse_io(text: &str) -> (Option<u64>, Option<u64>) {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
    };
    (field("rchar:"), field("wchar:"))
}

/// `N` from a `pipe:[N]` link.
fn parse_pipe_link(link: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(link).ok()?;
    s.strip_prefix("pipe:[")?.strip_suffix(']')?.parse().ok()
}

/// What `pid`'s `handle` is now: its pipe inode and whether it is read-only, from its
/// fdinfo (`ino:` since Linux 5.14; before, the fd's link).
fn read_end_now(info: &mut Reread, pid: Pid, handle: u64) -> io::Result<(u64, bool)> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unreadable fdinfo");
    let mut buf = [0u8; 512];
    let text = info.read_checked(|| format!("/proc/{pid}/fdinfo/{handle}"), &mut buf)?;
    let read_only = fdinfo_read_only(text).ok_or_else(bad)?;
    let ino = match fdinfo_ino(text) {
        Some(ino) => ino,
        None => pipe_end(pid, handle).ok_or_else(bad)?.ino,
    };
    Ok((ino, read_only))
}

/// The `ino:` line of fdinfo.
fn fdinfo_ino(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("ino:"))?
        .trim()
        .parse()
        .ok()
}

/// The access mode bits of fdinfo's octal `flags:` line.
fn fdinfo_read_only(text: &str) -> Option<bool> {
    let flags = text.lines().find_map(|l| l.strip_prefix("flags:"))?.trim();
    let v = u32::from_str_radix(flags, 8).ok()?;
    Some(v & 0o3 == 0)
}

fn pipe_end(pid: Pid, fd: u64) -> Option<PipeEnd> {
    pipe_end_checked(pid, fd).ok().flatten()
}

/// [`pipe_end`], with `Err` when the fd may not be looked at (permission denied).
fn pipe_end_checked(pid: Pid, fd: u64) -> std::result::Result<Option<PipeEnd>, ()> {
    use std::os::unix::ffi::OsStrExt;
    let link = match fs::read_link(format!("/proc/{pid}/fd/{fd}")) {
        Ok(l) => l,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Err(()),
        Err(_) => return Ok(None),
    };
    let Some(ino) = parse_pipe_link(link.as_os_str().as_bytes()) else {
        return Ok(None);
    };
    let read_only = fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}"))
        .ok()
        .and_then(|t| fdinfo_read_only(&t))
        .unwrap_or(false);
    Ok(Some(PipeEnd {
        ino,
        handle: fd,
        read_only,
    }))
}

/// `pid` as discovery sees it. Ends that may no longer be looked at are taken from what
/// was `known` of it before.
fn proc_ends(pid: Pid, ppid: Option<Pid>, known: Option<&ProcEnds>) -> Option<ProcEnds> {
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
    let end = |fd: u64, before: Option<PipeEnd>| pipe_end_checked(pid, fd).unwrap_or(before);
    Some(ProcEnds {
        pid,
        ppid,
        input: end(0, known.and_then(|k| k.input)),
        output: end(1, known.and_then(|k| k.output)),
        command,
    })
}

/// The pids listed in /proc.
fn list_pids() -> Result<Vec<Pid>> {
    let dir = fs::read_dir("/proc").map_err(|e| Error::io("reading /proc", None, None, e))?;
    Ok(dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<Pid>().ok())
        .collect())
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

    #[test]
    fn stat_with_spaces_and_parens_in_the_name() {
        let t = "4242 (a) b (c)) S 17 4242 4242 0 -1 4194304 120 0 0 0 7 3 0 0 20 0 1 0 \
                 98765 2301952 160 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0";
        let s = parse_stat(t).unwrap();
        assert_eq!(s.comm, "a) b (c)");
        assert_eq!(
            (s.state, s.ppid, s.utime, s.stime, s.start),
            ('S', 17, 7, 3, 98765)
        );
    }

    proptest::proptest! {
        /// The /proc parsers take any text without panicking.
        #[test]
        fn parsers_take_any_text(text in "\\PC{0,200}") {
            let _ = parse_stat(&text);
            let _ = parse_io(&text);
            let _ = parse_pipe_link(text.as_bytes());
            let _ = fdinfo_read_only(&text);
            let _ = fdinfo_ino(&text);
            let _ = wait_from_syscall(&text, Some(0));
        }

        /// A stat line round-trips whatever the process's name holds.
        #[test]
        fn stat_names_with_anything(name in "\\PC{0,16}", utime in 0u64..1 << 40) {
            let line = format!("7 ({name}) S 1 7 7 0 -1 0 0 0 0 0 {utime} 3 0 0 20 0 1 0 555 0 0");
            let st = parse_stat(&line).unwrap();
            proptest::prop_assert_eq!(st.comm, name);
            proptest::prop_assert_eq!((st.utime, st.stime, st.start), (utime, 3, 555));
        }
    }

    #[test]
    fn io_counters() {
        let t = "rchar: 6976\nwchar: 65536\nsyscr: 10\nsyscw: 8\nread_bytes: 40960\n";
        assert_eq!(parse_io(t), (Some(6976), Some(65536)));
        assert_eq!(parse_io(""), (None, None));
    }

    #[test]
    fn pipe_links_and_fdinfo_modes() {
        assert_eq!(parse_pipe_link(b"pipe:[8844]"), Some(8844));
        assert_eq!(parse_pipe_link(b"socket:[8844]"), None);
        assert_eq!(parse_pipe_link(b"/tmp/pipe:[1]"), None);
        assert_eq!(
            fdinfo_read_only("pos:\t0\nflags:\t02000000\nmnt_id:\t15\n"),
            Some(true)
        );
        assert_eq!(fdinfo_read_only("pos:\t0\nflags:\t01\n"), Some(false));
        assert_eq!(fdinfo_read_only("pos:\t0\nflags:\t02\n"), Some(false));
        assert_eq!(
            fdinfo_ino("pos:\t0\nflags:\t00\nmnt_id:\t15\nino:\t8844\n"),
            Some(8844)
        );
        assert_eq!(fdinfo_ino("pos:\t0\nflags:\t00\n"), None);
    }

    #[test]
    fn syscall_fallback() {
        let read0 = "0 0x0 0x7ffd 0x1000 0x0 0x0 0x0 0x7ffd 0x7f00";
        let write1 = "1 0x1 0x7ffd 0x1000 0x0 0x0 0x0 0x7ffd 0x7f00";
        if cfg!(target_arch = "x86_64") {
            assert_eq!(
                wait_from_syscall(read0, Some(0)),
                Some(StageState::BlockedRead)
            );
            assert_eq!(
                wait_from_syscall(write1, Some(0)),
                Some(StageState::BlockedWrite)
            );
            assert_eq!(wait_from_syscall(read0, None), Some(StageState::Waiting));
        }
        assert_eq!(wait_from_syscall("running", Some(0)), None);
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
