//! Parsers for the text Linux's /proc gives out: the target of a `/proc/PID/fd/N` link,
//! `/proc/PID/fdinfo/N`, `/proc/PID/stat`, `/proc/PID/io`, `/proc/PID/syscall`,
//! `/proc/PID/wchan`, `/proc/stat` and `/etc/passwd`.
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
        b"eventfd" | b"eventpoll" | b"timerfd" | b"signalfd" | b"io_uring" | b"userfaultfd"
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

/// The fields pipescope uses from `/proc/PID/stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat<'a> {
    /// `comm`, the short name (up to 15 bytes; may hold spaces and parentheses).
    pub comm: &'a [u8],
    /// The state letter (`R`, `S`, `Z`…).
    pub state: u8,
    /// Parent process id.
    pub ppid: u32,
    /// CPU time in user mode, in clock ticks.
    pub utime: u64,
    /// CPU time in kernel mode, in clock ticks.
    pub stime: u64,
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
    // After comm: state(3) ppid(4) … starttime(22); fields counted from 1 in proc(5).
    let state = *fields.next()?.first()?;
    let ppid = decimal(fields.next()?)? as u32;
    let utime = decimal(fields.nth(14 - 5)?)?;
    let stime = decimal(fields.next()?)?;
    let start_ticks = decimal(fields.nth(22 - 16)?)?;
    Some(Stat {
        comm,
        state,
        ppid,
        utime,
        stime,
        start_ticks,
    })
}

/// The I/O counters of `/proc/PID/io` (each `None` when its line is missing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoCounters {
    /// `rchar:` bytes read by any read call, from any source.
    pub rchar: Option<u64>,
    /// `wchar:` bytes written by any write call, to any target.
    pub wchar: Option<u64>,
}

/// Parses `/proc/PID/io`.
pub fn io(text: &[u8]) -> IoCounters {
    let mut c = IoCounters::default();
    for line in text.split(|&b| b == b'\n') {
        if let Some(v) = line.strip_prefix(b"rchar:") {
            c.rchar = decimal(trim(v));
        } else if let Some(v) = line.strip_prefix(b"wchar:") {
            c.wchar = decimal(trim(v));
        }
    }
    c
}

/// Which way a task sleeping in a pipe waits, from `/proc/PID/wchan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeWait {
    /// Waiting for data to read.
    Read,
    /// Waiting for room to write.
    Write,
}

/// The pipe wait a wait channel names: `anon_pipe_read`/`anon_pipe_write` on 6.x
/// kernels, `pipe_read`/`pipe_write` before, `fifo_pipe_*` on some; `None` for any other
/// channel (a timer, a disk, a child).
pub fn wchan_pipe_wait(text: &[u8]) -> Option<PipeWait> {
    match trim(text) {
        b"pipe_read" | b"anon_pipe_read" | b"fifo_pipe_read" => Some(PipeWait::Read),
        b"pipe_write" | b"anon_pipe_write" | b"fifo_pipe_write" => Some(PipeWait::Write),
        _ => None,
    }
}

/// The system call a blocked task sleeps in, from `/proc/PID/syscall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syscall {
    /// The system call number (of the task's architecture).
    pub nr: u64,
    /// Its first argument (the fd of a read or write).
    pub arg0: u64,
}

/// Parses `/proc/PID/syscall` (`NR 0xARG0 …`); `None` for `running`, `-1 …` (not in a
/// system call) or text of another shape.
pub fn syscall(text: &[u8]) -> Option<Syscall> {
    let mut f = trim(text).split(|&b| b == b' ');
    let nr = decimal(f.next()?)?;
    let arg0 = f.next()?.strip_prefix(b"0x")?;
    if arg0.is_empty() || arg0.len() > 16 {
        return None;
    }
    let arg0 = arg0.iter().try_fold(0u64, |n, &b| {
        let d = (b as char).to_digit(16)?;
        Some((n << 4) | u64::from(d))
    })?;
    Some(Syscall { nr, arg0 })
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
        assert_eq!((s.utime, s.stime), (1, 2));
        assert_eq!(s.start_ticks, 987654);
    }

    #[test]
    fn io_counters() {
        let t = b"rchar: 6976\nwchar: 65536\nsyscr: 10\nsyscw: 8\nread_bytes: 40960\n";
        assert_eq!(
            io(t),
            IoCounters {
                rchar: Some(6976),
                wchar: Some(65536)
            }
        );
        assert_eq!(io(b""), IoCounters::default());
    }

    #[test]
    fn wait_channels_of_old_and_new_kernels() {
        assert_eq!(wchan_pipe_wait(b"anon_pipe_read"), Some(PipeWait::Read));
        assert_eq!(wchan_pipe_wait(b"pipe_write\n"), Some(PipeWait::Write));
        assert_eq!(wchan_pipe_wait(b"hrtimer_nanosleep"), None);
        assert_eq!(wchan_pipe_wait(b"0"), None);
    }

    #[test]
    fn syscall_lines() {
        let read0 = b"0 0x0 0x7ffd 0x1000 0x0 0x0 0x0 0x7ffd 0x7f00\n";
        assert_eq!(syscall(read0), Some(Syscall { nr: 0, arg0: 0 }));
        let write5 = b"1 0x5 0x7ffd 0x1000 0x0 0x0 0x0 0x7ffd 0x7f00";
        assert_eq!(syscall(write5), Some(Syscall { nr: 1, arg0: 5 }));
        assert_eq!(syscall(b"running\n"), None);
        assert_eq!(syscall(b"-1 0x7ffd 0x7f00\n"), None);
        assert_eq!(syscall(b"0 0xzz"), None);
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
                let _ = io(&text);
                let _ = wchan_pipe_wait(&text);
                let _ = syscall(&text);
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
