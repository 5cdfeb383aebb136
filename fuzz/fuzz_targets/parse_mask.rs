//! Fuzzes the mask parser with any text, for no type, a Windows type and `fd` (where a
//! leading 0 means octal): it must never panic, and a mask it accepts must read back the
//! same when printed in hex, decimal and octal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pipescope_access::{lookup_type, parse_mask};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for ty in [None, lookup_type("file"), lookup_type("fd")] {
        if let Ok(mask) = parse_mask(text, ty) {
            assert_eq!(parse_mask(&format!("{mask:#x}"), ty), Ok(mask));
            assert_eq!(parse_mask(&format!("0o{mask:o}"), ty), Ok(mask));
            assert_eq!(parse_mask(&format!("{mask}"), None), Ok(mask));
        }
    }
});
