//! `pipescope access --json`: one decoded mask, a bad batch line, and `--types --json`.
//! The schema is documented in docs/json.md.

use pipescope_access::{Decoded, GenericMapping, Group, Kind, TypeInfo, lookup_type};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::Stream;

/// The JSON of one mask: `pipescope access MASK [TYPE] --json`, and one line per mask in
/// batch mode (there without `details`).
#[derive(Debug)]
pub struct MaskJson<'a> {
    /// The decoded mask.
    pub d: &'a Decoded,
    /// The rights in plain words.
    pub summary: &'a str,
    /// With `--map-generic`: the mask before mapping.
    pub mapped_from: Option<u32>,
    /// Per-right details (name, group, bits, doc); batch lines leave them out to stay
    /// short, since `rights` and `summary` carry the same names and words.
    pub details: bool,
}

/// One set right, in `details`.
#[derive(Debug, Serialize)]
struct DetailJson {
    name: &'static str,
    group: Group,
    bits: u32,
    doc: &'static str,
}

impl Serialize for MaskJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.d;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("mask", &d.mask)?;
        m.serialize_entry("hex", &format_args!("0x{:x}", d.mask))?;
        if is_open_flags(d.ty) {
            m.serialize_entry("octal", &format_args!("0{:o}", d.mask))?;
        }
        m.serialize_entry("type", &d.ty.map(|t| t.name))?;
        m.serialize_entry("rights", &Stream::new(d.rights.iter().map(|r| r.name)))?;
        m.serialize_entry("compact", &d.compact)?;
        m.serialize_entry("unknown", &d.unknown)?;
        m.serialize_entry("summary", self.summary)?;
        m.serialize_entry("needs_type", &d.needs_type())?;
        if let Some(from) = self.mapped_from {
            m.serialize_entry("mapped_from", &from)?;
        }
        if self.details {
            let details = d.rights.iter().map(|r| DetailJson {
                name: r.name,
                group: r.group,
                bits: r.bits,
                doc: r.doc,
            });
            m.serialize_entry("details", &Stream::new(details))?;
        }
        m.end()
    }
}

fn is_open_flags(ty: Option<&TypeInfo>) -> bool {
    ty.is_some_and(|t| t.kind == Kind::OpenFlags)
}

/// A bad batch line: `{"line": N, "input": "…", "error": "…"}`. `input` is the line as
/// read; bytes that are not UTF-8 are replaced by U+FFFD.
#[derive(Debug, Serialize)]
pub struct BatchErrorJson<'a> {
    /// The line number, counting from 1, empty lines included.
    pub line: u64,
    /// The line (for an over-long line, its start).
    pub input: &'a str,
    /// What is wrong with it.
    pub error: &'a str,
}

/// One type of `pipescope access --types --json`.
#[derive(Debug, Serialize)]
pub struct TypeJson {
    name: &'static str,
    aliases: &'static [&'static str],
    doc: &'static str,
    source: &'static str,
    kind: &'static str,
    generic_mapping: Option<GenericMapping>,
    /// Windows: the running kernel's mapping for this type, `[read, write, execute, all]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    live_generic_mapping: Option<[u32; 4]>,
    rights: Vec<RightJson>,
    combinations: Vec<RightJson>,
}

/// A right or a combination of a type.
#[derive(Debug, Serialize)]
struct RightJson {
    name: &'static str,
    bits: u32,
    doc: &'static str,
}

impl TypeJson {
    /// A type from the tables, with the running kernel's own generic mapping for it when
    /// `live` (Windows' `ObjectTypesInformation`) knows the type.
    pub fn new(t: &'static TypeInfo, live: &[pipescope_core::LiveObjectType]) -> TypeJson {
        let rights = |list: &'static [pipescope_access::Right]| {
            list.iter()
                .map(|r| RightJson {
                    name: r.name,
                    bits: r.bits,
                    doc: r.doc,
                })
                .collect()
        };
        TypeJson {
            name: t.name,
            aliases: t.aliases,
            doc: t.doc,
            source: t.source,
            kind: match t.kind {
                Kind::AccessMask => "access_mask",
                Kind::OpenFlags => "open_flags",
            },
            generic_mapping: t.mapping,
            live_generic_mapping: live
                .iter()
                .find(|l| lookup_type(&l.name).is_some_and(|b| std::ptr::eq(b, t)))
                .map(|l| l.generic_mapping),
            rights: rights(t.rights),
            combinations: rights(t.combos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipescope_access::decode;

    #[test]
    fn a_mask_names_its_rights_and_details() {
        let d = decode(0x120189, lookup_type("file"));
        let summary = d.summary();
        let json = MaskJson {
            d: &d,
            summary: &summary,
            mapped_from: None,
            details: true,
        };
        let v = serde_json::to_value(&json).unwrap();
        assert_eq!(v["hex"], "0x120189");
        assert_eq!(v["type"], "File");
        assert_eq!(
            v["compact"],
            serde_json::json!(["FILE_GENERIC_READ", "FILE_WRITE_ATTRIBUTES"])
        );
        assert_eq!(v["rights"].as_array().unwrap().len(), 6);
        assert_eq!(v["details"][0]["name"], "FILE_READ_DATA");
        assert_eq!(v["details"][0]["group"], "specific");
        assert!(v.get("octal").is_none() && v.get("mapped_from").is_none());
    }

    #[test]
    fn open_flags_add_the_octal_form_and_batch_lines_drop_details() {
        let d = decode(0o2000001, lookup_type("fd"));
        let json = MaskJson {
            d: &d,
            summary: "",
            mapped_from: Some(1),
            details: false,
        };
        let v = serde_json::to_value(&json).unwrap();
        assert_eq!(v["octal"], "02000001");
        assert_eq!(v["mapped_from"], 1);
        assert!(v.get("details").is_none());
    }
}
