//! `pipescope pipes --named`: the machine's named pipes as PipeList lists them (name,
//! instances, maximum instances), with the processes holding each end, each end's state
//! and access, and what is wrong with them.

use std::io::{self, Write};

use pipescope_core::named_pipe::{MaxInstances, NamedPipe, NamedPipeEnd, NamedPipes, PipeSide};

use crate::json;
use crate::out::escape_str as escape;

/// Prints the named pipes whose name contains `filter` (any case), as JSON or a table.
pub fn run(filter: Option<&str>, as_json: bool, color: bool) -> anyhow::Result<()> {
    let all = pipescope_core::named_pipes()?;
    let wanted =
        |p: &NamedPipe| filter.is_none_or(|f| p.name.to_lowercase().contains(&f.to_lowercase()));
    let shown: Vec<&NamedPipe> = all.pipes.iter().filter(|p| wanted(p)).collect();
    let mut out = io::BufWriter::new(io::stdout().lock());
    if as_json {
        let doc = json::NamedPipesOutput {
            pipes: shown.iter().map(|p| pipe_json(p)).collect(),
            listed: all.listed,
            errors: all.errors.iter().map(json::ErrorJson::new).collect(),
        };
        serde_json::to_writer(&mut out, &doc).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        table(&all, &shown, color, &mut out)?;
    }
    out.flush()?;
    Ok(())
}

fn max_text(m: Option<MaxInstances>) -> String {
    match m {
        Some(MaxInstances::Limited(n)) => n.to_string(),
        Some(MaxInstances::Unlimited) => "unlimited".into(),
        None => "?".into(),
    }
}

fn end_json(e: &NamedPipeEnd) -> json::NamedEndJson {
    json::NamedEndJson {
        pid: e.pid,
        process: e.process.clone(),
        handle: e.handle,
        mode: e.mode.as_str(),
        state: e.state.map(|s| s.as_str()),
        access: e.access.map(|a| json::AccessJson::new(a, "File")),
    }
}

fn pipe_json(p: &NamedPipe) -> json::NamedPipeJson {
    let side = |s: Option<PipeSide>| -> Vec<json::NamedEndJson> {
        p.ends
            .iter()
            .filter(|e| e.side == s)
            .map(end_json)
            .collect()
    };
    json::NamedPipeJson {
        name: p.name.clone(),
        path: (!p.name.is_empty()).then(|| format!(r"\\.\pipe\{}", p.name)),
        instances: p.instances,
        max_instances: p.max_instances.map(|m| match m {
            MaxInstances::Limited(n) => n.into(),
            MaxInstances::Unlimited => "unlimited".into(),
        }),
        servers: side(Some(PipeSide::Server)),
        clients: side(Some(PipeSide::Client)),
        unknown: side(None),
        findings: p
            .findings
            .iter()
            .map(|f| json::FindingJson {
                kind: f.kind.as_str(),
                pid: Some(f.pid),
                handle: Some(f.handle),
                message: f.message.clone(),
            })
            .collect(),
    }
}

fn end_text(e: &NamedPipeEnd) -> String {
    let side = e.side.map_or("?", PipeSide::as_str);
    let state = e.state.map_or("?", |s| s.as_str());
    let access = e.access.map(|a| format!(" {a:#x}")).unwrap_or_default();
    format!(
        "{side} {} {} ({}, {}{access}, {state})",
        e.pid,
        escape(&e.process),
        pipescope_core::graph::handle_label(e.handle),
        e.mode
    )
}

fn table(
    all: &NamedPipes,
    shown: &[&NamedPipe],
    color: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let (red, reset) = if color {
        (crate::out::Paint::Red.sgr(), crate::out::RESET)
    } else {
        ("", "")
    };
    let width = shown
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 48);
    writeln!(
        out,
        "{:<width$}  {:>9}  {:>9}  HOLDERS",
        "NAME", "INSTANCES", "MAX"
    )?;
    for p in shown {
        let name = if p.name.is_empty() {
            "(no name left)".to_string()
        } else {
            escape(&p.name).into_owned()
        };
        let first = p.ends.first().map_or_else(|| "-".to_string(), end_text);
        let inst = p.instances.map_or_else(|| "?".into(), |n| n.to_string());
        writeln!(
            out,
            "{name:<width$}  {inst:>9}  {:>9}  {first}",
            max_text(p.max_instances)
        )?;
        for e in p.ends.iter().skip(1) {
            writeln!(out, "{:<width$}  {:>9}  {:>9}  {}", "", "", "", end_text(e))?;
        }
        for f in &p.findings {
            writeln!(out, "{:<width$}  {red}! {}{reset}", "", f.message)?;
        }
    }
    if !all.listed {
        writeln!(
            out,
            "note: this system does not list \\\\.\\pipe\\ (Wine); shown are the pipes held \
             open by scanned processes, with counts from their ends"
        )?;
    }
    if !all.errors.is_empty() {
        writeln!(
            out,
            "note: {} process(es) could not be inspected; their ends are not shown",
            all.errors.len()
        )?;
    }
    Ok(())
}
