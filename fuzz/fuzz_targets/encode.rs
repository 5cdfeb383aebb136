//! Fuzzes the expression encoder: the first byte picks a type (or none), the rest is the
//! expression. It must never panic; a mask it accepts must decode to names that encode
//! back to the same mask (less the bits with no name), and so must the compact form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pipescope_access::{decode, encode, types};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(expr) = std::str::from_utf8(rest) else {
        return;
    };
    let ty = types().get(usize::from(pick) % (types().len() + 1));
    let Ok(mask) = encode(expr, ty) else {
        return;
    };
    let d = decode(mask, ty);
    let names: Vec<&str> = d.names().collect();
    if !names.is_empty() {
        assert_eq!(encode(&names.join("|"), ty), Ok(mask & !d.unknown));
    }
    if !d.compact.is_empty() {
        let back = encode(&d.compact.join(" + "), ty).expect("compact form encodes");
        assert_eq!(back | d.unknown, mask);
        assert_eq!(back & !mask, 0);
    }
});
