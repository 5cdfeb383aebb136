//! Linux backend: /proc.

use crate::{Error, Result, ScanOptions, Snapshot};

pub(crate) fn scan(_opts: &ScanOptions) -> Result<Snapshot> {
    Err(Error::Unsupported(
        "scanning handles (Linux backend not written yet)",
    ))
}

pub(crate) mod sample;
