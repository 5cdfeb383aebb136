//! The pipe probe where it is not built: Linux without the `ebpf` feature, another
//! architecture than x86-64, or another OS. Attaching says so; callers fall back to
//! sampling.

use crate::flow::FlowReading;
use crate::{Error, Result};

/// Why the probe cannot run here.
pub(crate) const UNAVAILABLE: Option<&str> = Some(if cfg!(target_os = "linux") {
    if cfg!(target_arch = "x86_64") {
        "this pipescope was built without the eBPF probe (cargo feature `ebpf`)"
    } else {
        "the eBPF probe reads x86-64 syscall registers only"
    }
} else {
    "the kernel pipe probe exists on Linux only"
});

/// Never constructed.
#[derive(Debug)]
pub(crate) enum Probe {}

impl Probe {
    pub(crate) fn attach() -> Result<Probe> {
        Err(Error::Unsupported("the eBPF pipe probe"))
    }

    pub(crate) fn read(&mut self) -> Result<FlowReading> {
        match *self {}
    }
}
