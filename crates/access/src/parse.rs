//! Reading a mask from text: hex (`0x120189`), decimal (`1180041`), octal (`0o2000001`),
//! and for Linux open flags a leading `0` as `/proc/PID/fdinfo` prints it (`02000001`).

use crate::model::{Kind, TypeInfo};

/// Why a mask could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing (or only spaces) was given.
    #[error("empty mask: expected a number such as 0x120189, 1180041 or 0o2000001")]
    Empty,
    /// The text is not a number in any of the accepted bases.
    #[error("not a number: `{text}` (expected hex 0x…, decimal, or octal 0o…)")]
    NotANumber {
        /// The text as given.
        text: String,
    },
    /// The number does not fit in 32 bits.
    #[error("`{text}` does not fit in 32 bits (an access mask is at most 0xffffffff)")]
    TooLarge {
        /// The text as given.
        text: String,
    },
}

/// Reads a 32-bit mask. `0x`/`0X` means hex, `0o`/`0O` octal, `0b`/`0B` binary, anything
/// else decimal; for the `fd` type (Linux open flags) a leading `0` also means octal, as in
/// fdinfo. Surrounding spaces are ignored; a single `_` may separate two digits.
pub fn parse_mask(text: &str, ty: Option<&TypeInfo>) -> Result<u32, ParseError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ParseError::Empty);
    }
    let b = t.as_bytes();
    let (radix, digits) = match b {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', b'o' | b'O', rest @ ..] => (8, rest),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest),
        [b'0', rest @ ..]
            if !rest.is_empty() && ty.is_some_and(|ty| ty.kind == Kind::OpenFlags) =>
        {
            (8, rest)
        }
        _ => (10, b),
    };
    let not_a_number = || ParseError::NotANumber { text: t.to_owned() };
    let mut value: u64 = 0;
    let mut seen_digit = false;
    let mut after_separator = false;
    for &c in digits {
        if c == b'_' {
            if !seen_digit || after_separator {
                return Err(not_a_number());
            }
            after_separator = true;
            continue;
        }
        after_separator = false;
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(not_a_number()),
        };
        if u32::from(d) >= radix {
            return Err(not_a_number());
        }
        seen_digit = true;
        value = value * u64::from(radix) + u64::from(d);
        if value > u64::from(u32::MAX) {
            return Err(ParseError::TooLarge { text: t.to_owned() });
        }
    }
    if !seen_digit || after_separator {
        return Err(not_a_number());
    }
    Ok(value as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup_type;

    #[test]
    fn bases() {
        let fd = lookup_type("fd");
        let file = lookup_type("file");
        let cases: &[(&str, Option<&TypeInfo>, u32)] = &[
            ("0x120189", None, 0x120189),
            ("0X120189", file, 0x120189),
            (" 1180041 ", file, 1_180_041),
            ("0o2000001", None, 0o2000001),
            ("02000001", fd, 0o2000001),
            ("02000001", file, 2_000_001),
            ("0", fd, 0),
            ("0xffffffff", None, u32::MAX),
            ("4294967295", None, u32::MAX),
            ("0b101", None, 5),
            ("0x12_0189", None, 0x120189),
        ];
        for &(text, ty, want) in cases {
            assert_eq!(parse_mask(text, ty), Ok(want), "{text}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(parse_mask("  ", None), Err(ParseError::Empty));
        for bad in [
            "abc", "0x", "0xg1", "-1", "0o8", "12z", "_1", "0x_", "1_", "0x1__0", "0x_1", "1__2",
        ] {
            assert!(
                matches!(parse_mask(bad, None), Err(ParseError::NotANumber { .. })),
                "{bad}"
            );
        }
        for big in [
            "0x100000000",
            "4294967296",
            "0o40000000000",
            "99999999999999999999999",
        ] {
            assert!(
                matches!(parse_mask(big, None), Err(ParseError::TooLarge { .. })),
                "{big}"
            );
        }
        // fd's leading-zero octal rejects 8 and 9.
        assert!(parse_mask("09", lookup_type("fd")).is_err());
    }
}
