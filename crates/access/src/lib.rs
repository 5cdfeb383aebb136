//! Access-mask and open-flag tables, with decode and encode. Pure data and functions: no
//! I/O, no OS calls, so it builds and tests on every target.
//!
//! The API other crates rely on (keep these signatures stable):
//! - [`lookup_type`], [`types`]: the object types, found by name or alias.
//! - [`decode`] → [`Decoded`]: the set rights, the compact form, unnamed bits, a summary
//!   ([`decode_into`] reuses a `Decoded`'s buffers).
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

pub use decode::{Decoded, DecodedRight, decode, decode_into, map_generic};
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
    use std::collections::HashMap;
    use std::sync::OnceLock;

    // Names and aliases are plain ASCII letters and digits (a test keeps them so): index
    // them in lower case once; a lookup then strips separators into a stack buffer and
    // hashes it, without allocating, since batch mode looks up a type per line.
    static INDEX: OnceLock<HashMap<Box<[u8]>, &'static TypeInfo>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index = HashMap::new();
        for t in tables::TYPES {
            for name in std::iter::once(&t.name).chain(t.aliases) {
                index
                    .entry(name.to_ascii_lowercase().into_bytes().into_boxed_slice())
                    .or_insert(t);
            }
        }
        index
    });
    let mut buf = [0u8; 40];
    let mut len = 0;
    for &c in name.as_bytes() {
        if matches!(c, b' ' | b'-' | b'_') {
            continue;
        }
        *buf.get_mut(len)? = c.to_ascii_lowercase();
        len += 1;
    }
    index.get(&buf[..len]).copied()
}
