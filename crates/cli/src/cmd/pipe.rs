//! `pipescope pipe`: the seed article's first program. Creates an anonymous pipe in this
//! process and shows both of its handles: value, which end, object type, name, object
//! identity, access (open flags decoded, mode) and the pipe's capacity. `--inherit`
//! starts a child that inherits the read end as its stdin (as `dir | findstr` does) and
//! shows the same pipe as seen from both processes.

use std::io::{self, BufWriter, Read, Write};
use std::process::{Child, Command, Stdio};

use anyhow::Context as _;
use pipescope_core::{Handle, ObjectId, PipeDemo, ProcessSelector, ScanOptions, Snapshot};

use super::handles::display_name;
use crate::json::{self, AccessJson, HandleJson, PipeEndJson, PipeReport, SeenFrom};
use crate::out::{self, Align, Paint, Table};

/// Arguments of `pipescope pipe`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start a child that inherits the read end as its stdin, and show the pipe from both
    /// processes.
    #[arg(long)]
    pub inherit: bool,
    /// JSON on stdout (the schema is in the README).
    #[arg(long)]
    pub json: bool,
    /// The child's part in `--inherit`: hold stdin open until it reaches end-of-file.
    #[arg(long, hide = true)]
    pub hold: bool,
}

/// Runs `pipescope pipe`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.hold {
        return hold();
    }
    let mut demo = pipescope_core::create_pipe().context("creating a pipe")?;
    let mut child = None;
    let mut seen = None;
    if args.inherit {
        let c = spawn_child(&mut demo)?;
        seen = Some(scan_both(&demo, c.id()));
        child = Some(c);
    }
    let result = print(&demo, seen.as_ref(), args.json);
    // Closing the write end gives the child end-of-file: it exits.
    drop(demo.write_handle.take());
    if let Some(mut c) = child {
        c.wait().context("waiting for the child")?;
    }
    result
}

/// The child: reads (and drops) its stdin until end-of-file.
fn hold() -> anyhow::Result<()> {
    let mut sink = [0u8; 512];
    let mut stdin = io::stdin().lock();
    while stdin.read(&mut sink)? > 0 {}
    Ok(())
}

/// Starts `pipescope pipe --hold` with the read end as its stdin; this process keeps only
/// the write end, as a shell does after starting the reader of `a | b`.
fn spawn_child(demo: &mut PipeDemo) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("finding our own executable")?;
    let read = demo.read_handle.take().context("the read end is gone")?;
    Command::new(exe)
        .args(["pipe", "--hold"])
        .stdin(Stdio::from(read))
        .stdout(Stdio::null())
        .spawn()
        .context("starting the child")
}

/// Both processes' handles on the demo pipe.
fn scan_both(demo: &PipeDemo, child: u32) -> anyhow::Result<Snapshot> {
    let opts = ScanOptions {
        processes: vec![ProcessSelector::Pid(demo.pid), ProcessSelector::Pid(child)],
        long: true,
        pipes_only: true,
        ..ScanOptions::default()
    };
    let mut snap = pipescope_core::scan(&opts).context("scanning the two processes")?;
    for p in &mut snap.processes {
        if demo.read.object.is_some() {
            p.handles.retain(|h| h.object == demo.read.object);
        } else {
            // No identity to match by (an unnamed Windows pipe): our write end by its
            // value, and in the child the read ends it holds.
            let ours = p.pid == demo.pid;
            p.handles.retain(|h| {
                h.pipe.is_some()
                    && if ours {
                        h.handle == demo.write.handle
                    } else {
                        h.mode.reads()
                    }
            });
        }
    }
    Ok(snap)
}

fn end_of(h: &Handle) -> &'static str {
    if h.mode.writes() { "write" } else { "read" }
}

fn print(
    demo: &PipeDemo,
    seen: Option<&anyhow::Result<Snapshot>>,
    as_json: bool,
) -> anyhow::Result<()> {
    let seen = match seen {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => anyhow::bail!("{e:#}"),
        None => None,
    };
    let stdout = io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    if as_json {
        let report = PipeReport {
            pid: demo.pid,
            capacity: demo.capacity,
            ends: [("read", &demo.read), ("write", &demo.write)]
                .into_iter()
                .map(|(end, h)| PipeEndJson {
                    end,
                    handle: HandleJson::new(h),
                })
                .collect(),
            seen_from: seen.map(|s| {
                s.processes
                    .iter()
                    .map(|p| SeenFrom {
                        pid: p.pid,
                        name: &p.name,
                        role: if p.pid == demo.pid {
                            "creator"
                        } else {
                            "child"
                        },
                        handles: p.handles.iter().map(HandleJson::new).collect(),
                    })
                    .collect()
            }),
        };
        serde_json::to_writer(&mut w, &report).map_err(io::Error::from)?;
        writeln!(w)?;
        w.flush()?;
        return Ok(());
    }
    let color = out::color_stdout();
    let identity = match &demo.read.object {
        Some(ObjectId::Inode { ino, .. }) => format!("inode {ino}"),
        Some(ObjectId::Address(a)) => format!("object {a:#x}"),
        // Wine names anonymous pipes; Windows 10 and later do not.
        Some(ObjectId::Name(n)) => format!("named {}", out::escape_str(n)),
        None => "unnamed".to_owned(),
    };
    writeln!(
        w,
        "Created an anonymous pipe in pid {} ({identity}, capacity {}):",
        demo.pid,
        demo.capacity
            .map_or_else(|| "unknown".to_owned(), |c| format!("{c} bytes")),
    )?;
    let mut t = Table::new(&[
        ("HANDLE", Align::Right),
        ("END", Align::Left),
        ("TYPE", Align::Left),
        ("MODE", Align::Left),
        ("ACCESS", Align::Left),
        ("OBJECT", Align::Left),
        ("NAME", Align::Left),
    ]);
    for h in [&demo.read, &demo.write] {
        t.row(end_cells(h), Some(Paint::Cyan));
        for line in properties(h) {
            t.note(line);
        }
    }
    t.write(&mut w, color)?;
    if let Some(snap) = seen {
        writeln!(
            w,
            "\nThe same pipe after a child inherited the read end as its stdin:"
        )?;
        let mut t = Table::new(&[
            ("PID", Align::Right),
            ("PROCESS", Align::Left),
            ("HANDLE", Align::Right),
            ("END", Align::Left),
            ("TYPE", Align::Left),
            ("MODE", Align::Left),
            ("ACCESS", Align::Left),
            ("OBJECT", Align::Left),
            ("NAME", Align::Left),
        ]);
        for p in &snap.processes {
            for h in &p.handles {
                let mut cells = vec![p.pid.to_string(), out::escape_str(&p.name).into_owned()];
                cells.extend(end_cells(h));
                t.row(cells, Some(Paint::Cyan));
                for line in properties(h) {
                    t.note(line);
                }
            }
        }
        t.write(&mut w, color)?;
        for e in &snap.errors {
            writeln!(w, "pid {}: {}", e.pid, out::escape_str(&e.message))?;
        }
    }
    w.flush()?;
    Ok(())
}

fn end_cells(h: &Handle) -> Vec<String> {
    let access = match (h.access, h.flags) {
        // Windows: the granted access, and its compact form for the object's type.
        (Some(a), _) => format!(
            "{a:#x} {}",
            AccessJson::new(a, h.object_type.as_str()).compact.join("|")
        ),
        (None, Some(f)) => pipescope_access::fd_flag_names(f).join("|"),
        (None, None) => "-".to_owned(),
    };
    let object = match (h.access, h.details.as_deref()) {
        // Windows: the file object's address, or "hidden" (never 0x0).
        (Some(_), Some(d)) => json::object_address(d).unwrap_or_default(),
        _ => match h.object {
            Some(ObjectId::Inode { dev, ino }) => format!("inode {ino} dev {dev}"),
            Some(ObjectId::Address(a)) => format!("{a:#x}"),
            Some(ObjectId::Name(ref n)) => out::escape_str(n).into_owned(),
            None => "-".into(),
        },
    };
    vec![
        pipescope_core::handle_value(h.handle),
        format!("{} end", end_of(h)),
        out::escape_str(h.object_type.as_str()).into_owned(),
        h.mode.as_str().to_owned(),
        access,
        object,
        display_name(h),
    ]
}

/// Windows: the Handle Properties lines under an end — references, quota, attributes,
/// the access in words and the pipe's own FilePipeLocalInformation.
fn properties(h: &Handle) -> Vec<String> {
    let (Some(access), Some(d)) = (h.access, h.details.as_deref()) else {
        return Vec::new();
    };
    let num = |v: Option<u32>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
    let attributes = if d.attributes.is_empty() {
        "none".to_owned()
    } else {
        d.attributes.join(", ")
    };
    let mut lines = vec![
        format!(
            "references: handles {}, pointers {}; quota: paged {}, non-paged {}; attributes: {attributes}",
            num(d.handle_count),
            num(d.pointer_count),
            num(d.paged_quota),
            num(d.nonpaged_quota),
        ),
        format!(
            "access: {}",
            AccessJson::new(access, h.object_type.as_str()).summary
        ),
    ];
    if !d.extra.is_empty() {
        let pipe: Vec<String> = d
            .extra
            .iter()
            .map(|(k, v)| format!("{}: {}", out::escape_str(k), out::escape_str(v)))
            .collect();
        lines.push(format!("pipe: {}", pipe.join(", ")));
    }
    lines
}
