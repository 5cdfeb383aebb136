//! Windows backend: NtQuerySystemInformation and NtQueryObject.

use crate::{Error, Result, ScanOptions, Snapshot};

pub(crate) fn scan(_opts: &ScanOptions) -> Result<Snapshot> {
    Err(Error::Unsupported(
        "scanning handles (Windows backend not written yet)",
    ))
}
