//! Parsers for the text Linux's /proc gives out: the target of a `/proc/PID/fd/N` link,
//! `/proc/PID/fdinfo/N`, `/proc/PID/stat`, `/proc/PID/syscall`, `/proc/PID/wchan`,
//! `/proc/PID/io`, `/proc/PID/status`, `/proc/stat` and `/etc/passwd`.
//!
//! They take bytes and return values, with no I/O, so they build and are tested on every
//! OS; the Linux backend feeds them what it reads.

/// What the target text of a `/proc/PID/fd/N` link says the handle points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdLink<'a> {
    /// A path in the file system (a file, directory, FIFO, device…; its type needs a stat).
    Path(&'a [u8]),
    /// `/memfd:NAME (deleted)`: an anonymous memory file.
    Memfd(&'a [u8]),
    /// `pipe:[INODE]`: an anonymous pipe end.
    Pipe(u64),
    /// `socket:[INODE]`.
    Socket(u64),
    /// `anon_inode:[KIND]` or `anon_inode:KIND`: an object with no inode of its own
    /// (eventfd, epoll, timerfd…); the kind as written, brackets removed.
    Anon(&'a [u8]),
    /// Any other `KIND:[NUMBER]` (namespace files such as `net:[4026531840]`, `pidfd:[N]`).
    Tagged(&'a [u8], u64),
    /// Text of no known shape.
    Other,
}

/// Parses the target of a `/proc/PID/fd/N` link.
pub fn fd_link(text: &[u8]) -> FdLink<'_> {
    if text.first() == Some(&b'/') {
        if let Some(rest) = text.strip_prefix(b"/memfd:") {
            if let Some(name) = rest.strip_suffix(b" (deleted)") {
                return FdLink::Memfd(name);
            }
        }
        return FdLink::Path(text);
    }
    if let Some(kind) = text.strip_prefix(b"anon_inode:") {
        let kind = kind
            .strip_prefix(b"[")
            .and_then(|k| k.strip_suffix(b"]"))
            .unwrap_or(kind);
        return FdLink::Anon(kind);
    }
    let Some(colon) = text.iter().position(|&b| b == b':') else {
        return FdLink::Other;
    };
    let (tag, rest) = (&text[..colon], &text[colon + 1..]);
    let Some(num) = rest
        .strip_prefix(b"[")
        .and_then(|r| r.strip_suffix(b"]"))
        .and_then(decimal)
    else {
        return FdLink::Other;
    };
    match tag {
        b"pipe" => FdLink::Pipe(num),
        b"socket" => FdLink::Socket(num),
        _ => FdLink::Tagged(tag, num),
    }
}

/// Every handle type a Linux scan gives (`unknown` where a type could not be read); an
/// `anon_inode` kind missing from [`anon_type`] is shown by its own name.
pub const LINUX_HANDLE_TYPES: &[&str] = &[
    "file",
    "dir",
    "pipe",
    "fifo",
    "socket",
    "char",
    "block",
    "link",
    "eventfd",
    "epoll",
    "timerfd",
    "signalfd",
    "inotify",
    "fanotify",
    "pidfd",
    "memfd",
    "io_uring",
    "userfaultfd",
    "perf_event",
    "bpf",
    "dmabuf",
    "sync_file",
    "kvm",
    "memfd_secret",
    "namespace",
    "unknown",
];

/// The handle type pipescope shows for an `anon_inode` kind (`eventfd`, `epoll`…), or
/// `None` for a kind it does not know.
pub fn anon_type(kind: &[u8]) -> Option<&'static str> {
    Some(match kind {
        b"eventfd" => "eventfd",
        b"eventpoll" => "epoll",
        b"timerfd" => "timerfd",
        b"signalfd" => "signalfd",
        b"inotify" => "inotify",
        b"fanotify" => "fanotify",
        b"pidfd" => "pidfd",
        b"io_uring" => "io_uring",
        b"userfaultfd" => "userfaultfd",
        b"perf_event" => "perf_event",
        b"bpf-map" | b"bpf-prog" | b"bpf_link" | b"bpf_iter" => "bpf",
        b"dmabuf" => "dmabuf",
        b"sync_file" => "sync_file",
        b"kvm-vm" | b"kvm-vcpu" => "kvm",
        b"mlock" => "memfd_secret",
        _ => return None,
    })
}

/// Whether every open of this `anon_inode` kind is read-write: the kernel creates them
/// `O_RDWR` and they cannot be reopened another way, so their mode needs no lookup.
pub fn anon_always_read_write(kind: &[u8]) -> bool {
    matches!(
        kind,
        b"eventfd" | b"eventpoll" | b"timerfd" | b"signalfd" | b"io_uring"
    )
}

/// The fields of `/proc/PID/fdinfo/N`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FdInfo {
    /// `pos:` the file position.
    pub pos: Option<u64>,
    /// `flags:` the open flags (octal in the file).
    pub flags: Option<u32>,
    /// `mnt_id:` the mount id.
    pub mnt_id: Option<u64>,
    /// `ino:` the inode number.
    pub ino: Option<u64>,
    /// Every other line, as `key`, `value` (split at the first `:`, both trimmed), in
    /// order: eventfd count, timerfd clock, epoll targets (`tfd`), inotify watches…
    pub extra: Vec<(String, String)>,
}

/// Parses the text of `/proc/PID/fdinfo/N`.
pub fn fdinfo(text: &[u8]) -> FdInfo {
    let mut info = FdInfo::default();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let (key, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => (trim(&line[..i]), trim(&line[i + 1..])),
            None => (trim(line), &b""[..]),
        };
        match key {
            b"pos" => info.pos = decimal(value),
            b"flags" => info.flags = octal(value),
            b"mnt_id" => info.mnt_id = decimal(value),
            b"ino" => info.ino = decimal(value),
            _ => info.extra.push((
                String::from_utf8_lossy(key).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            )),
        }
    }
    info.extra.shrink_to_fit();
    info
}

/// Just the `flags:` value of fdinfo text, without building the rest.
pub fn fdinfo_flags(text: &[u8]) -> Option<u32> {
    text.split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"flags:"))
        .and_then(|v| octal(trim(v)))
}

/// A thread's time on a CPU and time waiting for one, in ns: the first two fields of
/// `/proc/PID/task/TID/schedstat` (the scheduler's `sum_exec_runtime` and
/// `sched_info.run_delay`).
pub fn schedstat(text: &[u8]) -> Option<(u64, u64)> {
    let mut fields = text
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .map(|f| std::str::from_utf8(f).ok()?.parse::<u64>().ok());
    Some((fields.next()??, fields.next()??))
}

/// The fields pipescope uses from `/proc/PID/stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat<'a> {
    /// `comm`, the short name (up to 15 bytes; may hold spaces and parentheses).
    pub comm: &'a [u8],
    /// The state letter (`R`, `S`, `Z`…).
    pub state: u8,
    /// Parent process id.
    pub ppid: u32,
    /// Process group id.
    pub pgrp: u32,
    /// Session id.
    pub session: u32,
    /// CPU time in user mode, in clock ticks.
    pub utime: u64,
    /// CPU time in kernel mode, in clock ticks.
    pub stime: u64,
    /// Number of threads.
    pub threads: u32,
    /// Start time, in clock ticks after boot.
    pub start_ticks: u64,
}

/// Parses `/proc/PID/stat`. `comm` is found by the LAST `)`, since the name itself may
/// hold `)` and spaces.
pub fn stat(text: &[u8]) -> Option<Stat<'_>> {
    let open = text.iter().position(|&b| b == b'(')?;
    let close = text.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let comm = &text[open + 1..close];
    let mut fields = text.get(close + 2..)?.split(|&b| b == b' ');
    // After comm, fields counted from 1 as in proc(5): state(3) ppid(4) pgrp(5)
    // session(6) … utime(14) stime(15) … num_threads(20) … starttime(22).
    let state = *fields.next()?.first()?;
    let mut num = || decimal(fields.next()?);
    let ppid = num()? as u32;
    let pgrp = num()? as u32;
    let session = num()? as u32;
    for _ in 7..14 {
        num();
    }
    let utime = num()?;
    let stime = num()?;
    for _ in 16..20 {
        num();
    }
    let threads = num()? as u32;
    num();
    let start_ticks = num()?;
    Some(Stat {
        comm,
        state,
        ppid,
        pgrp,
        session,
        utime,
        stime,
        threads,
        start_ticks,
    })
}

/// What `/proc/PID/syscall` says a task is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syscall {
    /// `running`: on a CPU, so the call cannot be read.
    Running,
    /// `-1 SP PC`: blocked, but not in a system call (a stopped or faulting task).
    NotInSyscall,
    /// `NR A0 … A5 SP PC`: asleep in system call `nr` with these six arguments.
    Call {
        /// The system call number (of this architecture).
        nr: u64,
        /// Its arguments.
        args: [u64; 6],
    },
}

/// Parses `/proc/PID/syscall`: `running`, `-1 SP PC`, or `NR` and six hex arguments.
pub fn syscall(text: &[u8]) -> Option<Syscall> {
    let text = trim(text);
    if text == b"running" {
        return Some(Syscall::Running);
    }
    let mut f = text.split(|&b| b == b' ');
    let nr = f.next()?;
    if nr == b"-1" {
        return Some(Syscall::NotInSyscall);
    }
    let nr = decimal(nr)?;
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = hex(f.next()?)?;
    }
    Some(Syscall::Call { nr, args })
}

/// Which way a task asleep on a pipe waits, from its wait channel (`/proc/PID/wchan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeWait {
    /// In a pipe or FIFO read (`anon_pipe_read` on 6.x kernels, `pipe_read` before,
    /// `fifo_pipe_read`).
    Read,
    /// In a pipe or FIFO write.
    Write,
}

/// The pipe wait a wait channel names, or `None` for any other channel.
pub fn wchan_pipe_wait(wchan: &[u8]) -> Option<PipeWait> {
    match trim(wchan) {
        b"pipe_read" | b"anon_pipe_read" | b"fifo_pipe_read" => Some(PipeWait::Read),
        b"pipe_write" | b"anon_pipe_write" | b"fifo_pipe_write" => Some(PipeWait::Write),
        _ => None,
    }
}

/// The I/O counters of `/proc/PID/io` pipescope uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IoCounters {
    /// `rchar:` bytes read through any read call (pipes included).
    pub rchar: Option<u64>,
    /// `wchar:` bytes written through any write call.
    pub wchar: Option<u64>,
}

/// Parses `/proc/PID/io`.
pub fn io_counters(text: &[u8]) -> IoCounters {
    let field = |key: &[u8]| {
        text.split(|&b| b == b'\n')
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| decimal(trim(v)))
    };
    IoCounters {
        rchar: field(b"rchar:"),
        wchar: field(b"wchar:"),
    }
}

/// The pids of a process in each pid namespace it belongs to, outermost first (the
/// `NSpid:` line of `/proc/PID/status`); one entry outside any nested namespace.
pub fn nspid(status: &[u8]) -> Vec<u32> {
    status
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"NSpid:"))
        .map(|v| {
            v.split(|b| b.is_ascii_whitespace())
                .filter_map(decimal)
                .filter_map(|n| u32::try_from(n).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The boot time (`btime`, seconds since the epoch) from `/proc/stat`.
pub fn boot_time(proc_stat: &[u8]) -> Option<u64> {
    proc_stat
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"btime "))
        .and_then(|v| decimal(trim(v)))
}

/// The user names of `/etc/passwd`, as (uid, name), in file order.
pub fn passwd(text: &[u8]) -> Vec<(u32, String)> {
    text.split(|&b| b == b'\n')
        .filter(|l| !l.starts_with(b"#"))
        .filter_map(|line| {
            let mut f = line.split(|&b| b == b':');
            let name = f.next()?;
            let uid = decimal(f.nth(1)?)?;
            (!name.is_empty() && uid <= u64::from(u32::MAX))
                .then(|| (uid as u32, String::from_utf8_lossy(name).into_owned()))
        })
        .collect()
}

/// A decimal number of only digits, or `None`.
pub fn decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit()
            .then_some(())
            .and_then(|()| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
    })
}

/// A hexadecimal number, with or without `0x`.
fn hex(s: &[u8]) -> Option<u64> {
    let s = s.strip_prefix(b"0x").unwrap_or(s);
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        let d = (b as char).to_digit(16)?;
        Some((n << 4) | u64::from(d))
    })
}

fn octal(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 22 {
        return None;
    }
    s.iter().try_fold(0u32, |n, &b| {
        (b'0'..=b'7')
            .contains(&b)
            .then_some(())
            .and_then(|()| n.checked_mul(8)?.checked_add(u32::from(b - b'0')))
    })
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_gives_run_time_and_run_delay() {
        assert_eq!(schedstat(b"5839202 68021 12\n"), Some((5_839_202, 68_021)));
        assert_eq!(schedstat(b"12\n"), None);
        assert_eq!(schedstat(b""), None);
    }

    #[test]
    fn fd_links_of_every_shape() {
        let cases: &[(&[u8], FdLink<'_>)] = &[
            (b"pipe:[8844]", FdLink::Pipe(8844)),
            (b"socket:[16241]", FdLink::Socket(16241)),
            (b"anon_inode:[eventfd]", FdLink::Anon(b"eventfd")),
            (b"anon_inode:inotify", FdLink::Anon(b"inotify")),
            (b"/dev/null", FdLink::Path(b"/dev/null")),
            (b"/tmp/a (deleted)", FdLink::Path(b"/tmp/a (deleted)")),
            (b"/memfd:wayland (deleted)", FdLink::Memfd(b"wayland")),
            (b"/memfd:x", FdLink::Path(b"/memfd:x")),
            (b"net:[4026531840]", FdLink::Tagged(b"net", 4026531840)),
            (b"pidfd:[12]", FdLink::Tagged(b"pidfd", 12)),
            (b"pipe:[]", FdLink::Other),
            (b"pipe:[12x]", FdLink::Other),
            (b"pipe:[99999999999999999999999]", FdLink::Other),
            (b"", FdLink::Other),
            (b"weird", FdLink::Other),
        ];
        for (text, want) in cases {
            assert_eq!(fd_link(text), *want, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn anon_kinds_map_to_types() {
        assert_eq!(anon_type(b"eventpoll"), Some("epoll"));
        assert_eq!(anon_type(b"bpf-map"), Some("bpf"));
        assert_eq!(anon_type(b"something-new"), None);
        assert!(anon_always_read_write(b"eventfd"));
        assert!(!anon_always_read_write(b"inotify"));
    }

    #[test]
    fn fdinfo_of_a_pipe_write_end() {
        let text = b"pos:\t0\nflags:\t02000001\nmnt_id:\t15\nino:\t16240\n";
        let info = fdinfo(text);
        assert_eq!(info.pos, Some(0));
        assert_eq!(info.flags, Some(0o2000001));
        assert_eq!(info.mnt_id, Some(15));
        assert_eq!(info.ino, Some(16240));
        assert!(info.extra.is_empty());
        assert_eq!(fdinfo_flags(text), Some(0o2000001));
    }

    #[test]
    fn fdinfo_extra_lines_keep_their_order() {
        let text = b"pos:\t0\nflags:\t02\nmnt_id:\t16\nino:\t1057\n\
tfd:        5 events:       19 data:                5  pos:0 ino:3f00 sdev:e\n\
eventfd-count:                0\nsigmask:\t0000000000000000\nno colon here\n";
        let info = fdinfo(text);
        assert_eq!(info.flags, Some(0o2));
        let keys: Vec<_> = info.extra.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["tfd", "eventfd-count", "sigmask", "no colon here"]);
        assert_eq!(info.extra[1].1, "0");
        assert!(info.extra[0].1.starts_with("5 events:"));
    }

    #[test]
    fn fdinfo_tolerates_garbage() {
        assert_eq!(fdinfo(b"flags:\t09\npos:\tx\n").flags, None);
        assert_eq!(fdinfo(b"").extra.len(), 0);
        assert_eq!(fdinfo_flags(b"pos: 0\n"), None);
    }

    #[test]
    fn stat_with_a_hostile_comm() {
        let text = b"4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50\n";
        let s = stat(text).unwrap();
        assert_eq!(s.comm, b"a) b (c)");
        assert_eq!(s.state, b'S');
        assert_eq!(s.ppid, 1);
        assert_eq!((s.pgrp, s.session), (4242, 4242));
        assert_eq!((s.utime, s.stime, s.threads), (1, 2, 1));
        assert_eq!(s.start_ticks, 987654);
    }

    #[test]
    fn syscall_lines() {
        assert_eq!(syscall(b"running\n"), Some(Syscall::Running));
        assert_eq!(
            syscall(b"-1 0x7ffc4a0 0x7f00ab\n"),
            Some(Syscall::NotInSyscall)
        );
        assert_eq!(
            syscall(b"0 0x3 0x7ffd5b2c 0x20000 0x0 0x0 0x0 0x7ffd5a98 0x7f2a4e1\n"),
            Some(Syscall::Call {
                nr: 0,
                args: [3, 0x7ffd5b2c, 0x20000, 0, 0, 0]
            })
        );
        assert_eq!(
            syscall(b"61 0xffffffffffffffff 0x7ffd 0x0 0x0 0x0 0x0 0x1 0x2"),
            Some(Syscall::Call {
                nr: 61,
                args: [u64::MAX, 0x7ffd, 0, 0, 0, 0]
            })
        );
        assert_eq!(syscall(b"0 0x3"), None);
        assert_eq!(syscall(b""), None);
        assert_eq!(syscall(b"x 0x1 0x2 0x3 0x4 0x5 0x6"), None);
    }

    #[test]
    fn wait_channels_io_and_nspid() {
        assert_eq!(wchan_pipe_wait(b"anon_pipe_read"), Some(PipeWait::Read));
        assert_eq!(wchan_pipe_wait(b"pipe_write\n"), Some(PipeWait::Write));
        assert_eq!(wchan_pipe_wait(b"fifo_pipe_read"), Some(PipeWait::Read));
        assert_eq!(wchan_pipe_wait(b"do_wait"), None);
        assert_eq!(wchan_pipe_wait(b"0"), None);
        let io = io_counters(b"rchar: 6976\nwchar: 65536\nsyscr: 10\nsyscw: 8\n");
        assert_eq!((io.rchar, io.wchar), (Some(6976), Some(65536)));
        assert_eq!(io_counters(b""), IoCounters::default());
        assert_eq!(
            nspid(b"Name:\tsh\nNSpid:\t4242\t17\t1\nNSgid: 1\n"),
            vec![4242, 17, 1]
        );
        assert_eq!(nspid(b"NSpid:\t99\n"), vec![99]);
        assert!(nspid(b"Name: x\n").is_empty());
    }

    #[test]
    fn stat_rejects_truncated_text() {
        assert_eq!(stat(b"1 (x) S 0"), None);
        assert_eq!(stat(b"no parens"), None);
        assert_eq!(stat(b") (x"), None);
    }

    #[test]
    fn boot_time_and_passwd() {
        assert_eq!(
            boot_time(b"cpu  1 2 3\nintr 5\nbtime 1764150000\nprocesses 9\n"),
            Some(1764150000)
        );
        assert_eq!(boot_time(b"cpu 1\n"), None);
        let users = passwd(b"root:x:0:0:root:/root:/bin/bash\n#c:x:1:1\nnobody:x:65534:65534::/:/x\nbad:x:notanumber:0\n");
        assert_eq!(users, [(0, "root".into()), (65534, "nobody".into())]);
    }

    #[test]
    fn numbers() {
        assert_eq!(decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(decimal(b"18446744073709551616"), None);
        assert_eq!(decimal(b"-1"), None);
        assert_eq!(octal(b"037777777777"), Some(u32::MAX));
        assert_eq!(octal(b"040000000000"), None);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parsers_never_panic_on_any_bytes(text in proptest::collection::vec(any::<u8>(), 0..600)) {
                let _ = fd_link(&text);
                let _ = fdinfo(&text);
                let _ = fdinfo_flags(&text);
                let _ = stat(&text);
                let _ = boot_time(&text);
                let _ = passwd(&text);
                let _ = syscall(&text);
                let _ = wchan_pipe_wait(&text);
                let _ = io_counters(&text);
                let _ = nspid(&text);
            }

            #[test]
            fn pipe_and_socket_links_round_trip(ino in any::<u64>()) {
                let (pipe, socket) = (format!("pipe:[{ino}]"), format!("socket:[{ino}]"));
                prop_assert_eq!(fd_link(pipe.as_bytes()), FdLink::Pipe(ino));
                prop_assert_eq!(fd_link(socket.as_bytes()), FdLink::Socket(ino));
            }

            #[test]
            fn fdinfo_fields_round_trip(pos in any::<u64>(), flags in any::<u32>(), mnt in any::<u64>(), ino in any::<u64>()) {
                let text = format!("pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt}\nino:\t{ino}\n");
                let info = fdinfo(text.as_bytes());
                prop_assert_eq!((info.pos, info.flags, info.mnt_id, info.ino), (Some(pos), Some(flags), Some(mnt), Some(ino)));
                prop_assert_eq!(fdinfo_flags(text.as_bytes()), Some(flags));
            }

            #[test]
            fn stat_finds_any_comm(comm in proptest::collection::vec(any::<u8>().prop_filter("no NUL or newline", |b| *b != 0 && *b != b'\n'), 0..16), ppid in any::<u32>(), start in any::<u64>()) {
                let mut text = b"42 (".to_vec();
                text.extend_from_slice(&comm);
                text.extend_from_slice(format!(") S {ppid} 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0\n").as_bytes());
                let s = stat(&text).unwrap();
                prop_assert_eq!(s.comm, &comm[..]);
                prop_assert_eq!(s.ppid, ppid);
                prop_assert_eq!(s.start_ticks, start);
            }
        }
    }
}
