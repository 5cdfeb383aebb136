//! Output helpers shared by the printers: escaping names for the terminal, CSV quoting,
//! base64 for JSON, aligned tables, and the colour policy (only on a terminal, never
//! with `NO_COLOR`).
//!
//! Names come from the OS as bytes and can hold anything: newlines, terminal escape
//! sequences, invalid UTF-8. A printer never writes such a name raw to a terminal; it
//! goes through [`escape`]. JSON carries them losslessly (see `json.rs`), CSV quoted.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

/// Makes bytes safe and unambiguous on a terminal. Valid, printable UTF-8 passes through;
/// a backslash that could be read as the start of an escape (followed by `x`, `u`, `n`,
/// `r`, `t` or another backslash, or ending the name) becomes `\\`, others stay single so
/// that Windows names (`\Device\NamedPipe\…`) read as they are; `\n`, `\r`, `\t` are
/// written so; other C0 controls, DEL and each byte of invalid UTF-8 become `\xNN`; C1
/// controls and the invisible characters that reorder or hide text (bidi controls,
/// zero-width ones) become `\u{NNNN}`. The result can be read back to the exact bytes: a
/// backslash not followed by one of those escapes is a backslash.
pub fn escape(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        if !s.chars().any(needs_escape) && !ambiguous_backslash(s) {
            return Cow::Borrowed(s);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        let mut chars = chunk.valid().chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' {
                // Invalid UTF-8 right after the valid part is shown as `\xNN`.
                let next = chars
                    .peek()
                    .copied()
                    .or_else(|| (!chunk.invalid().is_empty()).then_some('x'));
                if next.is_none_or(backslash_needs_doubling_before) {
                    out.push_str("\\\\");
                } else {
                    out.push('\\');
                }
                continue;
            }
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for text already known to be UTF-8.
pub fn escape_str(s: &str) -> Cow<'_, str> {
    escape(s.as_bytes())
}

fn needs_escape(c: char) -> bool {
    c.is_control() || invisible(c)
}

/// Whether a backslash in valid UTF-8 text must be doubled (see [`escape`]).
fn ambiguous_backslash(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && chars
                .peek()
                .copied()
                .is_none_or(backslash_needs_doubling_before)
        {
            return true;
        }
    }
    false
}

/// Whether a backslash followed by `next` must be doubled: when the pair would read as an
/// escape (`\x`, `\u`, `\n`, `\r`, `\t`, `\\`), or when `next` is itself shown escaped
/// (its escape starts with a backslash).
fn backslash_needs_doubling_before(next: char) -> bool {
    matches!(next, 'x' | 'u' | 'n' | 'r' | 't' | '\\') || needs_escape(next)
}

/// Characters that change how the text around them is shown while showing nothing.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        // C0 and DEL as `\xNN`; C1 (U+0080–U+009F) as `\u{…}`, so that `\xNN` above
        // 0x7f always means a byte that is not UTF-8.
        c if c.is_control() && (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_control() || invisible(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// One CSV field (RFC 4180): escaped as the table escapes text (no control byte ever
/// reaches a cell, and bytes that are not UTF-8 come out as `\xNN`, reversibly), then
/// quoted when it holds a comma or a quote or starts or ends with a space, quotes doubled.
pub fn csv_field(bytes: &[u8]) -> Cow<'_, str> {
    let s = escape(bytes);
    let needs = s.contains([',', '"'])
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace);
    if !needs {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    Cow::Owned(out)
}

/// Writes one CSV record of [`csv_field`]s and its line end (`\r\n`, as RFC 4180 says).
pub fn csv_record<W: Write + ?Sized>(w: &mut W, fields: &[&[u8]]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        w.write_all(csv_field(f).as_bytes())?;
    }
    w.write_all(b"\r\n")
}

/// Standard base64 (RFC 4648, with `=` padding).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether to colour output on stdout: only on a terminal, never when `NO_COLOR` is set
/// to anything non-empty (<https://no-color.org>) or `TERM=dumb`.
pub fn color_stdout() -> bool {
    color_allowed(
        io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

fn color_allowed(
    tty: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    tty && no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb")
}

/// An SGR colour or attribute: the one definition of the escape sequences pipescope
/// writes, and only where [`color_stdout`] (or an explicit `--color`) allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// Bold (headers).
    Bold,
    /// Red (problems).
    Red,
    /// Blue.
    Blue,
    /// Cyan.
    Cyan,
    /// Magenta.
    Magenta,
}

impl Paint {
    /// The escape sequence that starts this paint.
    pub const fn sgr(self) -> &'static str {
        match self {
            Paint::Bold => "\x1b[1m",
            Paint::Red => "\x1b[31m",
            Paint::Blue => "\x1b[34m",
            Paint::Magenta => "\x1b[35m",
            Paint::Cyan => "\x1b[36m",
        }
    }
}

/// The escape sequence that ends any [`Paint`].
pub const RESET: &str = "\x1b[0m";

/// Horizontal alignment of a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Padded on the right.
    Left,
    /// Padded on the left (numbers).
    Right,
}

/// An aligned text table. Cells must already be escaped. Nothing is ever cut; a
/// left-aligned last column is not padded either, so long names stay whole.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    align: Vec<Align>,
    widths: Vec<usize>,
    rows: Vec<Row>,
}

#[derive(Debug)]
struct Row {
    cells: Vec<String>,
    paint: Option<Paint>,
    notes: Vec<String>,
}

impl Table {
    /// A table with these column headers and alignments.
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Table {
            headers: columns.iter().map(|c| c.0).collect(),
            align: columns.iter().map(|c| c.1).collect(),
            widths: columns.iter().map(|c| width(c.0)).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; `paint` colours the whole row when colour is on.
    pub fn row(&mut self, cells: Vec<String>, paint: Option<Paint>) {
        for (w, c) in self.widths.iter_mut().zip(&cells) {
            *w = (*w).max(width(c));
        }
        self.rows.push(Row {
            cells,
            paint,
            notes: Vec::new(),
        });
    }

    /// Adds a line of detail under the last row, indented (already escaped).
    pub fn note(&mut self, text: String) {
        if let Some(row) = self.rows.last_mut() {
            row.notes.push(text);
        }
    }

    /// Writes the header and rows, two spaces between columns.
    pub fn write<W: Write + ?Sized>(&self, w: &mut W, color: bool) -> io::Result<()> {
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        self.line(w, &header, color.then_some(Paint::Bold))?;
        for row in &self.rows {
            self.line(w, &row.cells, if color { row.paint } else { None })?;
            for note in &row.notes {
                writeln!(w, "      {note}")?;
            }
        }
        Ok(())
    }

    fn line<W: Write + ?Sized>(
        &self,
        w: &mut W,
        cells: &[String],
        paint: Option<Paint>,
    ) -> io::Result<()> {
        if let Some(p) = paint {
            w.write_all(p.sgr().as_bytes())?;
        }
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                w.write_all(b"  ")?;
            }
            let pad = self.widths[i].saturating_sub(width(cell));
            match self.align[i] {
                Align::Left if i == last => w.write_all(cell.as_bytes())?,
                Align::Left => write!(w, "{cell}{:pad$}", "")?,
                Align::Right => write!(w, "{:pad$}{cell}", "")?,
            }
        }
        if paint.is_some() {
            w.write_all(RESET.as_bytes())?;
        }
        w.write_all(b"\n")
    }
}

/// Display width in columns, counting each character as one.
fn width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_through_unchanged() {
        assert!(matches!(escape(b"/tmp/ok file.txt"), Cow::Borrowed(_)));
        assert_eq!(escape("/tmp/über".as_bytes()), "/tmp/über");
    }

    #[test]
    fn control_bytes_are_shown_never_emitted() {
        let hostile = b"/tmp/a\nb\x1b[31mred\x07\t\r\x7f";
        let shown = escape(hostile);
        assert_eq!(shown, "/tmp/a\\nb\\x1b[31mred\\x07\\t\\r\\x7f");
        assert!(!shown.bytes().any(|b| b < 0x20 || b == 0x7f));
        // C1 controls (U+009B is a one-character CSI) and bidi overrides.
        assert_eq!(
            escape("a\u{9b}b\u{202e}c".as_bytes()),
            "a\\u{009b}b\\u{202e}c"
        );
    }

    #[test]
    fn invalid_utf8_becomes_hex_and_backslash_is_doubled() {
        assert_eq!(escape(b"/tmp/\xff\xfe-\xc3"), "/tmp/\\xff\\xfe-\\xc3");
        // A literal backslash-x in a name cannot be mistaken for an escaped byte.
        assert_eq!(escape(b"a\\xffb"), "a\\\\xffb");
        assert_eq!(escape(b"a\\\xff"), "a\\\\\\xff");
        assert_eq!(escape(b"end\\"), "end\\\\");
        assert_eq!(escape(b"two\\\\n"), "two\\\\\\\\n");
    }

    #[test]
    fn windows_names_keep_single_backslashes() {
        let name = r"\Device\NamedPipe\Win32.Pipes.00000032.00000001";
        assert_eq!(escape(name.as_bytes()), name);
        // Only a backslash that looks like the start of an escape is doubled.
        assert_eq!(
            escape(br"\Device\NamedPipe\npipe"),
            r"\Device\NamedPipe\\npipe"
        );
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field(b"plain"), "plain");
        assert_eq!(csv_field(b"a,b"), "\"a,b\"");
        assert_eq!(csv_field(b"say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            csv_field(b"line\nbreak\x1b[2J\x07"),
            "line\\nbreak\\x1b[2J\\x07"
        );
        assert_eq!(csv_field(b"bad\xff,"), "\"bad\\xff,\"");
        assert_eq!(csv_field(b" lead"), "\" lead\"");
        let mut out = Vec::new();
        csv_record(&mut out, &[b"1", b"x,y", b""]).unwrap();
        assert_eq!(out, b"1,\"x,y\",\r\n");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, enc) in cases {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
        assert_eq!(base64(b"\xff\xfe\n"), "//4K");
    }

    #[test]
    fn colour_policy() {
        use std::ffi::OsStr;
        assert!(color_allowed(true, None, Some(OsStr::new("xterm"))));
        assert!(!color_allowed(false, None, None));
        assert!(!color_allowed(true, Some(OsStr::new("1")), None));
        assert!(color_allowed(true, Some(OsStr::new("")), None));
        assert!(!color_allowed(true, None, Some(OsStr::new("dumb"))));
    }

    #[test]
    fn table_aligns_and_leaves_the_last_column_whole() {
        let mut t = Table::new(&[
            ("PID", Align::Right),
            ("TYPE", Align::Left),
            ("NAME", Align::Left),
        ]);
        t.row(vec!["1".into(), "pipe".into(), "pipe:[5]".into()], None);
        t.row(
            vec!["1234".into(), "eventfd".into(), "x".into()],
            Some(Paint::Red),
        );
        let mut out = Vec::new();
        t.write(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            " PID  TYPE     NAME\n   1  pipe     pipe:[5]\n1234  eventfd  x\n"
        );
        let mut out = Vec::new();
        t.write(&mut out, true).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("\x1b[31m1234"));
    }

    /// Reverses [`escape`], to prove it loses nothing.
    fn unescape(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                continue;
            }
            let Some(next) = chars.next() else {
                panic!("a lone backslash at the end: escape doubles those");
            };
            match next {
                '\\' => out.push(b'\\'),
                'n' => out.push(b'\n'),
                'r' => out.push(b'\r'),
                't' => out.push(b'\t'),
                'x' => {
                    let hex: String = chars.by_ref().take(2).collect();
                    out.push(u8::from_str_radix(&hex, 16).unwrap());
                }
                'u' => {
                    let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                    let c = char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap();
                    let mut b = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
                // Any other character after a backslash: the backslash was literal.
                other => {
                    let mut b = [0; 5];
                    b[0] = b'\\';
                    let n = other.encode_utf8(&mut b[1..]).len();
                    out.extend_from_slice(&b[..=n]);
                }
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn escape_never_emits_a_control_byte(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let shown = escape(&bytes);
            proptest::prop_assert!(!shown.chars().any(|c| c.is_control()));
        }

        #[test]
        fn escape_of_utf8_text_is_reversible(s in "\\PC*|[\\x00-\\x1f\\x7f\\\\\\u{80}-\\u{9f}\\u{202e}a-z]*") {
            proptest::prop_assert_eq!(unescape(&escape_str(&s)), s.as_bytes());
        }

        #[test]
        fn escape_of_any_bytes_is_reversible(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            proptest::prop_assert_eq!(unescape(&escape(&bytes)), bytes);
        }

        #[test]
        fn base64_length_and_alphabet(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
            let b = base64(&bytes);
            proptest::prop_assert_eq!(b.len(), bytes.len().div_ceil(3) * 4);
            proptest::prop_assert!(b.bytes().all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c)));
        }
    }
}
