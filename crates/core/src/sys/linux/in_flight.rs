//! Descriptors in flight: a UNIX socket's fdinfo counts, as `scm_fds:`, the descriptors
//! sent to it with SCM_RIGHTS and not yet received. Such a descriptor is held by no
//! process, so a pipe end among them is invisible to every fd table. A pipes-only scan
//! reports each socket with a count above zero, and nothing else about sockets.
//!
//! Reading the fdinfo of every socket is the dearest part of a pipes scan, so one
//! `sock_diag` dump first lists this network namespace's UNIX sockets with their receive
//! queue length: a stream socket whose queue is empty holds nothing in flight, and a
//! socket that is not a UNIX socket never does. Only the others (a queue with data,
//! datagram and seqpacket sockets, whose queue length can miss a message without data,
//! and sockets the dump did not list: other namespaces, made after the dump) have their
//! fdinfo read.

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::BorrowedFd;

use rustix::io::Errno;

use crate::model::{Handle, HandleDetails, Mode, Name, ObjectId, ObjectType};

/// The socket `fd` (inode `ino`, link text `target`) as a handle when its queue holds
/// descriptors in flight; `Ok(None)` when it holds none (or is not a UNIX socket).
pub(super) fn socket(
    info_dir: BorrowedFd<'_>,
    sockets: Option<&UnixSockets>,
    name: &CStr,
    fd: u64,
    ino: u64,
    target: &[u8],
    text: &mut Vec<u8>,
) -> rustix::io::Result<Option<Handle>> {
    if sockets.is_some_and(|s| !s.may_hold_fds(ino)) {
        return Ok(None);
    }
    match super::read_proc(info_dir, name, text) {
        Ok(()) => {}
        Err(Errno::NOENT) => return Err(Errno::NOENT),
        Err(_) => return Ok(None),
    }
    let Some(count) = scm_fds(text).filter(|&n| n > 0) else {
        return Ok(None);
    };
    Ok(Some(Handle {
        handle: fd,
        object_type: ObjectType::new("socket"),
        mode: Mode::ReadWrite,
        name: Name(target.to_vec()),
        object: Some(ObjectId::Inode { dev: 0, ino }),
        pipe: None,
        flags: None,
        access: None,
        details: Some(Box::new(HandleDetails {
            ino: Some(ino),
            scm_fds: Some(count),
            ..HandleDetails::default()
        })),
    }))
}

/// The `scm_fds:` count of fdinfo text (only UNIX sockets have one).
pub(crate) fn scm_fds(text: &[u8]) -> Option<u64> {
    let line = text
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"scm_fds:"))?;
    let digits = line.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// What the dump says of one UNIX socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UnixSocket {
    /// `SOCK_STREAM` (1), `SOCK_DGRAM` (2), `SOCK_SEQPACKET` (5).
    pub kind: u8,
    /// TCP-style state; 10 is listening.
    pub state: u8,
    /// Bytes waiting (connections waiting, for a listening socket).
    pub rqueue: u32,
}

/// The UNIX sockets of this network namespace that can hold nothing in flight, as a
/// sorted list of inodes (a few bytes per socket; a busy machine has many).
#[derive(Debug, Default)]
pub(crate) struct UnixSockets {
    idle: Vec<u64>,
}

const SOCK_STREAM: u8 = 1;
const TCP_LISTEN: u8 = 10;

impl UnixSockets {
    /// Whether socket `ino` may hold descriptors in flight (so its fdinfo must be read).
    pub(crate) fn may_hold_fds(&self, ino: u64) -> bool {
        self.idle.binary_search(&ino).is_err()
    }

    /// The sockets of a dump that cannot hold descriptors in flight: a listener (its queue
    /// is of connections) or a stream socket with nothing queued. Datagram and seqpacket
    /// sockets are never idle: a message without data can still carry descriptors.
    fn from_dump(by_ino: &HashMap<u64, UnixSocket>) -> UnixSockets {
        let mut idle: Vec<u64> = by_ino
            .iter()
            .filter(|(_, s)| s.state == TCP_LISTEN || (s.kind == SOCK_STREAM && s.rqueue == 0))
            .map(|(&ino, _)| ino)
            .collect();
        idle.sort_unstable();
        UnixSockets { idle }
    }

    /// Asks the kernel (`NETLINK_SOCK_DIAG`) for every UNIX socket of this namespace;
    /// `None` when it will not say.
    pub(crate) fn dump() -> Option<UnixSockets> {
        use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType, netlink};
        let sock = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            Some(netlink::SOCK_DIAG),
        )
        .ok()?;
        let kernel = netlink::SocketAddrNetlink::new(0, 0);
        rustix::net::sendto(&sock, &dump_request(), SendFlags::empty(), &kernel).ok()?;
        let mut by_ino = HashMap::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let (n, _) = rustix::net::recv(&sock, &mut buf[..], RecvFlags::empty()).ok()?;
            match parse_dump(&buf[..n], &mut by_ino)? {
                Dump::More => {}
                Dump::Done => break,
            }
        }
        Some(UnixSockets::from_dump(&by_ino))
    }
}

/// `SOCK_DIAG_BY_FAMILY` for `AF_UNIX`, every state, with the receive queue length.
fn dump_request() -> [u8; 40] {
    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLM_F_REQUEST: u16 = 0x1;
    const NLM_F_DUMP: u16 = 0x300;
    const AF_UNIX: u8 = 1;
    const UDIAG_SHOW_RQLEN: u32 = 0x10;
    let mut req = [0u8; 40];
    req[0..4].copy_from_slice(&40u32.to_ne_bytes()); // nlmsg_len
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes()); // nlmsg_seq
    // struct unix_diag_req
    req[16] = AF_UNIX;
    req[20..24].copy_from_slice(&u32::MAX.to_ne_bytes()); // udiag_states: all
    req[28..32].copy_from_slice(&UDIAG_SHOW_RQLEN.to_ne_bytes());
    req
}

/// Whether a dump goes on after this datagram.
#[derive(Debug, PartialEq, Eq)]
enum Dump {
    More,
    Done,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses one datagram of a `sock_diag` dump of UNIX sockets into `out`. `None` on an
/// error message or a malformed datagram.
fn parse_dump(mut b: &[u8], out: &mut HashMap<u64, UnixSocket>) -> Option<Dump> {
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    const UNIX_DIAG_RQLEN: u16 = 4;
    while b.len() >= 16 {
        let len = u32_at(b, 0)? as usize;
        let kind = u16_at(b, 4)?;
        if len < 16 || len > b.len() {
            return None;
        }
        match kind {
            NLMSG_DONE => return Some(Dump::Done),
            NLMSG_ERROR => return None,
            _ => {}
        }
        // struct unix_diag_msg: family, type, state, pad, ino, cookie[2]; then rtattrs.
        let msg = &b[16..len];
        if msg.len() >= 16 {
            let (kind, state) = (msg[1], msg[2]);
            let ino = u64::from(u32_at(msg, 4)?);
            let mut rqueue = 0;
            let mut attrs = &msg[16..];
            while attrs.len() >= 4 {
                let alen = usize::from(u16_at(attrs, 0)?);
                if alen < 4 || alen > attrs.len() {
                    break;
                }
                if u16_at(attrs, 2)? == UNIX_DIAG_RQLEN && alen >= 8 {
                    rqueue = u32_at(attrs, 4)?;
                }
                attrs = attrs.get((alen + 3) & !3..).unwrap_or_default();
            }
            out.insert(
                ino,
                UnixSocket {
                    kind,
                    state,
                    rqueue,
                },
            );
        }
        let next = (len + 3) & !3;
        b = b.get(next..).unwrap_or_default();
    }
    Some(Dump::More)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scm_fds_is_read_from_fdinfo() {
        let unix = b"pos:\t0\nflags:\t02000002\nmnt_id:\t10\nino:\t15038\nscm_fds: 3\n";
        assert_eq!(scm_fds(unix), Some(3));
        let empty = b"pos:\t0\nflags:\t02\nmnt_id:\t10\nino:\t1\nscm_fds: 0\n";
        assert_eq!(scm_fds(empty), Some(0));
        let tcp = b"pos:\t0\nflags:\t02\nmnt_id:\t10\nino:\t1\n";
        assert_eq!(scm_fds(tcp), None);
        assert_eq!(scm_fds(b"scm_fds: x\n"), None);
    }

    /// One `unix_diag_msg` with an RQLEN attribute, as the kernel sends it.
    fn msg(kind: u8, state: u8, ino: u32, rqueue: u32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&44u32.to_ne_bytes());
        m.extend_from_slice(&20u16.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&[1, kind, state, 0]);
        m.extend_from_slice(&ino.to_ne_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&12u16.to_ne_bytes());
        m.extend_from_slice(&4u16.to_ne_bytes());
        m.extend_from_slice(&rqueue.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m
    }

    #[test]
    fn a_dump_is_parsed_and_decides_which_fdinfo_to_read() {
        let mut b = msg(1, 1, 100, 0);
        b.extend(msg(1, 1, 101, 7));
        b.extend(msg(2, 7, 102, 0));
        b.extend(msg(1, 10, 103, 3));
        let mut by_ino = HashMap::new();
        assert_eq!(parse_dump(&b, &mut by_ino), Some(Dump::More));
        assert_eq!(by_ino.len(), 4);
        assert_eq!(by_ino[&101].rqueue, 7);
        let s = UnixSockets::from_dump(&by_ino);
        assert!(!s.may_hold_fds(100), "an empty stream queue holds nothing");
        assert!(s.may_hold_fds(101));
        assert!(s.may_hold_fds(102), "datagrams may carry fds without data");
        assert!(!s.may_hold_fds(103), "a listener's queue is of connections");
        assert!(
            s.may_hold_fds(999),
            "not listed: another namespace, or newer"
        );

        let mut done = Vec::new();
        done.extend_from_slice(&20u32.to_ne_bytes());
        done.extend_from_slice(&3u16.to_ne_bytes());
        done.extend_from_slice(&[0; 14]);
        assert_eq!(parse_dump(&done, &mut HashMap::new()), Some(Dump::Done));
        let mut err = done.clone();
        err[4] = 2;
        assert_eq!(parse_dump(&err, &mut HashMap::new()), None);
        assert_eq!(parse_dump(&b[..30], &mut HashMap::new()), None);
    }

    #[test]
    fn the_kernel_lists_a_fresh_socketpair() {
        let (a, _b) = rustix::net::socketpair(
            rustix::net::AddressFamily::UNIX,
            rustix::net::SocketType::STREAM,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        let ino = rustix::fs::fstat(&a).unwrap().st_ino;
        let Some(s) = UnixSockets::dump() else {
            return; // no sock_diag here: the scan reads every socket's fdinfo instead
        };
        assert!(!s.may_hold_fds(ino), "an idle stream socket is skipped");
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = parse_dump(&bytes, &mut HashMap::new());
            let _ = scm_fds(&bytes);
        }

        #[test]
        fn a_dump_gives_back_every_socket(
            socks in proptest::collection::vec((1u8..6, 1u8..11, proptest::prelude::any::<u32>(), proptest::prelude::any::<u32>()), 0..40)
        ) {
            let bytes: Vec<u8> = socks.iter().flat_map(|&(k, st, ino, rq)| msg(k, st, ino, rq)).collect();
            let mut by_ino = HashMap::new();
            proptest::prop_assert_eq!(parse_dump(&bytes, &mut by_ino), Some(Dump::More));
            for &(_, _, ino, _) in &socks {
                // A later message for the same inode wins.
                let last = socks.iter().rev().find(|s| s.2 == ino).unwrap();
                proptest::prop_assert_eq!(
                    by_ino.get(&u64::from(ino)),
                    Some(&UnixSocket { kind: last.0, state: last.1, rqueue: last.3 })
                );
            }
        }

        #[test]
        fn scm_fds_reads_back_its_number(n in proptest::prelude::any::<u64>()) {
            let text = format!("pos:\t0\nflags:\t02\nmnt_id:\t9\nino:\t5\nscm_fds: {n}\n");
            proptest::prop_assert_eq!(scm_fds(text.as_bytes()), Some(n));
        }
    }
}
