//! Windows backend: the system handle table from NtQuerySystemInformation, object types
//! and names from NtQueryObject (names behind a hang guard), processes from Toolhelp.
//!
//! `ffi` is the only module with `unsafe`; the byte layouts it reads are parsed by
//! `crate::parse_windows`, which is tested on every OS.

mod ffi;
mod guard;
mod launch;
mod named;
mod pipe;
pub(crate) mod sample;
mod scan;

pub(crate) use launch::{Launched, interrupt, launch};
pub(crate) use named::named_pipes;
pub(crate) use pipe::create_pipe;
pub(crate) use scan::scan;

use crate::{Error, LiveObjectType, Result};

/// The kernel's object types, with their live generic mappings.
pub(crate) fn object_types() -> Result<Vec<LiveObjectType>> {
    let types =
        ffi::object_types().map_err(|e| Error::io("listing object types", None, None, e))?;
    Ok(types
        .into_iter()
        .map(|t| LiveObjectType {
            name: t.name,
            generic_mapping: t.generic_mapping,
            valid_access: t.valid_access,
            objects: t.objects,
            handles: t.handles,
        })
        .collect())
}

#[cfg(test)]
mod tests;
