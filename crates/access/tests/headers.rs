//! Checks every name in our tables against the Windows SDK headers that Debian's mingw-w64
//! installs (`/usr/share/mingw-w64/include`, with `ddk/`): each `#define` is evaluated
//! (numbers, other defines, `|`, `&`, `~`, parentheses) and must equal our value. Names the
//! SDK does not define (the phnt-only kernel rights) are skipped; the test requires that a
//! large number were checked. Linux only: the headers are a Linux path.
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::path::Path;

use pipescope_access::tables::{COMMON_COMBOS, COMMON_SYNONYMS, GENERIC, SPECIAL, STANDARD};
use pipescope_access::{Kind, Right, types};

const INCLUDE: &str = "/usr/share/mingw-w64/include";

/// Names whose value we deliberately take from a newer source than mingw-w64.
const NEWER_THAN_SDK: &[(&str, &str)] = &[(
    "JOB_OBJECT_ALL_ACCESS",
    "Windows 10 adds JOB_OBJECT_IMPERSONATE (0x20): 0x1f003f per phnt and the kernel",
)];

fn read_defines() -> HashMap<String, Vec<String>> {
    let mut defs: HashMap<String, Vec<String>> = HashMap::new();
    for dir in [INCLUDE.to_owned(), format!("{INCLUDE}/ddk")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "h") {
                continue;
            }
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes)
                .replace("\\\r\n", " ")
                .replace("\\\n", " ");
            for line in text.lines() {
                let Some(rest) = line.trim_start().strip_prefix("#define ") else {
                    continue;
                };
                let rest = rest.trim_start();
                let name_end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                let (name, value) = rest.split_at(name_end);
                if value.starts_with('(') {
                    // A function-like macro, `NAME(x)`: never a right.
                    continue;
                }
                let value = value.split("//").next().unwrap_or("");
                let value = value.split("/*").next().unwrap_or("").trim().to_owned();
                if !value.is_empty() {
                    defs.entry(name.to_owned()).or_default().push(value);
                }
            }
        }
    }
    defs
}

struct Eval<'a> {
    defs: &'a HashMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(u64),
    Ident(String),
    Op(char),
}

fn tokens(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if "|&~()".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i] as char).is_ascii_alphanumeric() {
                i += 1;
            }
            let lit = s[start..i].trim_end_matches(['L', 'l', 'U', 'u']);
            let v = match lit.strip_prefix("0x").or_else(|| lit.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16).ok()?,
                None => lit.parse().ok()?,
            };
            out.push(Tok::Num(v));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let id = &s[start..i];
            if id != "__MSABI_LONG" {
                out.push(Tok::Ident(id.to_owned()));
            }
        } else {
            return None;
        }
    }
    Some(out)
}

impl Eval<'_> {
    fn name(&self, name: &str, depth: u32) -> Option<u64> {
        if depth > 20 {
            return None;
        }
        self.defs
            .get(name)?
            .iter()
            .find_map(|v| self.expr_str(v, depth + 1))
    }

    fn all_values(&self, name: &str) -> Vec<u64> {
        self.defs
            .get(name)
            .map(|vs| vs.iter().filter_map(|v| self.expr_str(v, 0)).collect())
            .unwrap_or_default()
    }

    fn expr_str(&self, s: &str, depth: u32) -> Option<u64> {
        let toks = tokens(s)?;
        let mut pos = 0;
        let v = self.or(&toks, &mut pos, depth)?;
        (pos == toks.len()).then_some(v & 0xffff_ffff)
    }

    fn or(&self, t: &[Tok], p: &mut usize, d: u32) -> Option<u64> {
        let mut v = self.and(t, p, d)?;
        while t.get(*p) == Some(&Tok::Op('|')) {
            *p += 1;
            v |= self.and(t, p, d)?;
        }
        Some(v)
    }

    fn and(&self, t: &[Tok], p: &mut usize, d: u32) -> Option<u64> {
        let mut v = self.unary(t, p, d)?;
        while t.get(*p) == Some(&Tok::Op('&')) {
            *p += 1;
            v &= self.unary(t, p, d)?;
        }
        Some(v)
    }

    fn unary(&self, t: &[Tok], p: &mut usize, d: u32) -> Option<u64> {
        let tok = t.get(*p)?.clone();
        *p += 1;
        match tok {
            Tok::Op('~') => Some(!self.unary(t, p, d)?),
            Tok::Op('(') => {
                let v = self.or(t, p, d)?;
                (t.get(*p) == Some(&Tok::Op(')'))).then(|| *p += 1)?;
                Some(v)
            }
            Tok::Num(n) => Some(n),
            Tok::Ident(id) => self.name(&id, d),
            Tok::Op(_) => None,
        }
    }
}

#[test]
fn every_name_matches_the_sdk_headers() {
    if !Path::new(INCLUDE).join("winnt.h").exists() {
        // scripts/test installs mingw-w64; without it there is nothing to compare with.
        eprintln!("skipped: {INCLUDE}/winnt.h not found (install gcc-mingw-w64-x86-64)");
        assert!(
            std::env::var_os("PIPESCOPE_REQUIRE_HEADERS").is_none(),
            "PIPESCOPE_REQUIRE_HEADERS is set but the mingw-w64 headers are missing"
        );
        return;
    }
    let defs = read_defines();
    let eval = Eval { defs: &defs };
    let mut checked = 0;
    let mut mismatches = Vec::new();
    let common: [&[Right]; 5] = [STANDARD, SPECIAL, GENERIC, COMMON_SYNONYMS, COMMON_COMBOS];
    let tables = types()
        .iter()
        .filter(|t| t.kind == Kind::AccessMask)
        .flat_map(|t| [t.rights, t.synonyms, t.combos])
        .chain(common);
    for table in tables {
        for r in table {
            let values = eval.all_values(r.name);
            if values.is_empty() {
                continue;
            }
            checked += 1;
            if !values.contains(&u64::from(r.bits))
                && !NEWER_THAN_SDK.iter().any(|(n, _)| *n == r.name)
            {
                mismatches.push(format!("{} = {:#x}, SDK says {values:#x?}", r.name, r.bits));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "differs from the SDK: {mismatches:#?}"
    );
    // Most names come from the SDK; only the phnt-only kernel rights are skipped.
    eprintln!("{checked} names checked against the SDK headers");
    assert!(
        checked >= 250,
        "only {checked} names were found in the headers"
    );
}

#[test]
fn header_evaluator_reads_composite_defines() {
    let mut defs = HashMap::new();
    defs.insert(
        "A".to_owned(),
        vec!["(__MSABI_LONG(0x00010000))".to_owned()],
    );
    defs.insert("B".to_owned(), vec!["0x0002L".to_owned()]);
    defs.insert("C".to_owned(), vec!["((A | B | 0x1F) & (~B))".to_owned()]);
    let eval = Eval { defs: &defs };
    assert_eq!(eval.all_values("C"), [0x1001D]);
    assert_eq!(eval.all_values("missing"), Vec::<u64>::new());
}
