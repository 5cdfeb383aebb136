//! Decoding: a mask and an optional type become the list of set rights (name, group, bits,
//! doc), a compact form with well-known combinations folded, the bits nobody names, and a
//! plain-words summary. Also generic mapping.

use std::fmt;

use crate::fd::{O_ACCMODE, O_PATH};
use crate::model::{Group, Kind, Right, TypeInfo};
use crate::tables::{
    COMMON_COMBOS, GENERIC, GENERIC_ALL, GENERIC_BITS, GENERIC_EXECUTE, GENERIC_READ,
    GENERIC_WRITE, SPECIAL, SPECIFIC_BITS, STANDARD,
};

/// One set right of a decoded mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedRight {
    /// Its name (`FILE_READ_DATA`, `SYNCHRONIZE`, `O_CLOEXEC`).
    pub name: &'static str,
    /// Specific, standard, generic or special.
    pub group: Group,
    /// Its bits (one bit, except Linux's compound flags and `O_RDONLY`, which is 0).
    pub bits: u32,
    /// What it allows, in a few words.
    pub doc: &'static str,
}

/// A decoded mask. `Decoded::default()` is an empty one, ready for [`decode_into`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The mask as given.
    pub mask: u32,
    /// The type it was decoded for; `None` decodes only standard, special and generic bits.
    pub ty: Option<&'static TypeInfo>,
    /// Every named right that is set, in bit order.
    pub rights: Vec<DecodedRight>,
    /// The compact form: well-known combinations (`FILE_GENERIC_READ`) first, then the
    /// rights no combination covers. Unnamed bits are not in it (see `unknown`).
    pub compact: Vec<&'static str>,
    /// Set bits that have no name for this type (for no type: all specific bits).
    pub unknown: u32,
}

impl Decoded {
    /// True when specific bits are set but no type was given to name them.
    pub fn needs_type(&self) -> bool {
        self.ty.is_none() && self.mask & SPECIFIC_BITS != 0
    }

    /// The names of the set rights, in bit order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.rights.iter().map(|r| r.name)
    }

    /// The rights in plain words, one line: "read data, read attributes, synchronize".
    pub fn summary(&self) -> String {
        let mut s = String::with_capacity(96);
        // Writing into a String cannot fail.
        let _ = self.write_summary(&mut s);
        s
    }

    /// Writes [`Decoded::summary`] into `out` without allocating.
    pub fn write_summary(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let mut first = true;
        let mut sep = |out: &mut dyn fmt::Write| -> fmt::Result {
            if !std::mem::take(&mut first) {
                out.write_str(", ")?;
            }
            Ok(())
        };
        if self.mask == 0 && self.ty.is_none_or(|t| t.kind == Kind::AccessMask) {
            return out.write_str("no access");
        }
        for r in &self.rights {
            sep(out)?;
            out.write_str(r.doc)?;
        }
        if self.unknown != 0 {
            sep(out)?;
            if self.needs_type() {
                let specific = self.unknown & SPECIFIC_BITS;
                write!(
                    out,
                    "specific bits {specific:#x} (give a type to name them)"
                )?;
                let other = self.unknown & !SPECIFIC_BITS;
                if other != 0 {
                    write!(out, ", unnamed bits {other:#x}")?;
                }
            } else {
                write!(out, "unnamed bits {:#x}", self.unknown)?;
            }
        }
        Ok(())
    }
}

/// Decodes `mask` for `ty`. Without a type, only the standard, special and generic bits are
/// named and the specific bits are reported in `unknown`.
pub fn decode(mask: u32, ty: Option<&'static TypeInfo>) -> Decoded {
    let mut d = Decoded {
        mask,
        ty,
        rights: Vec::new(),
        compact: Vec::new(),
        unknown: 0,
    };
    decode_into(mask, ty, &mut d);
    d
}

/// Like [`decode`], but fills `out`, reusing its buffers: decoding a stream of masks this
/// way allocates nothing once the buffers have grown.
pub fn decode_into(mask: u32, ty: Option<&'static TypeInfo>, out: &mut Decoded) {
    out.mask = mask;
    out.ty = ty;
    out.rights.clear();
    out.compact.clear();
    out.unknown = match ty {
        Some(t) if t.kind == Kind::OpenFlags => decode_open_flags(mask, t, &mut out.rights),
        _ => decode_access_mask(mask, ty, &mut out.rights),
    };
    match ty {
        Some(t) if t.kind == Kind::OpenFlags => {
            out.compact.extend(out.rights.iter().map(|r| r.name));
        }
        _ => fold(
            mask,
            ty.map_or(&[], |t| t.combos),
            &out.rights,
            &mut out.compact,
        ),
    }
}

fn find(table: &'static [Right], bit: u32) -> Option<&'static Right> {
    table.iter().find(|r| r.bits == bit)
}

/// Names each set bit into `rights`; returns the bits with no name.
fn decode_access_mask(
    mask: u32,
    ty: Option<&'static TypeInfo>,
    rights: &mut Vec<DecodedRight>,
) -> u32 {
    let mut unknown = 0;
    let mut rest = mask;
    while rest != 0 {
        let bit = rest & rest.wrapping_neg();
        rest &= rest - 1;
        let group = Group::of_bit(bit);
        let right = match group {
            Some(Group::Specific) => ty.and_then(|t| find(t.rights, bit)),
            Some(Group::Standard) => find(STANDARD, bit),
            Some(Group::Special) => find(SPECIAL, bit),
            Some(Group::Generic) => find(GENERIC, bit),
            None => None,
        };
        match (right, group) {
            (Some(r), Some(group)) => rights.push(DecodedRight {
                name: r.name,
                group,
                bits: bit,
                doc: r.doc,
            }),
            _ => unknown |= bit,
        }
    }
    unknown
}

/// The compact form: greedily take the combination contained in `mask` that adds the most
/// bits not yet covered (the type's own before the standard ones), as long as it adds at
/// least two; then name every right still uncovered.
fn fold(
    mask: u32,
    combos: &'static [Right],
    rights: &[DecodedRight],
    compact: &mut Vec<&'static str>,
) {
    let mut covered = 0u32;
    loop {
        let mut best: Option<&'static Right> = None;
        let mut best_gain = 1;
        for c in combos.iter().chain(COMMON_COMBOS) {
            if c.bits & !mask != 0 {
                continue;
            }
            let gain = (c.bits & !covered).count_ones();
            if gain > best_gain {
                best = Some(c);
                best_gain = gain;
            }
        }
        match best {
            Some(c) => {
                compact.push(c.name);
                covered |= c.bits;
            }
            None => break,
        }
    }
    for r in rights {
        if r.bits & !covered != 0 {
            compact.push(r.name);
        }
    }
}

/// Names the access mode and each flag into `rights`; returns the bits with no name.
fn decode_open_flags(flags: u32, ty: &'static TypeInfo, rights: &mut Vec<DecodedRight>) -> u32 {
    let mut unknown = 0;
    let mode = flags & O_ACCMODE;
    let mode_right = match mode {
        0 if flags & O_PATH == 0 => Some(&crate::fd::FD_MODES[0]),
        1 => Some(&crate::fd::FD_MODES[1]),
        2 => Some(&crate::fd::FD_MODES[2]),
        0 => None,
        _ => {
            unknown |= mode;
            None
        }
    };
    if let Some(r) = mode_right {
        rights.push(DecodedRight {
            name: r.name,
            group: Group::Specific,
            bits: r.bits,
            doc: r.doc,
        });
    }
    // Compound flags (O_SYNC, O_TMPFILE) are named instead of their parts.
    let mut covered = O_ACCMODE;
    for f in ty.rights.iter().filter(|f| f.bits.count_ones() > 1) {
        if flags & f.bits == f.bits {
            covered |= f.bits;
        }
    }
    for f in ty.rights {
        let compound = f.bits.count_ones() > 1;
        if flags & f.bits == f.bits && (compound || covered & f.bits == 0) {
            covered |= f.bits;
            rights.push(DecodedRight {
                name: f.name,
                group: Group::Specific,
                bits: f.bits,
                doc: f.doc,
            });
        }
    }
    unknown | (flags & !covered)
}

/// Maps the generic bits of `mask` through `ty`'s generic mapping: each `GENERIC_*` bit is
/// replaced by what it means for the type (`GENERIC_ALL` on File gives 0x1f01ff). A type
/// without a mapping (Linux open flags) returns `mask` unchanged.
pub fn map_generic(mask: u32, ty: &TypeInfo) -> u32 {
    let Some(m) = ty.mapping else {
        return mask;
    };
    let mut out = mask & !GENERIC_BITS;
    if mask & GENERIC_READ != 0 {
        out |= m.read;
    }
    if mask & GENERIC_WRITE != 0 {
        out |= m.write;
    }
    if mask & GENERIC_EXECUTE != 0 {
        out |= m.execute;
    }
    if mask & GENERIC_ALL != 0 {
        out |= m.all;
    }
    out
}
