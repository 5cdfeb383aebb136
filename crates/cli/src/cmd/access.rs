//! `pipescope access`: decode an access mask (or Linux open flags) for an object type,
//! encode right names into a mask, map generic rights, list the types, and decode a stream
//! of `MASK [TYPE]` lines for enriching logs.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufWriter, Write};

use anyhow::{Context, bail};
use pipescope_access::{
    Decoded, Kind, TypeInfo, decode, decode_into, encode, lookup_type, map_generic, parse_mask,
    types,
};
use serde::Serialize;

use crate::Exit;
use crate::json::access::{BatchErrorJson, MaskJson, TypeJson};

/// Arguments of `pipescope access`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  pipescope access 0x120189 file          a pipe's read end
  pipescope access 0x1fffff process       Sysmon GrantedAccess
  pipescope access 02000001 fd            an fdinfo flags: line (leading 0 = octal)
  pipescope access --encode 'FILE_GENERIC_READ|SYNCHRONIZE' file
  pipescope access --encode FA file       SDDL right strings work too
  pipescope access 0x10000000 file --map-generic
  pipescope access --types
  some-log | pipescope access - --json    one result per `MASK [TYPE]` line")]
pub struct Args {
    /// The mask: hex (0x…), decimal, or octal (0o…; for type fd also a leading 0). `-`
    /// reads `MASK [TYPE]` lines from stdin and prints one result per line. With
    /// --encode, this position takes the TYPE instead.
    #[arg(value_name = "MASK")]
    pub mask: Option<String>,
    /// The object type (case-insensitive; aliases like mutex, registry, winsta, pipe, dir).
    /// Without it only standard, special and generic bits are named. In batch mode, the
    /// type for lines that name none.
    #[arg(value_name = "TYPE")]
    pub ty: Option<String>,
    /// Encode right names instead: `FILE_GENERIC_READ|SYNCHRONIZE`, names without their
    /// prefix, numbers, separated by |, + or ,; or SDDL right strings (FA, KR, CCLCSWRP…).
    #[arg(long, value_name = "EXPR", conflicts_with = "types")]
    pub encode: Option<String>,
    /// Replace GENERIC_* bits by what they mean for the type (GENERIC_ALL on File is
    /// 0x1f01ff).
    #[arg(long)]
    pub map_generic: bool,
    /// List every type with its aliases and generic mapping.
    #[arg(long)]
    pub types: bool,
    /// Print JSON (one object per mask; JSON lines in batch mode).
    #[arg(long)]
    pub json: bool,
}

/// Runs `pipescope access`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    if args.types {
        if args.mask.is_some() || args.map_generic {
            bail!("--types takes no MASK, TYPE or --map-generic");
        }
        if args.json {
            write_types_json(&mut out)?;
        } else {
            write_types(&mut out)?;
        }
        return Ok(out.flush()?);
    }
    if let Some(expr) = &args.encode {
        if args.ty.is_some() {
            bail!("--encode takes one TYPE after the expression, not a MASK");
        }
        let ty = args.mask.as_deref().map(find_type).transpose()?;
        let mask = encode(expr, ty).with_context(|| format!("cannot encode `{expr}`"))?;
        one(&mut out, mask, ty, &args)?;
        return Ok(out.flush()?);
    }
    let Some(mask_text) = args.mask.as_deref() else {
        bail!("give a MASK (or `-` to read lines from stdin), --encode EXPR, or --types");
    };
    let ty = args.ty.as_deref().map(find_type).transpose()?;
    if mask_text == "-" {
        let stdin = io::stdin();
        let bad = batch(stdin.lock(), &mut out, ty, &args)?;
        out.flush()?;
        if bad > 0 {
            return Err(Exit(1).into());
        }
        return Ok(());
    }
    let mask = parse_mask(mask_text, ty)?;
    one(&mut out, mask, ty, &args)?;
    Ok(out.flush()?)
}

/// Finds a type or explains which ones exist.
fn find_type(name: &str) -> anyhow::Result<&'static TypeInfo> {
    lookup_type(name).ok_or_else(|| anyhow::anyhow!(unknown_type(name)))
}

fn unknown_type(name: &str) -> String {
    let mut s = format!("unknown type `{name}`; known types: ");
    for (i, t) in types().iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(t.name);
    }
    s.push_str(" (aliases: pipescope access --types)");
    s
}

/// Decodes one mask (mapping generic bits first if asked) and prints it.
fn one(
    out: &mut impl Write,
    mask: u32,
    ty: Option<&'static TypeInfo>,
    args: &Args,
) -> anyhow::Result<()> {
    let (mask, mapped_from) = mapped(mask, ty, args.map_generic)?;
    let d = decode(mask, ty);
    if args.json {
        let mut summary = String::new();
        d.write_summary(&mut summary)?;
        pretty_json(
            &mut *out,
            &MaskJson {
                d: &d,
                summary: &summary,
                mapped_from,
                details: true,
            },
        )?;
        writeln!(out)?;
    } else {
        write_human(out, &d, mapped_from)?;
    }
    Ok(())
}

fn mapped(
    mask: u32,
    ty: Option<&'static TypeInfo>,
    map: bool,
) -> anyhow::Result<(u32, Option<u32>)> {
    if !map {
        return Ok((mask, None));
    }
    match ty {
        Some(t) if t.mapping.is_some() => Ok((map_generic(mask, t), Some(mask))),
        Some(t) => bail!("type {} has no generic mapping", t.name),
        None => bail!("--map-generic needs a TYPE: the mapping is the type's"),
    }
}

/// The mask in the bases its readers use: octal first for open flags.
fn write_mask_numbers(out: &mut impl Write, mask: u32, ty: Option<&TypeInfo>) -> io::Result<()> {
    if ty.is_some_and(|t| t.kind == Kind::OpenFlags) {
        write!(out, "0{mask:o} (0x{mask:x}, {mask})")
    } else {
        write!(out, "0x{mask:08x} ({mask})")
    }
}

fn write_human(out: &mut impl Write, d: &Decoded, mapped_from: Option<u32>) -> io::Result<()> {
    write!(out, "mask     ")?;
    write_mask_numbers(out, d.mask, d.ty)?;
    writeln!(out)?;
    if let Some(from) = mapped_from {
        writeln!(
            out,
            "mapped   from 0x{from:08x} through the type's generic mapping"
        )?;
    }
    match d.ty {
        Some(t) => writeln!(out, "type     {}", t.name)?,
        None => writeln!(out, "type     (none: specific bits not named)")?,
    }
    let width = d.rights.iter().map(|r| r.name.len()).max().unwrap_or(0);
    if d.rights.is_empty() {
        writeln!(out, "rights   (none)")?;
    }
    for (i, r) in d.rights.iter().enumerate() {
        let label = if i == 0 { "rights" } else { "" };
        let bits = if d.ty.is_some_and(|t| t.kind == Kind::OpenFlags) {
            format!("0{:o}", r.bits)
        } else {
            format!("0x{:08x}", r.bits)
        };
        writeln!(
            out,
            "{label:<8} {:<width$}  {bits:>10}  {:<8}  {}",
            r.name,
            r.group.as_str(),
            r.doc
        )?;
    }
    if !d.compact.is_empty() {
        write!(out, "compact  ")?;
        write_joined(out, &d.compact, " | ")?;
        writeln!(out)?;
    }
    if d.unknown != 0 {
        let why = if d.ty.is_none() {
            "no type given"
        } else {
            "no right of this type has these bits"
        };
        writeln!(out, "unnamed  0x{:08x} ({why})", d.unknown)?;
    }
    let mut summary = String::new();
    // Writing into a String cannot fail.
    let _ = d.write_summary(&mut summary);
    writeln!(out, "summary  {summary}")?;
    if mapped_from.is_none()
        && d.mask & 0xf000_0000 != 0
        && let Some(t) = d.ty.filter(|t| t.mapping.is_some())
    {
        writeln!(
            out,
            "note     generic bits are set: --map-generic shows what they mean for {}",
            t.name
        )?;
    }
    if d.needs_type() {
        writeln!(
            out,
            "note     specific bits 0x{:04x} need a type to be named: pipescope access 0x{:x} TYPE \
             (pipescope access --types lists them)",
            d.mask & 0xffff,
            d.mask
        )?;
    }
    Ok(())
}

fn write_joined(out: &mut impl Write, items: &[&str], sep: &str) -> io::Result<()> {
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.write_all(sep.as_bytes())?;
        }
        out.write_all(s.as_bytes())?;
    }
    Ok(())
}

/// The longest batch line read; a longer one is an error for that line alone, and its
/// rest is skipped without being stored.
const MAX_LINE: usize = 64 * 1024;

/// Decodes `MASK [TYPE]` lines; a bad line (not a mask, not UTF-8, too long) gets an
/// error line and the rest go on. Returns how many lines were bad.
fn batch(
    mut input: impl BufRead,
    out: &mut impl Write,
    default_ty: Option<&'static TypeInfo>,
    args: &Args,
) -> anyhow::Result<u64> {
    let mut line = Vec::with_capacity(128);
    let mut summary = String::with_capacity(256);
    // One Decoded reused for every line: no allocation per line once it has grown.
    let mut d = Decoded::default();
    let mut bad = 0u64;
    let mut number = 0u64;
    loop {
        line.clear();
        let Some(complete) = read_line(&mut input, &mut line, MAX_LINE)? else {
            break;
        };
        number += 1;
        let result = match (complete, std::str::from_utf8(&line)) {
            (false, _) => Err(format!("longer than {MAX_LINE} bytes")),
            (true, Err(e)) => Err(format!(
                "not UTF-8 text (an invalid byte at column {})",
                e.valid_up_to() + 1
            )),
            (true, Ok(text)) if text.trim().is_empty() => continue,
            (true, Ok(text)) => batch_line(text.trim(), default_ty, args.map_generic),
        };
        match result {
            Ok((mask, ty, mapped_from)) => {
                decode_into(mask, ty, &mut d);
                summary.clear();
                d.write_summary(&mut summary)?;
                if args.json {
                    let json = MaskJson {
                        d: &d,
                        summary: &summary,
                        mapped_from,
                        details: false,
                    };
                    compact_json(&mut *out, &json)?;
                    out.write_all(b"\n")?;
                } else {
                    write_batch_line(out, &d, &summary)?;
                }
            }
            Err(msg) => {
                bad += 1;
                if args.json {
                    let input = String::from_utf8_lossy(&line);
                    let json = BatchErrorJson {
                        line: number,
                        input: input.trim(),
                        error: &msg,
                    };
                    compact_json(&mut *out, &json)?;
                    out.write_all(b"\n")?;
                } else {
                    // The message quotes the input: escaped, as everything that may reach
                    // a terminal.
                    let text = format!("line {number}: {msg}");
                    writeln!(out, "error\t{}", crate::out::escape_str(&text))?;
                }
            }
        }
    }
    Ok(bad)
}

/// Reads one line into `line` (without its `\n`), at most `max` bytes of it: returns
/// `None` at the end of input, `Some(true)` for a whole line, `Some(false)` for a line
/// longer than `max`, whose first `max` bytes are kept and the rest read and dropped.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    let mut any = false;
    let mut complete = true;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(any.then_some(complete));
        }
        any = true;
        let (chunk, end) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = max.saturating_sub(line.len());
        if chunk.len() > room {
            complete = false;
        }
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = end.unwrap_or(buf.len());
        input.consume(used);
        if end.is_some() {
            return Ok(Some(complete));
        }
    }
}

/// One batch line: `MASK [TYPE]`, where TYPE is the rest of the line (`ALPC Port`).
fn batch_line(
    text: &str,
    default_ty: Option<&'static TypeInfo>,
    map: bool,
) -> Result<(u32, Option<&'static TypeInfo>, Option<u32>), String> {
    let (mask_text, ty_text) = match text.split_once([' ', '\t']) {
        Some((m, t)) => (m, t.trim()),
        None => (text, ""),
    };
    let ty = if ty_text.is_empty() {
        default_ty
    } else {
        Some(lookup_type(ty_text).ok_or_else(|| format!("unknown type `{ty_text}`"))?)
    };
    let mask = parse_mask(mask_text, ty).map_err(|e| e.to_string())?;
    let (mask, mapped_from) = mapped(mask, ty, map).map_err(|e| e.to_string())?;
    Ok((mask, ty, mapped_from))
}

/// A batch result: the mask (hex; octal for open flags), type, compact form, summary,
/// separated by tabs.
fn write_batch_line(out: &mut impl Write, d: &Decoded, summary: &str) -> io::Result<()> {
    if d.ty.is_some_and(|t| t.kind == Kind::OpenFlags) {
        write!(out, "0{:o}", d.mask)?;
    } else {
        out.write_all(&hex8(d.mask))?;
    }
    out.write_all(b"\t")?;
    out.write_all(d.ty.map_or("-", |t| t.name).as_bytes())?;
    out.write_all(b"\t")?;
    if d.compact.is_empty() {
        out.write_all(b"-")?;
    } else {
        write_joined(out, &d.compact, " | ")?;
    }
    out.write_all(b"\t")?;
    out.write_all(summary.as_bytes())?;
    out.write_all(b"\n")
}

/// `0x` and eight hex digits, without going through `fmt` (batch mode prints millions).
fn hex8(mask: u32) -> [u8; 10] {
    let mut b = *b"0x00000000";
    for (i, digit) in b[2..].iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[(mask >> (28 - 4 * i)) as usize & 0xf];
    }
    b
}

fn write_types(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<22} {:<10} {:<10} {:<10} {:<10}  ALIASES",
        "TYPE", "READ", "WRITE", "EXECUTE", "ALL"
    )?;
    let mut line = String::with_capacity(128);
    for t in types() {
        line.clear();
        // Writing into a String cannot fail.
        let _ = match t.mapping {
            Some(m) => write!(
                line,
                "{:<22} 0x{:08x} 0x{:08x} 0x{:08x} 0x{:08x}  ",
                t.name, m.read, m.write, m.execute, m.all
            ),
            None => write!(line, "{:<22} {:<45}", t.name, "(no generic mapping)"),
        };
        line.push_str(&t.aliases.join(", "));
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(
        out,
        "\n{} types; names are case-insensitive. `pipescope access --types --json` adds each \
         type's rights, combinations and sources.",
        types().len()
    )?;
    // Windows: the running kernel's own mappings, marked where they differ.
    if let Ok(live) = pipescope_core::object_types() {
        writeln!(
            out,
            "\nLive generic mappings of this system (ObjectTypesInformation; * differs from the table above):"
        )?;
        writeln!(
            out,
            "{:<22} {:<10} {:<10} {:<10} {:<10}  {:>8} {:>8}",
            "TYPE", "READ", "WRITE", "EXECUTE", "ALL", "OBJECTS", "HANDLES"
        )?;
        for t in &live {
            let [r, w, x, a] = t.generic_mapping;
            let differs = lookup_type(&t.name)
                .and_then(|b| b.mapping)
                .is_some_and(|m| [m.read, m.write, m.execute, m.all] != t.generic_mapping);
            writeln!(
                out,
                "{:<22} 0x{r:08x} 0x{w:08x} 0x{x:08x} 0x{a:08x}  {:>8} {:>8}{}",
                t.name,
                t.objects,
                t.handles,
                if differs { " *" } else { "" }
            )?;
        }
    }
    Ok(())
}

fn write_types_json(out: &mut impl Write) -> anyhow::Result<()> {
    let live = pipescope_core::object_types().unwrap_or_default();
    let list: Vec<TypeJson> = types().iter().map(|t| TypeJson::new(t, &live)).collect();
    pretty_json(&mut *out, &list)?;
    writeln!(out)?;
    Ok(())
}

/// Writes `value` as JSON, keeping an I/O error an `io::Error` so that a closed stdout
/// (`| head`) still ends quietly.
fn compact_json(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(out, value).map_err(io::Error::from)
}

/// Like [`compact_json`], indented for people.
fn pretty_json(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(out, value).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_line_caps_a_long_line_and_goes_on() {
        let mut input: &[u8] = b"0x1 file\n0123456789\r\nlast";
        let mut line = Vec::new();
        assert_eq!(read_line(&mut input, &mut line, 8).unwrap(), Some(true));
        assert_eq!(line, b"0x1 file");
        line.clear();
        assert_eq!(read_line(&mut input, &mut line, 8).unwrap(), Some(false));
        assert_eq!(line, b"01234567");
        line.clear();
        assert_eq!(read_line(&mut input, &mut line, 8).unwrap(), Some(true));
        assert_eq!(line, b"last");
        line.clear();
        assert_eq!(read_line(&mut input, &mut line, 8).unwrap(), None);
    }

    #[test]
    fn hex8_pads_to_eight_digits() {
        assert_eq!(&hex8(0x120189), b"0x00120189");
        assert_eq!(&hex8(u32::MAX), b"0xffffffff");
        assert_eq!(&hex8(0), b"0x00000000");
    }
}
