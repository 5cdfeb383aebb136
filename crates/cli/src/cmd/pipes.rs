//! `pipescope pipes`: every pipe on the machine with both ends and what is wrong with it;
//! `--why PID:FD` explains why one read end sees no end-of-file.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use pipescope_core::graph::{GraphOptions, Pipe, PipeEnd, PipeGraph};
use pipescope_core::{Pid, PipeKind, ProcessSelector, ScanOptions, Snapshot};

use crate::diagram;
use crate::json;
use crate::out::escape_str as escape;

/// Arguments of `pipescope pipes`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("format").multiple(false))]
pub struct Args {
    /// Only the pipes this process holds (a pid, or an exact process name), with all of
    /// their other ends wherever they are. Repeat to name several.
    #[arg(short = 'p', long = "process", value_name = "PID|NAME")]
    pub process: Vec<String>,
    /// Also show self-pipes (every end in one process), folded by default.
    #[arg(short, long)]
    pub all: bool,
    /// Why does this read end see no end-of-file? Lists every write-end holder with its
    /// fd, shared open file descriptions, parent chain and running time.
    #[arg(long, value_name = "PID:FD")]
    pub why: Option<String>,
    /// Windows named pipes (`\\.\pipe\NAME`) instead, as PipeList lists them: name,
    /// instances, maximum instances, plus the server and client processes holding each
    /// end, their state and access, and what is wrong (a server no client has joined, a
    /// client whose server has gone).
    #[arg(long, conflicts_with_all = ["why", "dot", "mermaid", "process", "all"])]
    pub named: bool,
    /// Print JSON (the schema is in the README).
    #[arg(long, group = "format")]
    pub json: bool,
    /// Print a Graphviz DOT graph: processes as nodes, pipes as edges, findings in red.
    #[arg(long, group = "format", conflicts_with = "why")]
    pub dot: bool,
    /// Print a Mermaid flowchart: processes as nodes, pipes as edges.
    #[arg(long, group = "format", conflicts_with = "why")]
    pub mermaid: bool,
    /// When to colour findings red: auto (on a terminal, unless NO_COLOR is set or
    /// TERM=dumb), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: Color,
}

/// When to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// On a terminal, unless NO_COLOR is set or TERM=dumb.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Runs `pipescope pipes`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.named {
        let color = match args.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => crate::out::color_stdout(),
        };
        return super::named_pipes::run(None, args.json, color);
    }
    let selectors: Vec<ProcessSelector> = args.process.iter().map(|s| s.as_str().into()).collect();
    let why = args.why.as_deref().map(parse_pid_fd).transpose()?;
    let snapshot = pipescope_core::scan(&ScanOptions {
        pipes_only: true,
        ..ScanOptions::default()
    })
    .context("scanning processes")?;
    let graph = PipeGraph::build(&snapshot, &GraphOptions::default());
    let stdout = io::stdout();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => crate::out::color_stdout(),
    };
    let mut out = io::BufWriter::new(stdout.lock());
    if let Some((pid, fd)) = why {
        return why_run(&graph, pid, fd, &args, color, &mut out);
    }

    let selected: Vec<Pid> = snapshot
        .processes
        .iter()
        .filter(|p| {
            selectors
                .iter()
                .any(|s| s.matches(p.pid, p.name.as_bytes()))
        })
        .map(|p| p.pid)
        .collect();
    if !selectors.is_empty() && selected.is_empty() {
        // Denied is not absent: a selected process the scan could not read says so.
        let denied = snapshot.errors.iter().find(|e| {
            let name = e.process.as_deref().unwrap_or("");
            selectors.iter().any(|s| s.matches(e.pid, name.as_bytes()))
        });
        if let Some(e) = denied {
            let name = e
                .process
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            bail!("cannot inspect pid {}{name}: {}", e.pid, e.message);
        }
        bail!("no process matches {}", args.process.join(", "));
    }
    let wanted = |p: &Pipe| selectors.is_empty() || selected.iter().any(|&pid| p.held_by(pid));
    let in_scope: Vec<&Pipe> = graph.pipes.iter().filter(|p| wanted(p)).collect();
    let shown: Vec<&Pipe> = in_scope
        .iter()
        .copied()
        .filter(|p| args.all || !p.is_self_pipe())
        .collect();
    let folded = in_scope.len() - shown.len();

    if args.json {
        let doc = json::PipesOutput {
            pipes: shown.iter().map(|p| pipe_json(&graph, p)).collect(),
            folded,
            in_flight: in_flight_json(&graph),
            unpaired: graph
                .unpaired
                .iter()
                .filter(|r| selectors.is_empty() || selected.contains(&r.pid))
                .map(|r| json::HandleRefJson {
                    pid: r.pid,
                    handle: r.handle,
                })
                .collect(),
            errors: errors_json(&snapshot),
        };
        serde_json::to_writer(&mut out, &doc).map_err(io::Error::from)?;
        writeln!(out)?;
    } else if args.dot {
        diagram::dot(&graph, &shown, &mut out)?;
    } else if args.mermaid {
        diagram::mermaid(&graph, &shown, &mut out)?;
    } else {
        table(&graph, &shown, folded, color, &mut out)?;
    }
    out.flush()?;
    Ok(())
}

/// Parses `PID:FD`.
fn parse_pid_fd(s: &str) -> anyhow::Result<(Pid, u64)> {
    let parsed = s
        .split_once(':')
        .and_then(|(p, f)| Some((p.trim().parse().ok()?, handle_number(f.trim())?)));
    parsed.with_context(|| format!("--why takes PID:FD (for example 4242:0), not {s:?}"))
}

/// A handle number in decimal, or in hex with `0x` as Windows handles are written.
fn handle_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

// --- JSON ---------------------------------------------------------------------------------

fn end_json(g: &PipeGraph<'_>, e: &PipeEnd) -> json::EndJson {
    json::EndJson {
        pid: e.pid,
        process: g.process_name(e.pid).to_string(),
        handle: e.handle,
        mode: e.mode.as_str(),
        description: e.description,
    }
}

fn pipe_json(g: &PipeGraph<'_>, p: &Pipe) -> json::PipeJson {
    json::PipeJson {
        id: p.id(),
        inode: p.inode(),
        kind: p.kind.as_str(),
        path: (p.kind != PipeKind::Anonymous).then(|| p.name.to_string_lossy().into_owned()),
        path_b64: (p.kind != PipeKind::Anonymous
            && std::str::from_utf8(p.name.as_bytes()).is_err())
        .then(|| crate::out::base64(p.name.as_bytes())),
        self_pipe: p.is_self_pipe(),
        readers: p.readers.iter().map(|e| end_json(g, e)).collect(),
        writers: p.writers.iter().map(|e| end_json(g, e)).collect(),
        unknown: p.unknown.iter().map(|e| end_json(g, e)).collect(),
        findings: p
            .findings
            .iter()
            .map(|f| json::FindingJson {
                kind: f.kind.as_str(),
                pid: f.pid,
                handle: f.handle,
                message: f.message.clone(),
            })
            .collect(),
    }
}

fn in_flight_json(g: &PipeGraph<'_>) -> Vec<json::InFlightJson> {
    g.in_flight
        .iter()
        .map(|f| json::InFlightJson {
            pid: f.pid,
            process: g.process_name(f.pid).to_string(),
            handle: f.handle,
            count: f.count,
        })
        .collect()
}

fn errors_json(s: &Snapshot) -> Vec<json::ErrorJson<'_>> {
    s.errors.iter().map(json::ErrorJson::new).collect()
}

// --- table --------------------------------------------------------------------------------

const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn end_text(g: &PipeGraph<'_>, e: &PipeEnd) -> String {
    let shared = e.description.map(|d| format!(", ={d}")).unwrap_or_default();
    format!(
        "{} {} ({}, {}{shared})",
        e.pid,
        escape(g.process_name(e.pid)),
        pipescope_core::graph::handle_label(e.handle),
        e.mode
    )
}

fn ends_text(g: &PipeGraph<'_>, ends: &[PipeEnd], none: &str) -> String {
    if ends.is_empty() {
        return none.to_string();
    }
    ends.iter()
        .map(|e| end_text(g, e))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pipe's name for people: `pipe:[8844]`, or `fifo /path` for a FIFO.
fn pipe_title(p: &Pipe) -> String {
    match p.kind {
        PipeKind::Anonymous => p.id(),
        _ => format!(
            "{} {}",
            p.kind.as_str(),
            crate::out::escape(p.name.as_bytes())
        ),
    }
}

fn table(
    g: &PipeGraph<'_>,
    pipes: &[&Pipe],
    folded: usize,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let (red, bold, reset) = if color {
        (RED, BOLD, RESET)
    } else {
        ("", "", "")
    };
    let mut findings = 0;
    let mut shared = false;
    for p in pipes {
        // Read-write ends show once, on the writing side.
        let readers: Vec<PipeEnd> = p
            .readers
            .iter()
            .filter(|e| !e.mode.writes())
            .cloned()
            .collect();
        let title = pipe_title(p);
        let mark = if p.findings.is_empty() { "" } else { red };
        writeln!(
            out,
            "{mark}{bold}{title}{reset}  {} ──▶ {}",
            ends_text(g, &p.writers, "(no writer)"),
            ends_text(
                g,
                &readers,
                if p.readers.is_empty() {
                    "(no reader)"
                } else {
                    "(the read-write ends read too)"
                }
            ),
        )?;
        if !p.unknown.is_empty() {
            writeln!(out, "    mode unknown: {}", ends_text(g, &p.unknown, ""))?;
        }
        for f in &p.findings {
            findings += 1;
            writeln!(out, "    {red}{}{reset}: {}", f.kind, escape(&f.message))?;
        }
        shared |= p.ends().any(|e| e.description.is_some());
    }
    let mut summary = format!(
        "{} pipe{}, {findings} finding{}",
        pipes.len(),
        if pipes.len() == 1 { "" } else { "s" },
        if findings == 1 { "" } else { "s" }
    );
    if folded > 0 {
        summary.push_str(&format!(
            "; {folded} self-pipe{} folded (--all shows them)",
            if folded == 1 { "" } else { "s" }
        ));
    }
    let errors = &g.snapshot().errors;
    if !errors.is_empty() {
        summary.push_str(&format!(
            "; {} process{} could not be inspected",
            errors.len(),
            if errors.len() == 1 { "" } else { "es" }
        ));
    }
    let in_flight: u64 = g.in_flight.iter().map(|f| f.count).sum();
    if in_flight > 0 {
        let sockets: Vec<String> = g
            .in_flight
            .iter()
            .map(|f| {
                format!(
                    "{} {} fd {}",
                    f.pid,
                    escape(g.process_name(f.pid)),
                    f.handle
                )
            })
            .collect();
        summary.push_str(&format!(
            "; {in_flight} descriptor{} in flight in UNIX sockets ({})",
            if in_flight == 1 { "" } else { "s" },
            sockets.join(", ")
        ));
    }
    writeln!(out, "{summary}")?;
    if !g.unpaired.is_empty() {
        writeln!(
            out,
            "{} pipe end{} not paired: unnamed pipes (Windows 10 and later) give no way to \
             tell which ends belong together; `pipescope handles` lists them",
            g.unpaired.len(),
            if g.unpaired.len() == 1 { "" } else { "s" }
        )?;
    }
    if shared {
        writeln!(
            out,
            "(=N: ends with the same N share one open file description, made by fork or dup)"
        )?;
    }
    Ok(())
}

// --- --why --------------------------------------------------------------------------------

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

fn why_run(
    g: &PipeGraph<'_>,
    pid: Pid,
    fd: u64,
    args: &Args,
    color: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let Some(pipe) = g.pipe_of(pid, fd) else {
        if let Some(e) = g.snapshot().errors.iter().find(|e| e.pid == pid) {
            bail!(
                "--why {pid}:{fd}: process {pid} could not be inspected: {}",
                e.message
            );
        }
        if g.process(pid).is_none() {
            bail!("--why {pid}:{fd}: no process {pid}");
        }
        bail!("--why {pid}:{fd}: fd {fd} of process {pid} is not an end of a pipe");
    };
    let Some(end) = pipe.readers.iter().find(|e| e.pid == pid && e.handle == fd) else {
        bail!(
            "--why {pid}:{fd}: fd {fd} of process {pid} is a write end of {}; --why takes a \
             read end",
            pipe.id()
        );
    };
    let now = now_ms();
    let holders: Vec<json::HolderJson> = pipe
        .writers
        .iter()
        .map(|w| {
            let started = g.process(w.pid).and_then(|p| p.start_time_ms);
            json::HolderJson {
                pid: w.pid,
                process: g.process_name(w.pid).to_string(),
                handle: w.handle,
                mode: w.mode.as_str(),
                shared_with: shared_refs(pipe, w),
                extra: pipe.findings.iter().any(|f| {
                    f.kind == pipescope_core::graph::FindingKind::ExtraWriter
                        && f.pid == Some(w.pid)
                        && f.handle == Some(w.handle)
                }),
                parents: g
                    .ancestors(w.pid)
                    .iter()
                    .map(|p| json::ProcessRefJson {
                        pid: p.pid,
                        process: p.name.clone(),
                    })
                    .collect(),
                started_ms: started,
                running_s: started.map(|s| now.saturating_sub(s) / 1000),
            }
        })
        .collect();
    if args.json {
        let doc = json::WhyOutput {
            end: end_json(g, end),
            pipe: pipe_json(g, pipe),
            holders,
            in_flight: in_flight_json(g),
            errors: errors_json(g.snapshot()),
        };
        serde_json::to_writer(&mut *out, &doc).map_err(io::Error::from)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    let (red, reset) = if color { (RED, RESET) } else { ("", "") };
    let who = format!(
        "{pid} {} ({})",
        escape(g.process_name(pid)),
        pipescope_core::graph::handle_label(fd)
    );
    let title = pipe_title(pipe);
    match holders.len() {
        0 => writeln!(
            out,
            "{who} reads {title}. No process holds a write end, so it sees end-of-file \
             once the pipe is drained."
        )?,
        n => writeln!(
            out,
            "{who} reads {title}. It sees end-of-file only after every write end is \
             closed; {n} {} open:",
            if n == 1 { "is" } else { "are" }
        )?,
    }
    for h in &holders {
        let (a, b) = if h.extra { (red, reset) } else { ("", "") };
        let running = h
            .running_s
            .map(|s| format!(", running for {}", duration(s)))
            .unwrap_or_default();
        writeln!(
            out,
            "  {a}{} {} {} ({}){b}{running}{}",
            h.pid,
            escape(&h.process),
            pipescope_core::graph::handle_label(h.handle),
            h.mode,
            if h.extra { "  ← extra writer" } else { "" }
        )?;
        if !h.shared_with.is_empty() {
            let list: Vec<String> = h
                .shared_with
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {}",
                        r.pid,
                        escape(g.process_name(r.pid)),
                        pipescope_core::graph::handle_label(r.handle)
                    )
                })
                .collect();
            writeln!(
                out,
                "      same open file description as {}",
                list.join(", ")
            )?;
        }
        let mut chain = vec![format!("{} {}", h.pid, escape(&h.process))];
        chain.extend(
            h.parents
                .iter()
                .map(|p| format!("{} {}", p.pid, escape(&p.process))),
        );
        writeln!(out, "      parents: {}", chain.join(" ← "))?;
    }
    for f in &pipe.findings {
        writeln!(out, "  {red}{}{reset}: {}", f.kind, escape(&f.message))?;
    }
    if !g.in_flight.is_empty() && !pipe.has(pipescope_core::graph::FindingKind::HiddenHolder) {
        let n: u64 = g.in_flight.iter().map(|f| f.count).sum();
        writeln!(
            out,
            "  note: {n} descriptor{} in flight in UNIX sockets could also be write ends of \
             this pipe",
            if n == 1 { " is" } else { "s are" }
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The other ends of `pipe` (and handles elsewhere) sharing `e`'s open file description.
fn shared_refs(pipe: &Pipe, e: &PipeEnd) -> Vec<json::HandleRefJson> {
    let mut refs: Vec<(Pid, u64)> = e.shared_with.iter().map(|r| (r.pid, r.handle)).collect();
    if let Some(d) = e.description {
        refs.extend(
            pipe.ends()
                .filter(|o| o.description == Some(d) && (o.pid, o.handle) != (e.pid, e.handle))
                .map(|o| (o.pid, o.handle)),
        );
    }
    refs.sort_unstable();
    refs.dedup();
    refs.into_iter()
        .map(|(pid, handle)| json::HandleRefJson { pid, handle })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_fd_parses_and_rejects() {
        assert_eq!(parse_pid_fd("42:0").unwrap(), (42, 0));
        assert!(parse_pid_fd("42").is_err());
        assert!(parse_pid_fd("x:1").is_err());
        assert!(parse_pid_fd("1:-1").is_err());
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(192), "3m12s");
        assert_eq!(duration(7300), "2h01m");
        assert_eq!(duration(200_000), "2d07h");
    }
}
