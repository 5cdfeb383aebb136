//! `pipescope handles`: the handle list of one process, several, or all (Process
//! Hacker's Handles tab, handle.exe, lsof), as an aligned table, JSON or CSV.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};

use anyhow::Context as _;
use pipescope_core::{Handle, ObjectId, Process, Scan, ScanError, ScanOptions};

use crate::json::{self, ErrorJson, ProcessJson};
use crate::out::{self, Align, Paint, Table};

/// Arguments of `pipescope handles`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  pipescope handles -p 1234\n  pipescope handles -t pipe -t fifo\n  \
pipescope handles --name .log -u www-data\n  pipescope handles -l --json -p nginx"
)]
pub struct Args {
    /// Only this process: a pid, or a name matching the short name (comm) exactly.
    /// Repeatable.
    #[arg(short = 'p', long = "process", value_name = "PID|NAME")]
    pub process: Vec<String>,
    /// Only handles of this type (file, dir, pipe, fifo, socket, char, block, eventfd,
    /// epoll, timerfd, signalfd, inotify, pidfd, memfd, io_uring, …). Repeatable.
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    pub object_type: Vec<String>,
    /// Only handles whose name contains this text (case-insensitive).
    #[arg(long, value_name = "SUBSTR")]
    pub name: Option<String>,
    /// Only processes of this user (name or numeric id).
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// Handle Properties: open flags, position, mount id, inode, the handles sharing
    /// each open file description (kcmp), and the type-specific lines of fdinfo.
    #[arg(short = 'l', long)]
    pub long: bool,
    /// Only the open flags of each handle (decoded from fdinfo), without the rest of -l.
    #[arg(short = 'f', long)]
    pub flags: bool,
    /// Counts per type, per process and in total, instead of the list.
    #[arg(long, conflicts_with = "csv")]
    pub summary: bool,
    /// JSON on stdout (the schema is in the README).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV on stdout, with a header line.
    #[arg(long)]
    pub csv: bool,
}

/// Runs `pipescope handles`.
pub fn run(args: Args) -> anyhow::Result<()> {
    check_filters(&args)?;
    let opts = ScanOptions {
        processes: args.process.iter().map(|p| p.as_str().into()).collect(),
        long: args.long,
        flags: args.flags,
        ..ScanOptions::default()
    };
    let filter = Filter {
        types: args.object_type.iter().map(|t| t.to_lowercase()).collect(),
        name: args.name.as_ref().map(|n| n.to_lowercase()),
        user: args.user.as_deref().map(UserFilter::new),
    };
    // Everything: stream, printing each process as soon as it is read. A few named
    // processes: scan them first, to say so when none exists. The -l table: scan all
    // first, to note under each handle the others sharing its open file description.
    let table = !(args.json || args.csv || args.summary);
    let scan = if opts.processes.is_empty() && !(opts.long && table) {
        pipescope_core::scan_iter(&opts).context("scanning handles")?
    } else {
        let snap = pipescope_core::scan(&opts).context("scanning handles")?;
        if super::none_matched(&snap) {
            anyhow::bail!("no process matches {}", args.process.join(", "));
        }
        Scan::from(snap)
    };
    let stdout = io::stdout();
    let mut w = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut sink = Sink {
        scan,
        errors: Vec::new(),
    };
    if args.summary {
        summary(&mut w, &mut sink, &filter, args.json)?;
    } else if args.json {
        write_json(&mut w, &mut sink, &filter, args.long)?;
    } else if args.csv {
        write_csv(&mut w, &mut sink, &filter)?;
    } else {
        write_table(&mut w, &mut sink, &filter, args.long, args.flags)?;
    }
    w.flush()?;
    if !args.json {
        note_errors(&sink.errors);
    }
    Ok(())
}

/// The scan being printed: processes pass through, errors are kept for the end.
struct Sink {
    scan: Scan,
    errors: Vec<ScanError>,
}

impl Sink {
    /// The next process `filter` keeps.
    fn next(&mut self, filter: &Filter) -> Option<Process> {
        loop {
            match self.scan.next()? {
                Ok(p) if filter.keeps(&p) => return Some(p),
                Ok(_) => {}
                Err(e) => self.errors.push(e),
            }
        }
    }
}

/// A filter that can match nothing by construction is an error, not an empty list: an
/// unknown `-t` type, an unknown `-u` user.
fn check_filters(args: &Args) -> anyhow::Result<()> {
    if !args.object_type.is_empty() {
        let known = pipescope_core::handle_types();
        for t in &args.object_type {
            if !known.is_empty() && !known.iter().any(|k| k.eq_ignore_ascii_case(t)) {
                anyhow::bail!(
                    "unknown handle type `{t}`; known types: {}",
                    known.join(", ")
                );
            }
        }
    }
    if let Some(user) = &args.user
        && pipescope_core::user_known(user) == Some(false)
    {
        anyhow::bail!("no user named `{user}` on this system");
    }
    Ok(())
}

/// `-u`: a user name, or a number matching the uid.
struct UserFilter {
    name: String,
    uid: Option<u32>,
}

impl UserFilter {
    fn new(s: &str) -> Self {
        UserFilter {
            name: s.to_owned(),
            uid: s.parse().ok(),
        }
    }
}

/// What `-t`, `--name` and `-u` leave in.
struct Filter {
    types: Vec<String>,
    name: Option<String>,
    user: Option<UserFilter>,
}

impl Filter {
    fn narrows_handles(&self) -> bool {
        !self.types.is_empty() || self.name.is_some()
    }

    fn process(&self, p: &Process) -> bool {
        self.user.as_ref().is_none_or(|u| {
            p.user.as_deref().is_some_and(|name| {
                // Windows users are `DOMAIN\user`, matched whole or by the user part.
                let short = name.rsplit_once('\\').map_or(name, |(_, user)| user);
                name == u.name
                    || (cfg!(windows)
                        && (name.eq_ignore_ascii_case(&u.name)
                            || short.eq_ignore_ascii_case(&u.name)))
            }) || (u.uid.is_some() && p.uid == u.uid)
        })
    }

    fn handle(&self, h: &Handle) -> bool {
        (self.types.is_empty()
            || self
                .types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(h.object_type.as_str())))
            && self
                .name
                .as_ref()
                .is_none_or(|n| h.name.to_string_lossy().to_lowercase().contains(n.as_str()))
    }

    /// Whether to show `p`: with a handle filter, a process left with no handle is not.
    fn keeps(&self, p: &Process) -> bool {
        self.process(p) && (!self.narrows_handles() || p.handles.iter().any(|h| self.handle(h)))
    }

    /// The handles of `p` to show.
    fn handles<'a>(&'a self, p: &'a Process) -> impl Iterator<Item = &'a Handle> + 'a {
        p.handles.iter().filter(move |h| self.handle(h))
    }
}

fn write_json<W: Write>(w: &mut W, sink: &mut Sink, filter: &Filter, long: bool) -> io::Result<()> {
    w.write_all(b"{\"processes\":[")?;
    let mut first = true;
    while let Some(p) = sink.next(filter) {
        if !std::mem::take(&mut first) {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, &ProcessJson::new(&p, filter.handles(&p)))?;
    }
    w.write_all(b"],\"errors\":")?;
    let errors: Vec<ErrorJson<'_>> = sink.errors.iter().map(ErrorJson::new).collect();
    serde_json::to_writer(&mut *w, &errors)?;
    write!(w, ",\"vanished\":{}", sink.scan.vanished())?;
    if long {
        let shared = sink.scan.shared();
        w.write_all(b",\"shared\":")?;
        serde_json::to_writer(&mut *w, &json::shared(&shared))?;
    }
    w.write_all(b"}\n")
}

fn write_csv<W: Write>(w: &mut W, sink: &mut Sink, filter: &Filter) -> io::Result<()> {
    // Windows adds the granted access mask as a last column.
    let columns: &[&str] = if cfg!(windows) {
        &[
            "pid", "process", "user", "handle", "type", "mode", "name", "inode", "dev", "pipe",
            "flags", "access",
        ]
    } else {
        &[
            "pid", "process", "user", "handle", "type", "mode", "name", "inode", "dev", "pipe",
            "flags",
        ]
    };
    let header: Vec<&[u8]> = columns.iter().map(|c| c.as_bytes()).collect();
    out::csv_record(w, &header)?;
    while let Some(p) = sink.next(filter) {
        let pid = p.pid.to_string();
        let user = p.user.as_deref().unwrap_or("");
        for h in filter.handles(&p) {
            let (inode, dev) = object_numbers(h);
            let flags = h
                .flags
                .map(|f| pipescope_access::fd_flag_names(f).join("|"));
            let access = h.access.map(|a| format!("{a:#x}")).unwrap_or_default();
            // A number for machines, as in JSON: decimal on every OS.
            let handle = h.handle.to_string();
            let fields: [&[u8]; 12] = [
                pid.as_bytes(),
                p.name_bytes.as_deref().unwrap_or(p.name.as_bytes()),
                user.as_bytes(),
                handle.as_bytes(),
                h.object_type.as_str().as_bytes(),
                h.mode.as_str().as_bytes(),
                h.name.as_bytes(),
                inode.as_bytes(),
                dev.as_bytes(),
                h.pipe.map_or("", |k| k.as_str()).as_bytes(),
                flags.as_deref().unwrap_or("").as_bytes(),
                access.as_bytes(),
            ];
            out::csv_record(w, &fields[..columns.len()])?;
        }
    }
    Ok(())
}

/// The NAME cell: the name, escaped; or why there is none, in angle brackets.
pub fn display_name(h: &Handle) -> String {
    if h.name.is_empty() {
        if let Some(why) = h
            .details
            .as_ref()
            .and_then(|d| d.name_unavailable.as_deref())
        {
            return format!("<name unavailable: {}>", out::escape_str(why));
        }
        if h.pipe.is_some() {
            // Windows 10 and later leave anonymous pipes unnamed (Process Hacker:
            // "Unnamed file: \FileSystem\Npfs"); the device is the named-pipe one.
            return "Unnamed file: \\Device\\NamedPipe".to_owned();
        }
        if h.object_type.as_str() == "File" {
            return "Unnamed file".to_owned();
        }
    }
    out::escape(h.name.as_bytes()).into_owned()
}

fn object_numbers(h: &Handle) -> (String, String) {
    match &h.object {
        Some(ObjectId::Inode { dev, ino }) => (ino.to_string(), dev.to_string()),
        Some(ObjectId::Address(a)) => (format!("{a:#x}"), String::new()),
        _ => (String::new(), String::new()),
    }
}

fn paint_for(h: &Handle) -> Option<Paint> {
    if h.pipe.is_some() {
        Some(Paint::Cyan)
    } else {
        match h.object_type.as_str() {
            "socket" => Some(Paint::Magenta),
            "dir" => Some(Paint::Blue),
            _ => None,
        }
    }
}

fn write_table<W: Write>(
    w: &mut W,
    sink: &mut Sink,
    filter: &Filter,
    long: bool,
    flags: bool,
) -> io::Result<()> {
    let mut columns = vec![
        ("PID", Align::Right),
        ("PROCESS", Align::Left),
        ("HANDLE", Align::Right),
        ("TYPE", Align::Left),
        ("MODE", Align::Left),
    ];
    // Windows handles carry a granted access mask and the Handle Properties of Process
    // Hacker instead of open flags and fdinfo.
    let windows = cfg!(windows);
    if windows {
        columns.push(("ACCESS", Align::Right));
    }
    if long && windows {
        columns.extend([
            ("RIGHTS", Align::Left),
            ("OBJECT", Align::Left),
            ("HANDLES", Align::Right),
            ("REFS", Align::Right),
            ("PAGED", Align::Right),
            ("NONPAGED", Align::Right),
            ("ATTRIBUTES", Align::Left),
        ]);
    }
    if !windows && (long || flags) {
        columns.push(("FLAGS", Align::Left));
    }
    if !windows && long {
        columns.extend([
            ("POS", Align::Right),
            ("MNT", Align::Right),
            ("INODE", Align::Right),
        ]);
    }
    columns.push(("NAME", Align::Left));
    let mut table = Table::new(&columns);
    while let Some(p) = sink.next(filter) {
        let pid = p.pid.to_string();
        let process =
            out::escape(p.name_bytes.as_deref().unwrap_or(p.name.as_bytes())).into_owned();
        for h in filter.handles(&p) {
            let mut cells = vec![
                pid.clone(),
                process.clone(),
                pipescope_core::handle_value(h.handle),
                out::escape_str(h.object_type.as_str()).into_owned(),
                h.mode.as_str().to_owned(),
            ];
            let details = h.details.as_deref();
            if windows {
                cells.push(
                    h.access
                        .map_or_else(|| "-".to_owned(), |a| format!("{a:#x}")),
                );
            }
            if long && windows {
                let num = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
                cells.push(h.access.map_or_else(
                    || "-".to_owned(),
                    |a| {
                        json::AccessJson::new(a, h.object_type.as_str())
                            .compact
                            .join("|")
                    },
                ));
                cells.push(details.and_then(json::object_address).unwrap_or_default());
                cells.push(num(details.and_then(|d| d.handle_count)));
                cells.push(num(details.and_then(|d| d.pointer_count)));
                cells.push(num(details.and_then(|d| d.paged_quota)));
                cells.push(num(details.and_then(|d| d.nonpaged_quota)));
                let attributes = details.map(|d| d.attributes.join(",")).unwrap_or_default();
                cells.push(if attributes.is_empty() {
                    "-".to_owned()
                } else {
                    attributes
                });
            }
            if !windows && (long || flags) {
                cells.push(h.flags.map_or_else(
                    || "-".to_owned(),
                    |f| {
                        let names = pipescope_access::fd_flag_names(f);
                        if names.is_empty() {
                            format!("{f:#o}")
                        } else {
                            names.join("|")
                        }
                    },
                ));
            }
            if !windows && long {
                let num = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
                cells.push(num(details.and_then(|d| d.pos)));
                cells.push(num(details.and_then(|d| d.mnt_id)));
                cells.push(num(details.and_then(|d| d.ino).or(match h.object {
                    Some(ObjectId::Inode { ino, .. }) => Some(ino),
                    _ => None,
                })));
            }
            cells.push(display_name(h));
            table.row(cells, paint_for(h));
            if let Some(d) = details {
                for r in &d.shared_with {
                    table.note(format!("shared with pid {} handle {}", r.pid, r.handle));
                }
                for (k, v) in &d.extra {
                    table.note(format!("{}: {}", out::escape_str(k), out::escape_str(v)));
                }
            }
        }
    }
    table.write(w, out::color_stdout())
}

fn summary<W: Write>(w: &mut W, sink: &mut Sink, filter: &Filter, as_json: bool) -> io::Result<()> {
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_process = Vec::new();
    let mut total = 0;
    while let Some(p) = sink.next(filter) {
        let mut n = 0;
        for h in filter.handles(&p) {
            match by_type.get_mut(h.object_type.as_str()) {
                Some(count) => *count += 1,
                None => {
                    by_type.insert(h.object_type.as_str().to_owned(), 1);
                }
            }
            n += 1;
        }
        total += n;
        by_process.push((p.pid, p.name, n));
    }
    let mut types: Vec<json::TypeCount<'_>> = by_type
        .iter()
        .map(|(t, &count)| json::TypeCount {
            object_type: t,
            count,
        })
        .collect();
    types.sort_by(|a, b| b.count.cmp(&a.count).then(a.object_type.cmp(b.object_type)));
    let s = json::SummaryJson {
        total_handles: total,
        total_processes: by_process.len(),
        by_type: types,
        by_process: by_process
            .iter()
            .map(|(pid, name, count)| json::ProcessCount {
                pid: *pid,
                name,
                count: *count,
            })
            .collect(),
        errors: sink.errors.iter().map(ErrorJson::new).collect(),
        vanished: sink.scan.vanished(),
    };
    if as_json {
        serde_json::to_writer(&mut *w, &s).map_err(io::Error::from)?;
        w.write_all(b"\n")?;
        return Ok(());
    }
    let color = out::color_stdout();
    let mut t = Table::new(&[("TYPE", Align::Left), ("HANDLES", Align::Right)]);
    for c in &s.by_type {
        t.row(
            vec![
                out::escape_str(c.object_type).into_owned(),
                c.count.to_string(),
            ],
            None,
        );
    }
    t.write(w, color)?;
    writeln!(w)?;
    let mut t = Table::new(&[
        ("PID", Align::Right),
        ("PROCESS", Align::Left),
        ("HANDLES", Align::Right),
    ]);
    for c in &s.by_process {
        t.row(
            vec![
                c.pid.to_string(),
                out::escape_str(c.name).into_owned(),
                c.count.to_string(),
            ],
            None,
        );
    }
    t.write(w, color)?;
    writeln!(w)?;
    writeln!(
        w,
        "total: {} handles in {} processes; {} could not be inspected; {} exited during the scan",
        s.total_handles,
        s.total_processes,
        s.errors.len(),
        s.vanished
    )?;
    Ok(())
}

/// One line on stderr naming the processes that could not be inspected.
fn note_errors(errors: &[ScanError]) {
    if errors.is_empty() {
        return;
    }
    const SHOWN: usize = 5;
    let mut parts: Vec<String> = errors
        .iter()
        .take(SHOWN)
        .map(|e| {
            let name = e
                .process
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            format!("pid {}{name}: {}", e.pid, e.message)
        })
        .collect();
    if errors.len() > SHOWN {
        parts.push(format!("and {} more (see --json)", errors.len() - SHOWN));
    }
    let n = errors.len();
    crate::say(&format!(
        "could not inspect {n} process{}: {}",
        if n == 1 { "" } else { "es" },
        parts.join("; ")
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipescope_core::{HandleDetails, Mode, Name, ObjectType, PipeKind};

    fn file(name: &str) -> Handle {
        Handle {
            handle: 0x34,
            object_type: ObjectType::new("File"),
            mode: Mode::Read,
            name: Name::from(name),
            object: None,
            pipe: None,
            flags: None,
            access: Some(0x120189),
            details: None,
        }
    }

    #[test]
    fn names_say_why_they_are_missing() {
        let named = file(r"\Device\NamedPipe\Win32.Pipes.00000032.00000001");
        assert_eq!(
            display_name(&named),
            r"\Device\NamedPipe\Win32.Pipes.00000032.00000001"
        );
        let mut unnamed_pipe = file("");
        unnamed_pipe.pipe = Some(PipeKind::Anonymous);
        assert_eq!(
            display_name(&unnamed_pipe),
            r"Unnamed file: \Device\NamedPipe"
        );
        assert_eq!(display_name(&file("")), "Unnamed file");
        let mut stuck = unnamed_pipe.clone();
        stuck.details = Some(Box::new(HandleDetails {
            name_unavailable: Some("name query did not answer within 1 s".into()),
            ..HandleDetails::default()
        }));
        assert_eq!(
            display_name(&stuck),
            "<name unavailable: name query did not answer within 1 s>"
        );
    }
}
