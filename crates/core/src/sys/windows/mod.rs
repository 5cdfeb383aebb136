//! Windows backend: the system handle table from NtQuerySystemInformation, object types
//! and names from NtQueryObject (names behind a hang guard), processes from Toolhelp.
//!
//! `ffi` is the only module with `unsafe`; the byte layouts it reads are parsed by
//! `crate::parse_windows`, which is tested on every OS.

mod ffi;
mod guard;
mod pipe;
mod scan;

pub(crate) use pipe::create_pipe;
pub(crate) use scan::scan;

#[cfg(test)]
mod tests;
