//! Access-mask and open-flag tables, with decode and encode. Pure data and functions: no
//! I/O, no OS calls, so it builds and tests on every target.
//!
//! The API other crates rely on (keep these signatures stable):
//! - [`lookup_type`], [`types`]: the object types, found by name or alias.
//! - [`decode`] → [`Decoded`]: the set rights, the compact form, unnamed bits, a summary.
//! - [`encode`]: right names, numbers and SDDL strings → a mask.
//! - [`map_generic`]: `GENERIC_*` bits through a type's generic mapping.
//! - [`parse_mask`]: hex, decimal or octal text → a mask.
//! - [`fd_flag_names`], [`fd_mode`]: Linux open flags from an fdinfo `flags:` value.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod decode;
mod encode;
pub mod fd;
mod model;
mod parse;
pub mod tables;

pub use decode::{Decoded, DecodedRight, decode, map_generic};
pub use encode::{EncodeError, encode};
pub use fd::{FdMode, fd_flag_names, fd_mode};
pub use model::{GenericMapping, Group, Kind, Right, TypeInfo};
pub use parse::{ParseError, parse_mask};

/// Every type, in the order `pipescope access --types` lists them.
pub fn types() -> &'static [TypeInfo] {
    tables::TYPES
}

/// Finds a type by its name or an alias, ignoring case, spaces, `-` and `_`
/// (`file`, `Mutex`, `ALPC Port`, `winsta`, `registry`, `fd`).
pub fn lookup_type(name: &str) -> Option<&'static TypeInfo> {
    // Names and aliases are plain ASCII letters and digits (a test keeps them so), so the
    // given name, stripped of separators, compares byte for byte; no allocation, since
    // this runs once per line in batch mode.
    let mut buf = [0u8; 40];
    let mut len = 0;
    for &c in name.as_bytes() {
        if matches!(c, b' ' | b'-' | b'_') {
            continue;
        }
        *buf.get_mut(len)? = c;
        len += 1;
    }
    let key = &buf[..len];
    tables::TYPES.iter().find(|t| {
        key.eq_ignore_ascii_case(t.name.as_bytes())
            || t.aliases
                .iter()
                .any(|a| key.eq_ignore_ascii_case(a.as_bytes()))
    })
}
