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
    tables::TYPES
        .iter()
        .find(|t| loose_eq(name, t.name) || t.aliases.iter().any(|a| loose_eq(name, a)))
}

/// Compares two names ignoring ASCII case, spaces, `-` and `_`, without allocating.
fn loose_eq(a: &str, b: &str) -> bool {
    fn keep(c: &&u8) -> bool {
        !matches!(**c, b' ' | b'-' | b'_')
    }
    let mut x = a.as_bytes().iter().filter(keep);
    let mut y = b.as_bytes().iter().filter(keep);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(q) => {}
            _ => return false,
        }
    }
}
