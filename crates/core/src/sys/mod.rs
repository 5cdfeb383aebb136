//! The one place a backend is chosen for this OS.
//!
//! Scanning: `scan` (and on Linux `LiveScan`), `create_pipe`, `object_types`.
//! Live sampling: `SampleBackend`, a type implementing [`crate::sample::Backend`].

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

#[cfg(not(target_os = "linux"))]
mod unsupported;
#[cfg(not(any(target_os = "linux", windows)))]
pub(crate) use unsupported::scan;

/// The live sampling backend of this OS.
#[cfg(target_os = "linux")]
pub(crate) use linux::sample::Sampler as SampleBackend;
/// The live sampling backend of this OS: none yet.
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::Sampler as SampleBackend;
