//! Property tests: for every type and mask, encoding the decoded names gives the mask back
//! (less the bits that have no name), and so does the compact form; parsing a mask printed
//! in any base gives it back.

use pipescope_access::{Kind, TypeInfo, decode, encode, parse_mask, types};
use proptest::prelude::*;

/// A type (or none) and a mask that often holds whole combinations, so the folding is
/// exercised, not only random bits.
fn type_and_mask() -> impl Strategy<Value = (Option<&'static TypeInfo>, u32)> {
    let n = types().len();
    (
        0..=n,
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(move |(i, a, b, pick, dense)| {
            let ty = types().get(i);
            let known = ty.map_or(0xffff_ffff, |t| t.known_bits() | 0xffff);
            let mut mask = if dense { a & known } else { a & b & known };
            if let Some(t) = ty {
                for (k, c) in t.combos.iter().enumerate() {
                    if pick & (1 << (k % 8)) != 0 {
                        mask |= c.bits;
                    }
                }
            }
            if ty.is_some_and(|t| t.kind == Kind::AccessMask) || ty.is_none() {
                // Also the reserved bits, now and then.
                mask |= b & 0x0ce0_0000 & a;
            }
            (ty, mask)
        })
}

fn join(names: impl Iterator<Item = &'static str>) -> String {
    names.collect::<Vec<_>>().join("|")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn decoded_names_encode_back((ty, mask) in type_and_mask()) {
        let d = decode(mask, ty);
        let names = join(d.names());
        let named = mask & !d.unknown;
        if names.is_empty() {
            prop_assert_eq!(named, 0);
        } else {
            prop_assert_eq!(encode(&names, ty), Ok(named), "names {}", names);
        }
    }

    #[test]
    fn compact_form_encodes_back((ty, mask) in type_and_mask()) {
        let d = decode(mask, ty);
        let compact = d.compact.join(" | ");
        if compact.is_empty() {
            prop_assert_eq!(mask & !d.unknown, 0);
        } else {
            let back = encode(&compact, ty).expect("compact form encodes");
            // Combinations may hold bits with no name of their own (PROCESS_ALL_ACCESS
            // holds 0xc000), so the compact form gives exactly the mask once the unnamed
            // bits are added, and never more than the mask.
            prop_assert_eq!(back | d.unknown, mask, "compact {}", compact);
            prop_assert_eq!(back & !mask, 0, "compact {} adds bits", compact);
        }
    }

    #[test]
    fn compact_is_no_longer_than_the_rights((ty, mask) in type_and_mask()) {
        let d = decode(mask, ty);
        prop_assert!(d.compact.len() <= d.rights.len().max(1));
    }

    #[test]
    fn masks_parse_back_in_every_base(mask in any::<u32>()) {
        prop_assert_eq!(parse_mask(&format!("{mask:#x}"), None), Ok(mask));
        prop_assert_eq!(parse_mask(&format!("{mask}"), None), Ok(mask));
        prop_assert_eq!(parse_mask(&format!("0o{mask:o}"), None), Ok(mask));
        let fd = pipescope_access::lookup_type("fd");
        prop_assert_eq!(parse_mask(&format!("0{mask:o}"), fd), Ok(mask));
    }

    #[test]
    fn too_large_masks_are_refused(big in (u64::from(u32::MAX) + 1)..u64::MAX) {
        let hex = format!("{big:#x}");
        let dec = big.to_string();
        prop_assert!(parse_mask(&hex, None).is_err());
        prop_assert!(parse_mask(&dec, None).is_err());
    }

    #[test]
    fn summary_is_one_line((ty, mask) in type_and_mask()) {
        let s = decode(mask, ty).summary();
        prop_assert!(!s.is_empty());
        prop_assert!(!s.contains('\n'));
    }
}
