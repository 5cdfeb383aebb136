//! Descriptors in flight: a UNIX socket's fdinfo counts, as `scm_fds:`, the descriptors
//! sent to it with SCM_RIGHTS and not yet received. Such a descriptor is held by no
//! process, so a pipe end among them is invisible to every fd table. A pipes-only scan
//! reports each socket with a count above zero, and nothing else about sockets.

use std::ffi::CStr;
use std::os::fd::BorrowedFd;

use rustix::io::Errno;

use crate::model::{Handle, HandleDetails, Mode, Name, ObjectId, ObjectType};

/// The socket `fd` (inode `ino`, link text `target`) as a handle when its queue holds
/// descriptors in flight; `Ok(None)` when it holds none (or is not a UNIX socket).
pub(super) fn socket(
    info_dir: BorrowedFd<'_>,
    name: &CStr,
    fd: u64,
    ino: u64,
    target: &[u8],
    text: &mut Vec<u8>,
) -> rustix::io::Result<Option<Handle>> {
    match super::read_file(info_dir, name, text) {
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
            extra: vec![("scm_fds".to_string(), count.to_string())],
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
}
