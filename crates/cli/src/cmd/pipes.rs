//! `pipescope pipes`: every pipe on the machine with both ends, what each holder is doing
//! with its end, how full each pipe is, and what is wrong; `--why PID:FD` explains what
//! one end waits for. The reasoning is the library's (`graph`, `diagnose`, `why`); this
//! module renders it.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use pipescope_core::activity::{Activity, PipeFill, ProcessState};
use pipescope_core::diagnose::{self, LiveState, ObserveOptions};
use pipescope_core::graph::{GraphOptions, Pipe, PipeEnd, PipeGraph, handle_label};
use pipescope_core::waitfor::{Diagnosis, WaitOn};
use pipescope_core::why::{self, Need, Origin, Side, Why};
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
    /// What does this end wait for? For a read end: every process holding a write end
    /// (its state, parents, how it got the end) and what end-of-file needs; for a write
    /// end, the readers. Handles are decimal, or hex with 0x.
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
        let live = diagnose::observe(&graph, &ObserveOptions::default());
        let why = why::explain(&graph, &live, pid, fd)
            .map_err(|e| anyhow::anyhow!("--why {pid}:{fd}: {e}"))?;
        return why_run(&graph, &live, &why, &args, color, &mut out);
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
    let in_scope: Vec<usize> = (0..graph.pipes.len())
        .filter(|&i| wanted(&graph.pipes[i]))
        .collect();
    let shown: Vec<usize> = in_scope
        .iter()
        .copied()
        .filter(|&i| args.all || !graph.pipes[i].is_self_pipe())
        .collect();
    let folded = in_scope.len() - shown.len();
    // Self-pipes join no two processes: look at them only when they are shown.
    let live = diagnose::observe(
        &graph,
        &ObserveOptions {
            pipes: args.all.then(|| (0..graph.pipes.len()).collect()),
            ..ObserveOptions::default()
        },
    );
    // The diagnoses concerning a pipe shown, each once.
    let diagnoses: Vec<&Diagnosis> = live
        .findings
        .iter()
        .filter(|d| shown.iter().any(|&i| d.concerns(i)))
        .collect();

    if args.json {
        let doc = json::PipesOutput {
            pipes: shown.iter().map(|&i| pipe_json(&graph, &live, i)).collect(),
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
            diagnoses: diagnoses
                .iter()
                .map(|d| diagnosis_json(&graph, &live, d))
                .collect(),
            looks: live.looks,
        };
        serde_json::to_writer(&mut out, &doc).map_err(io::Error::from)?;
        writeln!(out)?;
    } else if args.dot || args.mermaid {
        let pipes: Vec<&Pipe> = shown.iter().map(|&i| &graph.pipes[i]).collect();
        if args.dot {
            diagram::dot(&graph, &pipes, &diagnoses, &mut out)?;
        } else {
            diagram::mermaid(&graph, &pipes, &diagnoses, &mut out)?;
        }
    } else {
        table(
            &graph,
            &live,
            &shown,
            diagnoses.len(),
            folded,
            color,
            &mut out,
        )?;
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

fn activity_json(state: Option<&ProcessState>) -> json::ActivityJson {
    let unknown = Activity::Unknown;
    let activity = state.map_or(&unknown, |s| &s.activity);
    let (handle, child, reason) = match activity {
        Activity::Reading { handle } | Activity::Writing { handle } => (*handle, None, None),
        Activity::WaitingForChild { child } => (None, *child, None),
        Activity::Sleeping { reason } => (None, None, reason.clone()),
        _ => (None, None, None),
    };
    json::ActivityJson {
        state: activity.word(),
        handle,
        child,
        syscall: state.and_then(|s| s.syscall),
        reason,
        orphaned: state.is_some_and(|s| s.orphaned),
    }
}

fn end_json(g: &PipeGraph<'_>, live: &LiveState, e: &PipeEnd) -> json::EndJson {
    let state = live.processes.get(&e.pid);
    json::EndJson {
        pid: e.pid,
        process: g.process_name(e.pid).to_string(),
        handle: e.handle,
        mode: e.mode.as_str(),
        description: e.description,
        state: state.map(|_| live.end_state(e).as_str()),
        activity: state.map(|s| activity_json(Some(s))),
    }
}

fn fill_parts(fill: Option<&PipeFill>) -> (Option<u64>, Option<u64>, Option<String>) {
    match fill {
        Some(f) => (
            f.fill.as_ref().ok().copied(),
            f.capacity,
            f.fill.as_ref().err().map(|e| e.to_string()),
        ),
        None => (None, None, None),
    }
}

fn pipe_json(g: &PipeGraph<'_>, live: &LiveState, index: usize) -> json::PipeJson {
    let p = &g.pipes[index];
    let (fill, capacity, missing) = fill_parts(live.fill(index));
    let mut findings: Vec<json::FindingJson> = p
        .findings
        .iter()
        .map(|f| json::FindingJson {
            kind: f.kind.as_str(),
            pid: f.pid,
            handle: f.handle,
            message: f.message.clone(),
        })
        .collect();
    // The wait-for graph's findings, in short: the process blocked on this pipe.
    findings.extend(live.findings_for(index).map(|d| {
        let here = d
            .waits
            .iter()
            .chain(&d.behind)
            .find(|w| w.on.pipe() == Some(index))
            .or(d.waits.first());
        let handle = here.and_then(|w| match w.on {
            WaitOn::Read { handle, .. } | WaitOn::Write { handle, .. } => Some(handle),
            WaitOn::Child { .. } => None,
        });
        json::FindingJson {
            kind: d.kind.as_str(),
            pid: here.map(|w| w.pid),
            handle,
            message: d.message.clone(),
        }
    }));
    json::PipeJson {
        id: p.id(),
        inode: p.inode(),
        kind: p.kind.as_str(),
        path: (p.kind != PipeKind::Anonymous).then(|| p.name.to_string_lossy().into_owned()),
        path_b64: (p.kind != PipeKind::Anonymous
            && std::str::from_utf8(p.name.as_bytes()).is_err())
        .then(|| crate::out::base64(p.name.as_bytes())),
        self_pipe: p.is_self_pipe(),
        readers: p.readers.iter().map(|e| end_json(g, live, e)).collect(),
        writers: p.writers.iter().map(|e| end_json(g, live, e)).collect(),
        unknown: p.unknown.iter().map(|e| end_json(g, live, e)).collect(),
        fill,
        capacity,
        missing,
        findings,
    }
}

fn diagnosis_json(g: &PipeGraph<'_>, live: &LiveState, d: &Diagnosis) -> json::DiagnosisJson {
    let wait = |w: &pipescope_core::waitfor::Wait| {
        let (on, handle, pipe, child) = match w.on {
            WaitOn::Read { handle, pipe } => ("read", Some(handle), Some(pipe), None),
            WaitOn::Write { handle, pipe } => ("write", Some(handle), Some(pipe), None),
            WaitOn::Child { child } => ("child", None, None, Some(child)),
        };
        json::WaitJson {
            pid: w.pid,
            process: g.process_name(w.pid).to_string(),
            on,
            handle,
            pipe: pipe.map(|i| g.pipes[i].id()),
            child,
            waits_for: w.waits_for.clone(),
        }
    };
    json::DiagnosisJson {
        kind: d.kind.as_str(),
        waits: d.waits.iter().map(wait).collect(),
        behind: d.behind.iter().map(wait).collect(),
        holders: d
            .holders
            .iter()
            .map(|h| json::DiagnosisHolderJson {
                pid: h.pid,
                process: g.process_name(h.pid).to_string(),
                handles: h.handles.clone(),
                activity: activity_json(live.processes.get(&h.pid)),
            })
            .collect(),
        pipes: d
            .pipes
            .iter()
            .map(|p| json::PipeFillJson {
                id: p.id.clone(),
                fill: p.fill,
                capacity: p.capacity,
            })
            .collect(),
        message: d.message.clone(),
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

const RED: &str = crate::out::Paint::Red.sgr();
const BOLD: &str = crate::out::Paint::Bold.sgr();
const RESET: &str = crate::out::RESET;

fn end_text(g: &PipeGraph<'_>, live: &LiveState, e: &PipeEnd) -> String {
    let shared = e.description.map(|d| format!(", ={d}")).unwrap_or_default();
    let state = if live.processes.contains_key(&e.pid) {
        format!(", {}", live.end_state(e))
    } else {
        String::new()
    };
    format!(
        "{} {} ({}, {}{shared}{state})",
        e.pid,
        escape(g.process_name(e.pid)),
        handle_label(e.handle),
        e.mode
    )
}

fn ends_text(g: &PipeGraph<'_>, live: &LiveState, ends: &[PipeEnd], none: &str) -> String {
    if ends.is_empty() {
        return none.to_string();
    }
    ends.iter()
        .map(|e| end_text(g, live, e))
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

/// A byte count in short: `512`, `4K`, `64K`, `1M` (binary units, rounded down).
fn size(n: u64) -> String {
    match n {
        0..1024 => n.to_string(),
        1024..1_048_576 => format!("{}K", n / 1024),
        _ => format!("{}M", n / 1_048_576),
    }
}

/// `[0/64K]`, `[?/64K]`, or nothing when the pipe was not looked at.
fn fill_label(fill: Option<&PipeFill>) -> String {
    match fill {
        None => String::new(),
        Some(f) => format!(
            " [{}/{}]",
            f.fill.as_ref().map_or("?".to_string(), |&n| size(n)),
            f.capacity.map_or("?".to_string(), size)
        ),
    }
}

fn table(
    g: &PipeGraph<'_>,
    live: &LiveState,
    pipes: &[usize],
    diagnoses: usize,
    folded: usize,
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let (red, bold, reset) = if color {
        (RED, BOLD, RESET)
    } else {
        ("", "", "")
    };
    let mut findings = diagnoses;
    let mut shared = false;
    for &i in pipes {
        let p = &g.pipes[i];
        // Read-write ends show once, on the writing side.
        let readers: Vec<PipeEnd> = p
            .readers
            .iter()
            .filter(|e| !e.mode.writes())
            .cloned()
            .collect();
        let title = pipe_title(p);
        let stuck: Vec<&Diagnosis> = live.findings_for(i).collect();
        let mark = if p.findings.is_empty() && stuck.is_empty() {
            ""
        } else {
            red
        };
        writeln!(
            out,
            "{mark}{bold}{title}{reset}{}  {} ──▶ {}",
            fill_label(live.fill(i)),
            ends_text(g, live, &p.writers, "(no writer)"),
            ends_text(
                g,
                live,
                &readers,
                if p.readers.is_empty() {
                    "(no reader)"
                } else {
                    "(the read-write ends read too)"
                }
            ),
        )?;
        if !p.unknown.is_empty() {
            writeln!(
                out,
                "    mode unknown: {}",
                ends_text(g, live, &p.unknown, "")
            )?;
        }
        for f in &p.findings {
            findings += 1;
            writeln!(out, "    {red}{}{reset}: {}", f.kind, escape(&f.message))?;
        }
        for d in stuck {
            // A finding about several pipes is told in full once, under the first shown.
            let first = pipes.iter().copied().find(|&j| d.concerns(j));
            match first.filter(|&j| j != i) {
                None => writeln!(out, "    {red}{}{reset}: {}", d.kind, escape(&d.message))?,
                Some(j) => writeln!(
                    out,
                    "    {red}{}{reset}: the same as under {} above",
                    d.kind,
                    pipe_title(&g.pipes[j])
                )?,
            }
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

fn origin_json(o: &Origin) -> json::OriginJson {
    let (kind, other) = match o {
        Origin::Inherited { from, handle } => ("inherited", Some((from, *handle))),
        Origin::Shares { with, handle } => ("shares", Some((with, *handle))),
        Origin::Alone => ("alone", None),
        Origin::Unknown => ("unknown", None),
    };
    json::OriginJson {
        kind,
        pid: other.map(|(p, _)| p.pid),
        process: other.map(|(p, _)| p.name.clone()),
        handle: other.map(|(_, h)| h),
    }
}

fn why_run(
    g: &PipeGraph<'_>,
    live: &LiveState,
    why: &Why,
    args: &Args,
    color: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let now = now_ms();
    let pipe = &g.pipes[why.pipe];
    if args.json {
        let holders = why
            .others
            .iter()
            .map(|o| json::HolderJson {
                pid: o.process.pid,
                process: o.process.name.clone(),
                handle: o.handles[0].0,
                handles: o.handles.iter().map(|h| h.0).collect(),
                mode: o.handles[0].1.as_str(),
                state: o.state.as_str(),
                activity: activity_json(live.processes.get(&o.process.pid)),
                origin: origin_json(&o.origin),
                shared_with: o
                    .shared_with
                    .iter()
                    .map(|r| json::HandleRefJson {
                        pid: r.pid,
                        handle: r.handle,
                    })
                    .collect(),
                extra: o.extra_writer,
                parents: o
                    .ancestry
                    .iter()
                    .map(|p| json::ProcessRefJson {
                        pid: p.pid,
                        process: p.name.clone(),
                    })
                    .collect(),
                started_ms: o.started_ms,
                running_s: o.started_ms.map(|s| now.saturating_sub(s) / 1000),
            })
            .collect();
        let (kind, list) = match &why.need {
            Need::EndOfFile { holders } => ("end-of-file", holders.as_slice()),
            Need::Drained => ("drained", &[][..]),
            Need::Room { readers } => ("room", readers.as_slice()),
            Need::Broken => ("broken", &[][..]),
        };
        let doc = json::WhyOutput {
            end: end_json(g, live, &why.end),
            side: match why.side {
                Side::Read => "read",
                Side::Write => "write",
            },
            pipe: pipe_json(g, live, why.pipe),
            holders,
            need: json::NeedJson {
                kind,
                processes: list
                    .iter()
                    .map(|(p, handles)| json::NeedProcessJson {
                        pid: p.pid,
                        process: p.name.clone(),
                        handles: handles.clone(),
                    })
                    .collect(),
            },
            diagnoses: why
                .diagnoses
                .iter()
                .map(|d| diagnosis_json(g, live, d))
                .collect(),
            in_flight: in_flight_json(g),
            errors: errors_json(g.snapshot()),
            partial_view: why.partial_view,
            message: why.message.clone(),
        };
        serde_json::to_writer(&mut *out, &doc).map_err(io::Error::from)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    let (red, reset) = if color { (RED, RESET) } else { ("", "") };
    writeln!(out, "{}", escape(&why.message))?;
    if !why.others.is_empty() {
        writeln!(
            out,
            "{}:",
            match why.side {
                Side::Read => "Write ends",
                Side::Write => "Read ends",
            }
        )?;
    }
    for o in &why.others {
        let (a, b) = if o.extra_writer {
            (red, reset)
        } else {
            ("", "")
        };
        let running = o
            .started_ms
            .map(|s| format!(", running for {}", duration(now.saturating_sub(s) / 1000)))
            .unwrap_or_default();
        let fds: Vec<String> = o
            .handles
            .iter()
            .map(|(h, m)| format!("{} ({m})", handle_label(*h)))
            .collect();
        writeln!(
            out,
            "  {a}{} {} {}{b}: {}{running}{}",
            o.process.pid,
            escape(&o.process.name),
            fds.join(", "),
            escape(&o.activity.describe()),
            if o.extra_writer {
                "  ← extra writer"
            } else {
                ""
            }
        )?;
        let got = match &o.origin {
            Origin::Inherited { from, handle } => Some(format!(
                "inherited: same open file description as {} {} {}",
                from.pid,
                escape(&from.name),
                handle_label(*handle)
            )),
            Origin::Shares { with, handle } => Some(format!(
                "same open file description as {} {} {}",
                with.pid,
                escape(&with.name),
                handle_label(*handle)
            )),
            Origin::Alone if o.orphaned => Some(
                "no other process holds this open file description; its parent has gone \
                 (it was reparented), so it got the end from a process that has since \
                 exited"
                    .to_string(),
            ),
            Origin::Alone => Some("no other process holds this open file description".to_string()),
            Origin::Unknown => None,
        };
        if let Some(got) = got {
            writeln!(out, "      {got}")?;
        }
        let mut chain = vec![format!("{} {}", o.process.pid, escape(&o.process.name))];
        chain.extend(
            o.ancestry
                .iter()
                .map(|p| format!("{} {}", p.pid, escape(&p.name))),
        );
        writeln!(
            out,
            "      parents: {}{}",
            chain.join(" ← "),
            if o.orphaned {
                "  (orphaned: its parent has gone)"
            } else {
                ""
            }
        )?;
    }
    for f in &pipe.findings {
        writeln!(out, "  {red}{}{reset}: {}", f.kind, escape(&f.message))?;
    }
    for d in &why.diagnoses {
        writeln!(out, "  {red}{}{reset}: {}", d.kind, escape(&d.message))?;
    }
    if why.in_flight > 0 && !pipe.has(pipescope_core::graph::FindingKind::HiddenHolder) {
        writeln!(
            out,
            "  note: {} descriptor{} in flight in UNIX sockets could also be ends of this pipe",
            why.in_flight,
            if why.in_flight == 1 { " is" } else { "s are" }
        )?;
    }
    out.flush()?;
    Ok(())
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
