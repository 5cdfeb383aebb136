//! Systems without a backend: every call says so.

use crate::{Error, Result, ScanOptions, Snapshot};

pub(crate) fn scan(_opts: &ScanOptions) -> Result<Snapshot> {
    Err(Error::Unsupported("scanning handles"))
}
