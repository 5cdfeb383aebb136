//! Linux: what a process is doing right now and how full a pipe is, for the wait-for
//! graph. Per process, `/proc/PID/stat` (scheduler state, parent, session), then for a
//! sleeping one `/proc/PID/syscall` (the call and its fd argument; needs ptrace read
//! access) or, where that is hidden, `/proc/PID/wchan`; `/proc/PID/io` for the byte
//! counters. A pipe's fill is measured on a `pidfd_getfd` duplicate of a read-only end,
//! closed at once (see `sample::measure`): nothing is read, so nothing is consumed.

use std::collections::HashMap;
use std::fs;
use std::os::fd::OwnedFd;

use rustix::process::{Pid as RPid, PidfdFlags, pidfd_open};

use crate::activity::{Activity, IoCounters, PipeFill, ProcessState};
use crate::model::{HandleRef, Pid};
use crate::parse::{self, PipeWait, Syscall};
use crate::sample::FillMissing;

/// Reads process states and pipe fills, keeping what it may reuse (pidfds, parents'
/// sessions) for a second look.
#[derive(Debug, Default)]
pub(crate) struct Prober {
    pidfds: HashMap<Pid, std::result::Result<OwnedFd, FillMissing>>,
    sessions: HashMap<Pid, Option<u32>>,
}

impl Prober {
    pub(crate) fn new() -> Self {
        Prober::default()
    }

    /// What `pid` is doing now; `None` when it is gone.
    pub(crate) fn process(&mut self, pid: Pid) -> Option<ProcessState> {
        let text = fs::read(format!("/proc/{pid}/stat")).ok()?;
        let st = parse::stat(&text)?;
        let (activity, syscall) = match st.state {
            b'R' => (Activity::Running, None),
            b'T' | b't' => (Activity::Stopped, None),
            // A leader that exited while other threads run is a zombie that still holds
            // its fds; what those threads do is not in its files.
            b'Z' if st.threads > 1 => (Activity::Unknown, None),
            b'Z' | b'X' | b'x' => (Activity::Zombie, None),
            _ => for_the_process(pid, st.threads, asleep(pid)),
        };
        // A process that is not its session's leader was started inside that session;
        // a parent in another session is not the one that started it (setsid makes a
        // leader): it was reparented to init or a subreaper when its parent went.
        let orphaned = st.session != pid
            && st.ppid != 0
            && self
                .session(st.ppid)
                .is_some_and(|parent| parent != st.session);
        Some(ProcessState {
            activity,
            syscall,
            orphaned,
            start: Some(st.start_ticks),
        })
    }

    fn session(&mut self, pid: Pid) -> Option<u32> {
        *self.sessions.entry(pid).or_insert_with(|| {
            let text = fs::read(format!("/proc/{pid}/stat")).ok()?;
            parse::stat(&text).map(|s| s.session)
        })
    }

    /// The byte counters of `pid`, when it may be read.
    pub(crate) fn io(&mut self, pid: Pid) -> Option<IoCounters> {
        let text = fs::read(format!("/proc/{pid}/io")).ok()?;
        let io = parse::io_counters(&text);
        Some(IoCounters {
            read: io.rchar?,
            written: io.wchar?,
        })
    }

    /// The fill and capacity of pipe `ino`, measured through `end`, a read-only end of it.
    pub(crate) fn fill(&mut self, end: HandleRef, ino: u64) -> PipeFill {
        let pidfd = self.pidfds.entry(end.pid).or_insert_with(|| {
            let pid = RPid::from_raw(end.pid as i32).ok_or(FillMissing::Gone)?;
            pidfd_open(pid, PidfdFlags::empty()).map_err(|e| match e {
                rustix::io::Errno::SRCH => FillMissing::Gone,
                e => FillMissing::Failed(std::io::Error::from(e).to_string()),
            })
        });
        let (fill, capacity) = match pidfd {
            Ok(fd) => super::sample::measure(fd, end.handle, ino),
            Err(why) => (Err(why.clone()), None),
        };
        PipeFill { fill, capacity }
    }
}

/// The inode of the initial pid namespace (`PROC_PID_INIT_INO` in the kernel).
const INITIAL_PID_NAMESPACE: u64 = 0xEFFF_FFFC;

/// Whether this process runs in a nested pid namespace, so that processes outside it
/// (which may hold pipe ends) are invisible to the scan.
pub(crate) fn partial_view() -> bool {
    use std::os::unix::ffi::OsStrExt;
    if let Ok(link) = fs::read_link("/proc/self/ns/pid") {
        if let parse::FdLink::Tagged(b"pid", ino) = parse::fd_link(link.as_os_str().as_bytes()) {
            return ino != INITIAL_PID_NAMESPACE;
        }
    }
    // No namespace link to read: a pid in several namespaces says it is nested.
    fs::read("/proc/self/status").is_ok_and(|t| parse::nspid(&t).len() > 1)
}

/// What a process whose main thread sleeps as `main` waits for. A main thread parked in
/// futex (joining its workers, or waiting on a condition they signal) speaks for its
/// other `threads`: one reading or writing a pipe, or a reaper in waitpid (Java's
/// Process.waitFor, pigz, a Rust or Python thread reading a child's output), stands for
/// the process. Used by `pipes`' look and by the live sampler alike.
pub(crate) fn for_the_process(
    pid: Pid,
    threads: u32,
    main: (Activity, Option<&'static str>),
) -> (Activity, Option<&'static str>) {
    match main {
        (Activity::Sleeping { .. }, Some("futex")) if threads > 1 => {
            other_threads(pid).unwrap_or(main)
        }
        main => main,
    }
}

/// The most telling thing another thread of `pid` is asleep in: a pipe read or write,
/// else a wait for a child; `None` when none is. Looks at the first 128 threads.
fn other_threads(pid: Pid) -> Option<(Activity, Option<&'static str>)> {
    let mut child = None;
    for entry in fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
        .take(128)
    {
        let Some(tid) = entry
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<Pid>().ok())
        else {
            continue;
        };
        if tid == pid {
            continue;
        }
        let asleep = fs::read(format!("/proc/{pid}/task/{tid}/stat"))
            .ok()
            .is_some_and(|t| parse::stat(&t).is_some_and(|st| matches!(st.state, b'S' | b'D')));
        if !asleep {
            continue;
        }
        let syscall = fs::read(format!("/proc/{pid}/task/{tid}/syscall")).ok();
        let found = sleeping(pid, syscall.as_deref(), || {
            fs::read(format!("/proc/{pid}/task/{tid}/wchan")).ok()
        });
        match found.0 {
            Activity::Reading { .. } | Activity::Writing { .. } => return Some(found),
            Activity::WaitingForChild { .. } if child.is_none() => child = Some(found),
            _ => {}
        }
    }
    child
}

/// What a sleeping `pid` waits for: its system call, or its wait channel where the
/// call may not be read; unknown when neither may.
fn asleep(pid: Pid) -> (Activity, Option<&'static str>) {
    let syscall = fs::read(format!("/proc/{pid}/syscall")).ok();
    sleeping(pid, syscall.as_deref(), || {
        fs::read(format!("/proc/{pid}/wchan")).ok()
    })
}

/// What a sleeping `pid` waits for, from the text of its `/proc/PID/syscall` (`None`
/// when it may not be read) or else of its wait channel (`wchan`, read only when
/// needed); the system call's name when known. Shared with the live sampler.
pub(crate) fn sleeping(
    pid: Pid,
    syscall: Option<&[u8]>,
    wchan: impl FnOnce() -> Option<Vec<u8>>,
) -> (Activity, Option<&'static str>) {
    match syscall.and_then(parse::syscall) {
        Some(Syscall::Call { nr, args }) => return in_call(pid, nr, args),
        Some(Syscall::Running) => return (Activity::Running, None),
        Some(Syscall::NotInSyscall) | None => {}
    }
    let Some(wchan) = wchan() else {
        return (Activity::Unknown, None);
    };
    let activity = match parse::wchan_pipe_wait(&wchan) {
        Some(PipeWait::Read) => Activity::Reading { handle: None },
        Some(PipeWait::Write) => Activity::Writing { handle: None },
        // `0` (or nothing): the kernel hides the channel from us.
        None => match wchan.trim_ascii() {
            b"" | b"0" => Activity::Unknown,
            b"do_wait" => Activity::WaitingForChild { child: None },
            w => Activity::Sleeping {
                reason: Some(String::from_utf8_lossy(w).into_owned()),
            },
        },
    };
    (activity, None)
}

/// What sleeping in system call `nr` with `args` means.
fn in_call(pid: Pid, nr: u64, args: [u64; 6]) -> (Activity, Option<&'static str>) {
    let Some(&(_, name, call)) = CALLS.iter().find(|(n, _, _)| *n as u64 == nr) else {
        return (Activity::Sleeping { reason: None }, None);
    };
    let activity = match call {
        Call::Read => Activity::Reading {
            handle: Some(args[0]),
        },
        Call::Write => Activity::Writing {
            handle: Some(args[0]),
        },
        Call::Wait4 => Activity::WaitingForChild {
            // pid > 0: that child; -1: any; 0 or < -1: a process group.
            child: i32::try_from(args[0] as i64)
                .ok()
                .and_then(|p| u32::try_from(p).ok().filter(|&p| p > 0)),
        },
        Call::Waitid => Activity::WaitingForChild {
            child: match args[0] {
                P_PID => u32::try_from(args[1]).ok().filter(|&p| p > 0),
                P_PIDFD => pidfd_target(pid, args[1]),
                _ => None,
            },
        },
        Call::Other => Activity::Sleeping {
            reason: Some(name.to_string()),
        },
    };
    (activity, Some(name))
}

/// The process a pidfd of `pid` refers to (the `Pid:` line of its fdinfo).
fn pidfd_target(pid: Pid, fd: u64) -> Option<Pid> {
    let text = fs::read(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
    let info = parse::fdinfo(&text);
    let (_, v) = info.extra.iter().find(|(k, _)| k == "Pid")?;
    v.parse().ok().filter(|&p: &Pid| p > 0)
}

/// `waitid` id types (`<linux/wait.h>`).
const P_PID: u64 = 1;
const P_PIDFD: u64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    /// Reads from the fd in its first argument.
    Read,
    /// Writes to the fd in its first argument.
    Write,
    Wait4,
    Waitid,
    Other,
}

/// The system calls a process may sleep in, by number on this architecture.
const CALLS: &[(libc::c_long, &str, Call)] = &[
    (libc::SYS_read, "read", Call::Read),
    (libc::SYS_readv, "readv", Call::Read),
    (libc::SYS_pread64, "pread64", Call::Read),
    (libc::SYS_preadv, "preadv", Call::Read),
    (libc::SYS_preadv2, "preadv2", Call::Read),
    (libc::SYS_write, "write", Call::Write),
    (libc::SYS_writev, "writev", Call::Write),
    (libc::SYS_pwrite64, "pwrite64", Call::Write),
    (libc::SYS_pwritev, "pwritev", Call::Write),
    (libc::SYS_pwritev2, "pwritev2", Call::Write),
    (libc::SYS_wait4, "wait4", Call::Wait4),
    (libc::SYS_waitid, "waitid", Call::Waitid),
    (libc::SYS_ppoll, "ppoll", Call::Other),
    (libc::SYS_pselect6, "pselect6", Call::Other),
    (libc::SYS_epoll_pwait, "epoll_pwait", Call::Other),
    (libc::SYS_epoll_pwait2, "epoll_pwait2", Call::Other),
    (libc::SYS_nanosleep, "nanosleep", Call::Other),
    (libc::SYS_clock_nanosleep, "clock_nanosleep", Call::Other),
    (libc::SYS_futex, "futex", Call::Other),
    (libc::SYS_rt_sigsuspend, "rt_sigsuspend", Call::Other),
    (libc::SYS_rt_sigtimedwait, "rt_sigtimedwait", Call::Other),
    (libc::SYS_accept4, "accept4", Call::Other),
    (libc::SYS_connect, "connect", Call::Other),
    (libc::SYS_recvfrom, "recvfrom", Call::Other),
    (libc::SYS_recvmsg, "recvmsg", Call::Other),
    (libc::SYS_sendto, "sendto", Call::Other),
    (libc::SYS_sendmsg, "sendmsg", Call::Other),
    (libc::SYS_openat, "openat", Call::Other),
    (libc::SYS_splice, "splice", Call::Other),
    (libc::SYS_tee, "tee", Call::Other),
    (libc::SYS_sendfile, "sendfile", Call::Other),
    (libc::SYS_flock, "flock", Call::Other),
    (libc::SYS_fcntl, "fcntl", Call::Other),
    (libc::SYS_msgrcv, "msgrcv", Call::Other),
    (libc::SYS_semtimedop, "semtimedop", Call::Other),
    (libc::SYS_io_uring_enter, "io_uring_enter", Call::Other),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_poll, "poll", Call::Other),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_select, "select", Call::Other),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_epoll_wait, "epoll_wait", Call::Other),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_pause, "pause", Call::Other),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_accept, "accept", Call::Other),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_open, "open", Call::Other),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_mean_what_they_say() {
        let call = |nr: libc::c_long, a0: u64, a1: u64| in_call(1, nr as u64, [a0, a1, 0, 0, 0, 0]);
        assert_eq!(
            call(libc::SYS_read, 3, 0),
            (Activity::Reading { handle: Some(3) }, Some("read"))
        );
        assert_eq!(
            call(libc::SYS_writev, 1, 0).0,
            Activity::Writing { handle: Some(1) }
        );
        assert_eq!(
            call(libc::SYS_wait4, 4242, 0).0,
            Activity::WaitingForChild { child: Some(4242) }
        );
        assert_eq!(
            call(libc::SYS_wait4, u64::MAX, 0).0,
            Activity::WaitingForChild { child: None }
        );
        assert_eq!(
            call(libc::SYS_waitid, P_PID, 77).0,
            Activity::WaitingForChild { child: Some(77) }
        );
        assert_eq!(
            call(libc::SYS_waitid, 0, 0).0,
            Activity::WaitingForChild { child: None }
        );
        assert_eq!(
            call(libc::SYS_nanosleep, 0, 0).0,
            Activity::Sleeping {
                reason: Some("nanosleep".into())
            }
        );
        assert_eq!(
            in_call(1, 100_000, [0; 6]),
            (Activity::Sleeping { reason: None }, None)
        );
    }

    #[test]
    fn a_sleeping_child_reads_as_asleep_and_a_stopped_one_as_stopped() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let pid = child.id();
        let mut p = Prober::new();
        // Wait for the exec and the first sleep.
        let mut state = None;
        for _ in 0..500 {
            state = p.process(pid);
            if matches!(
                state.as_ref().map(|s| &s.activity),
                Some(Activity::Sleeping { .. })
            ) && fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let st = state.expect("state");
        assert!(
            matches!(st.activity, Activity::Sleeping { .. }),
            "{:?}",
            st.activity
        );
        assert!(!st.orphaned);
        assert!(p.io(pid).is_some());
        let _ = rustix::process::kill_process(
            RPid::from_raw(pid as i32).unwrap(),
            rustix::process::Signal::STOP,
        );
        let mut stopped = false;
        for _ in 0..500 {
            if p.process(pid)
                .is_some_and(|s| s.activity == Activity::Stopped)
            {
                stopped = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(stopped);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(p.process(pid), None);
    }
}
