//! Access-mask and open-flag tables, with decode and encode. Pure data and functions: no
//! I/O, no OS calls, so it builds and tests on every target.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
