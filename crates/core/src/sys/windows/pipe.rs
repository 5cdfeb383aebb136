//! `create_pipe` on Windows: `CreatePipe`, then both ends described by the same code that
//! scans other processes (type, name, object address, granted access, references, quota,
//! FilePipeLocalInformation), and the buffer size as the capacity.

use std::os::windows::io::{AsHandle, AsRawHandle};

use super::{ffi, scan};
use crate::model::{Handle, PipeDemo, ScanOptions};
use crate::{Error, Result};

pub(crate) fn create_pipe() -> Result<PipeDemo> {
    let (read, write) =
        ffi::create_pipe(false).map_err(|e| Error::io("creating a pipe", None, None, e))?;
    let pid = ffi::current_pid();
    // A fresh pipe has no I/O pending: asking it directly cannot block.
    let capacity = ffi::pipe_local(read.as_handle())
        .ok()
        .map(|p| u64::from(p.inbound_quota));
    let opts = ScanOptions {
        long: true,
        ..ScanOptions::default()
    };
    let (table, mut scanner) = scan::read_table(&opts)?;
    let me = ffi::current_process();
    let mut one = |value: u64| -> Result<Handle> {
        let row = table
            .iter()
            .find(|e| e.pid == pid && e.handle == value)
            .ok_or_else(|| {
                Error::InvalidInput("the new pipe end is not in the handle table".into())
            })?;
        scanner
            .describe(row, Some(me))
            .ok_or_else(|| Error::InvalidInput("the new pipe end could not be described".into()))
    };
    let read_end = one(read.as_raw_handle() as u64)?;
    let write_end = one(write.as_raw_handle() as u64)?;
    Ok(PipeDemo {
        pid,
        read: read_end,
        write: write_end,
        capacity,
        read_handle: Some(read),
        write_handle: Some(write),
    })
}
