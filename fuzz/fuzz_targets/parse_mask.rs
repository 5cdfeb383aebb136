//! Fuzzes the parsers of outside text that batch lines go through: the mask parser, for no
//! type, a Windows type and `fd` (where a leading 0 means octal), and the type lookup. They
//! must never panic; a mask accepted must read back the same printed in hex, decimal and
//! octal; a type found must be found again by its canonical name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pipescope_access::{lookup_type, parse_mask};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(t) = lookup_type(text) {
        assert_eq!(lookup_type(t.name).map(|f| f.name), Some(t.name));
    }
    for ty in [None, lookup_type("file"), lookup_type("fd")] {
        if let Ok(mask) = parse_mask(text, ty) {
            assert_eq!(parse_mask(&format!("{mask:#x}"), ty), Ok(mask));
            assert_eq!(parse_mask(&format!("0o{mask:o}"), ty), Ok(mask));
            assert_eq!(parse_mask(&format!("{mask}"), None), Ok(mask));
        }
    }
});
