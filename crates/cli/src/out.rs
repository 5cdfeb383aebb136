//! Output helpers shared by the printers: terminal detection, colour policy, escaping.
#![allow(dead_code)]
