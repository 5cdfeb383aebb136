//! `create_pipe` on Linux: `pipe2(O_CLOEXEC)`, both ends described by the same code that
//! scans other processes, and the capacity from `F_GETPIPE_SZ`.

use std::os::fd::{AsFd, AsRawFd};

use rustix::pipe::{PipeFlags, fcntl_getpipe_size, pipe_with};

use super::{Scratch, describe, open_dir};
use crate::model::{Handle, PipeDemo, ScanOptions};
use crate::{Error, Result};

pub(crate) fn create_pipe() -> Result<PipeDemo> {
    let (read, write) = pipe_with(PipeFlags::CLOEXEC)
        .map_err(|e| Error::io("creating a pipe", None, None, e.into()))?;
    let capacity = fcntl_getpipe_size(&read).ok().map(|n| n as u64);
    let pid = rustix::process::getpid().as_raw_pid().unsigned_abs();
    let opts = ScanOptions {
        long: true,
        flags: true,
        ..ScanOptions::default()
    };
    let fd_dir = open_dir(rustix::fs::CWD, c"/proc/self/fd")
        .map_err(|e| Error::io("opening /proc/self/fd", Some(pid), None, e.into()))?;
    let info_dir = open_dir(rustix::fs::CWD, c"/proc/self/fdinfo")
        .map_err(|e| Error::io("opening /proc/self/fdinfo", Some(pid), None, e.into()))?;
    let mut s = Scratch::new();
    let mut one = |fd: std::os::fd::BorrowedFd<'_>| -> Result<Handle> {
        let raw = fd.as_raw_fd();
        let mut num = super::itoa_buf();
        let name = super::itoa(raw as u64, &mut num);
        describe(
            fd_dir.as_fd(),
            Some(info_dir.as_fd()),
            name,
            raw as u64,
            &opts,
            None,
            &mut s.link,
            &mut s.text,
        )
        .map_err(|e| {
            Error::io(
                "describing a pipe end",
                Some(pid),
                Some(raw as u64),
                e.into(),
            )
        })?
        .ok_or_else(|| Error::InvalidInput("the new pipe end was not found".into()))
    };
    let read_end = one(read.as_fd())?;
    let write_end = one(write.as_fd())?;
    Ok(PipeDemo {
        pid,
        read: read_end,
        write: write_end,
        capacity,
        read_handle: Some(read),
        write_handle: Some(write),
    })
}

#[cfg(test)]
mod tests {
    use crate::model::{Mode, ObjectId, PipeKind};

    #[test]
    fn both_ends_of_a_new_pipe() {
        let demo = super::create_pipe().unwrap();
        assert_eq!(demo.read.mode, Mode::Read);
        assert_eq!(demo.write.mode, Mode::Write);
        assert_eq!(demo.read.pipe, Some(PipeKind::Anonymous));
        assert_eq!(demo.read.object, demo.write.object);
        let Some(ObjectId::Inode { dev: 0, ino }) = demo.read.object else {
            panic!("no inode: {:?}", demo.read.object)
        };
        assert_eq!(
            demo.read.name.as_bytes(),
            format!("pipe:[{ino}]").as_bytes()
        );
        // O_CLOEXEC, as asked; O_WRONLY on the write end.
        assert_eq!(demo.write.flags, Some(0o2000001));
        assert_eq!(demo.read.details.as_ref().unwrap().ino, Some(ino));
        assert_eq!(demo.capacity, Some(65536));
    }
}
