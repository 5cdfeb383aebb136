//! Access-mask and open-flag tables, with decode and encode. Pure data and functions: no
//! I/O, no OS calls, so it builds and tests on every target.
//!
//! The API other crates rely on (keep these signatures stable):
//! - [`fd_flag_names`]: the names of the Linux open flags set in an fdinfo `flags:` value.
//! - [`fd_mode`]: the access mode of those flags.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod fd;

pub use fd::{FdMode, fd_flag_names, fd_mode};
