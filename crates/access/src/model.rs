//! The shapes the tables are written in: a [`Right`] (one named bit or combination), the
//! [`Group`] a bit belongs to, a type's [`GenericMapping`], and [`TypeInfo`], which ties one
//! object type's rights, names and mapping together.

use serde::Serialize;

/// One named access right (or flag): its name as in the SDK headers, its bits, and what it
/// allows, in a few plain words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Right {
    /// Name as in the headers (`FILE_READ_DATA`, `O_CLOEXEC`).
    pub name: &'static str,
    /// The bits.
    pub bits: u32,
    /// What it allows, in a few lower-case words ("read data").
    pub doc: &'static str,
}

/// Which part of an access mask a bit lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Bits 0–15: their meaning depends on the object type (Linux open flags are all here).
    Specific,
    /// Bits 16–20: `DELETE`, `READ_CONTROL`, `WRITE_DAC`, `WRITE_OWNER`, `SYNCHRONIZE`.
    Standard,
    /// Bits 28–31: `GENERIC_ALL`, `GENERIC_EXECUTE`, `GENERIC_WRITE`, `GENERIC_READ`.
    Generic,
    /// Bits 24–25: `ACCESS_SYSTEM_SECURITY` and `MAXIMUM_ALLOWED`.
    Special,
}

impl Group {
    /// The group's name in lower case, as printed and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Specific => "specific",
            Group::Standard => "standard",
            Group::Generic => "generic",
            Group::Special => "special",
        }
    }

    /// The group a single bit of a Windows access mask belongs to, or `None` for the
    /// reserved bits (21–23, 26–27).
    pub fn of_bit(bit: u32) -> Option<Group> {
        match bit {
            0x0000_0001..=0x0000_8000 => Some(Group::Specific),
            0x0001_0000..=0x0010_0000 => Some(Group::Standard),
            0x0100_0000 | 0x0200_0000 => Some(Group::Special),
            0x1000_0000..=0x8000_0000 => Some(Group::Generic),
            _ => None,
        }
    }
}

/// How an object type maps `GENERIC_READ`, `GENERIC_WRITE`, `GENERIC_EXECUTE` and
/// `GENERIC_ALL` to standard and specific rights (the kernel's `GENERIC_MAPPING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GenericMapping {
    /// What `GENERIC_READ` becomes.
    pub read: u32,
    /// What `GENERIC_WRITE` becomes.
    pub write: u32,
    /// What `GENERIC_EXECUTE` becomes.
    pub execute: u32,
    /// What `GENERIC_ALL` becomes.
    pub all: u32,
}

/// What kind of mask a type describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A Windows `ACCESS_MASK`: specific, standard, special and generic bits.
    AccessMask,
    /// Linux open flags (`/proc/PID/fdinfo/N`, `flags:`): an access mode and flags.
    OpenFlags,
}

/// Everything known about one object type: its rights, the names people use for it, the
/// well-known combinations, its generic mapping and where the values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    /// Canonical name, as the Windows object manager spells the type (`File`, `Mutant`).
    pub name: &'static str,
    /// Other names accepted by [`crate::lookup_type`] (compared ignoring case, spaces,
    /// `-` and `_`).
    pub aliases: &'static [&'static str],
    /// One line: what objects of this type are.
    pub doc: &'static str,
    /// Prefixes a right's name may be written without in [`crate::encode`] (`FILE_`).
    pub prefixes: &'static [&'static str],
    /// The specific rights, one bit each, in bit order.
    pub rights: &'static [Right],
    /// Other names for bits already in `rights` or `combos` (`FILE_LIST_DIRECTORY`,
    /// `KEY_EXECUTE`): accepted by [`crate::encode`], never printed.
    pub synonyms: &'static [Right],
    /// Well-known combinations, most bits first, folded by the compact form.
    pub combos: &'static [Right],
    /// The generic mapping, if known.
    pub mapping: Option<GenericMapping>,
    /// What kind of mask this is.
    pub kind: Kind,
    /// Where the values come from.
    pub source: &'static str,
}

impl TypeInfo {
    /// The mask of every bit this type names: its specific rights, and for access masks
    /// also the standard, special and generic bits.
    pub fn known_bits(&self) -> u32 {
        let specific = self.rights.iter().fold(0, |acc, r| acc | r.bits);
        match self.kind {
            Kind::AccessMask => specific | crate::tables::COMMON_BITS,
            Kind::OpenFlags => specific,
        }
    }
}
