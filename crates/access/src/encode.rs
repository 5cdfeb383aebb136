//! Encoding: an expression of right names (`FILE_GENERIC_READ|SYNCHRONIZE`), short names
//! without the type's prefix (`read_data`), numbers, and SDDL right strings (`FA`,
//! `CCDCLCSWRPWPDTLOCRSDRCWDWO`) becomes a mask.

use crate::fd::{FD_MODES, O_ACCMODE};
use crate::model::{Kind, Right, TypeInfo};
use crate::parse::{ParseError, parse_mask};
use crate::tables::{
    COMMON_COMBOS, COMMON_SYNONYMS, GENERIC, SDDL_CODES, SPECIAL, STANDARD, TYPES,
};

/// Why an expression could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The expression holds no names at all.
    #[error("empty expression: give right names separated by |, + or ,")]
    Empty,
    /// Two separators in a row, or one at an end.
    #[error("empty name in `{expr}` (two separators in a row, or one at an end)")]
    EmptyTerm {
        /// The whole expression.
        expr: String,
    },
    /// A name that is neither a right of the type, nor a number, nor SDDL.
    #[error(
        "unknown right `{name}`{}{}",
        ty.map(|t| format!(" for type {t}")).unwrap_or_default(),
        suggestion.map(|s| format!("; did you mean {s}?")).unwrap_or_default()
    )]
    UnknownRight {
        /// The name as given.
        name: String,
        /// The type's canonical name, if a type was given.
        ty: Option<&'static str>,
        /// The nearest known name.
        suggestion: Option<&'static str>,
    },
    /// A number term that is not a valid 32-bit mask.
    #[error("bad number in expression: {0}")]
    Number(#[from] ParseError),
    /// Open flags with two different access modes (`O_RDWR|O_WRONLY`): the mode is one
    /// value of a two-bit field, not bits to combine.
    #[error(
        "conflicting access modes `{first}` and `{second}`: open flags hold exactly one of \
         O_RDONLY, O_WRONLY and O_RDWR"
    )]
    ConflictingModes {
        /// The first access mode given.
        first: String,
        /// The one that conflicts with it.
        second: String,
    },
}

/// Encodes `expr` for `ty`: names (with or without the type's prefix, any case), numbers
/// and SDDL right strings, separated by `|`, `+` or `,`. Without a type, the standard,
/// special and generic names, SDDL, and the full names of any type's rights are accepted.
pub fn encode(expr: &str, ty: Option<&'static TypeInfo>) -> Result<u32, EncodeError> {
    if expr.trim().is_empty() {
        return Err(EncodeError::Empty);
    }
    let open_flags = ty.is_some_and(|t| t.kind == Kind::OpenFlags);
    let mut mask = 0;
    // Open flags: the access mode given, and by which term.
    let mut mode: Option<(&str, u32)> = None;
    for term in expr.split(['|', '+', ',']) {
        let term = term.trim();
        if term.is_empty() {
            return Err(EncodeError::EmptyTerm {
                expr: expr.to_owned(),
            });
        }
        let bits = encode_term(term, ty)?;
        if open_flags && names_access_mode(term, bits) {
            match mode {
                Some((first, m)) if m != bits & O_ACCMODE => {
                    return Err(EncodeError::ConflictingModes {
                        first: first.to_owned(),
                        second: term.to_owned(),
                    });
                }
                Some(_) => {}
                None => mode = Some((term, bits & O_ACCMODE)),
            }
        }
        mask |= bits;
    }
    if open_flags && mask & O_ACCMODE == O_ACCMODE {
        return Err(EncodeError::ConflictingModes {
            first: "O_WRONLY".into(),
            second: "O_RDWR".into(),
        });
    }
    Ok(mask)
}

/// Whether an open-flags term sets the access mode: one of its names (`O_RDWR`, `rdwr`),
/// or a number with access-mode bits.
fn names_access_mode(term: &str, bits: u32) -> bool {
    if term.as_bytes()[0].is_ascii_digit() {
        return bits & O_ACCMODE != 0;
    }
    FD_MODES.iter().any(|m| {
        m.name.eq_ignore_ascii_case(term)
            || m.name
                .strip_prefix("O_")
                .is_some_and(|short| short.eq_ignore_ascii_case(term))
    })
}

fn encode_term(term: &str, ty: Option<&'static TypeInfo>) -> Result<u32, EncodeError> {
    if term.as_bytes()[0].is_ascii_digit() {
        return Ok(parse_mask(term, ty)?);
    }
    if let Some(bits) = lookup_name(term, ty) {
        return Ok(bits);
    }
    if ty.is_none_or(|t| t.kind == Kind::AccessMask)
        && let Some(bits) = sddl(term)
    {
        return Ok(bits);
    }
    Err(EncodeError::UnknownRight {
        name: term.to_owned(),
        ty: ty.map(|t| t.name),
        suggestion: nearest(term, ty),
    })
}

/// Every name `ty` accepts, its own first.
fn candidates(ty: Option<&'static TypeInfo>) -> impl Iterator<Item = &'static Right> {
    let own: [&'static [Right]; 3] = match ty {
        Some(t) => [t.rights, t.synonyms, t.combos],
        None => [&[], &[], &[]],
    };
    let common: [&'static [Right]; 5] = if ty.is_none_or(|t| t.kind == Kind::AccessMask) {
        [STANDARD, SPECIAL, GENERIC, COMMON_SYNONYMS, COMMON_COMBOS]
    } else {
        [&[]; 5]
    };
    own.into_iter().chain(common).flatten()
}

/// Every name of every type, for names given without a type.
fn all_type_names() -> impl Iterator<Item = &'static Right> {
    TYPES
        .iter()
        .flat_map(|t| [t.rights, t.synonyms, t.combos])
        .flatten()
}

fn lookup_name(term: &str, ty: Option<&'static TypeInfo>) -> Option<u32> {
    if let Some(r) = candidates(ty).find(|r| r.name.eq_ignore_ascii_case(term)) {
        return Some(r.bits);
    }
    if let Some(t) = ty {
        for r in candidates(ty) {
            for p in t.prefixes {
                if let Some(short) = r.name.strip_prefix(p)
                    && short.eq_ignore_ascii_case(term)
                {
                    return Some(r.bits);
                }
            }
        }
        return None;
    }
    all_type_names()
        .find(|r| r.name.eq_ignore_ascii_case(term))
        .map(|r| r.bits)
}

/// An SDDL right string: two-letter codes, concatenated (`FA`, `CCLCSWRPWPDTLOCRRC`).
fn sddl(term: &str) -> Option<u32> {
    let b = term.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    let mut mask = 0;
    for pair in b.chunks_exact(2) {
        let (_, bits) = SDDL_CODES
            .iter()
            .find(|(code, _)| code.as_bytes().eq_ignore_ascii_case(pair))?;
        mask |= bits;
    }
    Some(mask)
}

/// The known name nearest to `term` (edit distance, ignoring case; a name also matches
/// without the type's prefix).
fn nearest(term: &str, ty: Option<&'static TypeInfo>) -> Option<&'static str> {
    // Names are at most a few dozen letters: a longer term is nothing near any of them.
    if term.len() > 64 {
        return None;
    }
    let upper = term.to_ascii_uppercase();
    let mut rows = (Vec::with_capacity(65), Vec::with_capacity(65));
    let prefixes: &[&str] = ty.map_or(&[], |t| t.prefixes);
    let pool: Box<dyn Iterator<Item = &'static Right>> = match ty {
        Some(_) => Box::new(candidates(ty)),
        None => Box::new(candidates(None).chain(all_type_names())),
    };
    let mut best: Option<(usize, &'static str)> = None;
    for r in pool {
        let full = std::iter::once(r.name);
        let short = prefixes.iter().filter_map(|p| r.name.strip_prefix(p));
        for name in full.chain(short) {
            let bound = best.map_or(usize::MAX, |(d, _)| d);
            // The distance is at least the difference in length: skip what cannot win.
            if upper.len().abs_diff(name.len()) >= bound {
                continue;
            }
            let d = edit_distance(&upper, name, &mut rows);
            if d < bound {
                best = Some((d, r.name));
            }
        }
    }
    best.map(|(_, name)| name)
}

/// Levenshtein distance over bytes; `rows` is scratch space reused between calls.
fn edit_distance(a: &str, b: &str, rows: &mut (Vec<usize>, Vec<usize>)) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (prev, cur) = rows;
    prev.clear();
    prev.extend(0..=b.len());
    cur.clear();
    cur.resize(b.len() + 1, 0);
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup_type;

    #[test]
    fn edit_distance_counts_edits() {
        let rows = &mut (Vec::new(), Vec::new());
        assert_eq!(edit_distance("KITTEN", "SITTING", rows), 3);
        assert_eq!(edit_distance("", "AB", rows), 2);
        assert_eq!(edit_distance("SAME", "SAME", rows), 0);
        assert_eq!(edit_distance("AB", "", rows), 2);
    }

    #[test]
    fn sddl_strings() {
        assert_eq!(sddl("FA"), Some(0x1F01FF));
        assert_eq!(sddl("kr"), Some(0x20019));
        // The service-style string: every DS bit plus the standard rights.
        assert_eq!(sddl("CCDCLCSWRPWPDTLOCRSDRCWDWO"), Some(0xF01FF));
        assert_eq!(sddl("CCX"), None);
        assert_eq!(sddl("ZZ"), None);
    }

    #[test]
    fn suggestion_is_nearest_name() {
        let file = lookup_type("file");
        let err = encode("FILE_RAED_DATA", file).unwrap_err();
        assert_eq!(
            err,
            EncodeError::UnknownRight {
                name: "FILE_RAED_DATA".into(),
                ty: Some("File"),
                suggestion: Some("FILE_READ_DATA"),
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown right `FILE_RAED_DATA` for type File; did you mean FILE_READ_DATA?"
        );
        let EncodeError::UnknownRight { suggestion, .. } =
            encode("vm_raed", lookup_type("process")).unwrap_err()
        else {
            panic!("expected an unknown right");
        };
        assert_eq!(suggestion, Some("PROCESS_VM_READ"));
    }

    #[test]
    fn open_flags_take_one_access_mode() {
        let fd = lookup_type("fd");
        assert_eq!(encode("O_RDWR|O_CLOEXEC", fd), Ok(0o2000002));
        assert_eq!(encode("O_WRONLY|wronly", fd), Ok(1));
        assert_eq!(encode("O_RDONLY|O_RDONLY", fd), Ok(0));
        for bad in [
            "O_RDWR|O_WRONLY",
            "O_RDONLY|O_WRONLY",
            "rdwr+rdonly",
            "O_WRONLY|2",
            "3",
        ] {
            assert!(
                matches!(encode(bad, fd), Err(EncodeError::ConflictingModes { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            encode("O_RDWR|O_WRONLY", fd).unwrap_err().to_string(),
            "conflicting access modes `O_RDWR` and `O_WRONLY`: open flags hold exactly one of \
             O_RDONLY, O_WRONLY and O_RDWR"
        );
    }
}
