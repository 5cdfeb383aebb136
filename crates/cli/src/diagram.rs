//! Diagrams of the pipe graph: Graphviz DOT and Mermaid. Processes are nodes, each pipe is
//! an edge from every writer to every reader labelled with the pipe and both fds; a pipe
//! that lost a side ends at a small node saying so. Findings are drawn in red.

use std::collections::BTreeSet;
use std::io::{self, Write};

use pipescope_core::Pid;
use pipescope_core::graph::{FindingKind, Pipe, PipeEnd, PipeGraph, handle_label};

use crate::out::escape_str as escape;

/// One edge to draw, whatever the syntax.
struct Edge {
    from: String,
    to: String,
    label: String,
    red: bool,
}

/// A node standing for a missing side of a pipe.
struct Stub {
    id: String,
    label: String,
}

/// Processes, edges and stubs of `pipes`, in a stable order.
fn layout(g: &PipeGraph<'_>, pipes: &[&Pipe]) -> (Vec<(Pid, String)>, Vec<Edge>, Vec<Stub>) {
    let mut pids = BTreeSet::new();
    let mut edges = Vec::new();
    let mut stubs = Vec::new();
    let node = |pid: Pid| format!("p{pid}");
    let extra = |p: &Pipe, e: &PipeEnd| {
        p.findings.iter().any(|f| {
            f.kind == FindingKind::ExtraWriter && f.pid == Some(e.pid) && f.handle == Some(e.handle)
        })
    };
    for (i, p) in pipes.iter().enumerate() {
        let id = p.id();
        let title = match p.kind {
            pipescope_core::PipeKind::Anonymous => id.clone(),
            _ => format!("{id} {}", crate::out::escape(p.name.as_bytes())),
        };
        let lost = p.has(FindingKind::NoReader)
            || p.has(FindingKind::NoWriter)
            || p.has(FindingKind::HiddenHolder);
        for e in p.ends() {
            pids.insert(e.pid);
        }
        let readers: Vec<&PipeEnd> = p.readers.iter().collect();
        for w in &p.writers {
            for r in &readers {
                if (w.pid, w.handle) == (r.pid, r.handle) {
                    continue;
                }
                edges.push(Edge {
                    from: node(w.pid),
                    to: node(r.pid),
                    label: format!(
                        "{title}\n{} → {}",
                        handle_label(w.handle),
                        handle_label(r.handle)
                    ),
                    red: extra(p, w),
                });
            }
        }
        let stub_id = format!("s{i}");
        if readers.is_empty() && !p.writers.is_empty() {
            stubs.push(Stub {
                id: stub_id.clone(),
                label: format!("{title}\nno reader"),
            });
            for w in &p.writers {
                edges.push(Edge {
                    from: node(w.pid),
                    to: stub_id.clone(),
                    label: handle_label(w.handle),
                    red: true,
                });
            }
        } else if p.writers.is_empty() && !readers.is_empty() {
            let what = if lost && p.has(FindingKind::HiddenHolder) {
                "no writer seen (hidden holder?)"
            } else {
                "no writer"
            };
            stubs.push(Stub {
                id: stub_id.clone(),
                label: format!("{title}\n{what}"),
            });
            for r in &readers {
                edges.push(Edge {
                    from: stub_id.clone(),
                    to: node(r.pid),
                    label: handle_label(r.handle),
                    red: true,
                });
            }
        }
    }
    let procs = pids
        .into_iter()
        .map(|pid| (pid, format!("{pid} {}", escape(g.process_name(pid)))))
        .collect();
    (procs, edges, stubs)
}

/// A DOT quoted string's contents: `\n` in `s` stays a line break, quotes and other
/// backslashes are escaped.
fn dot_str(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes `pipes` as a Graphviz digraph.
pub fn dot(g: &PipeGraph<'_>, pipes: &[&Pipe], out: &mut impl Write) -> io::Result<()> {
    let (procs, edges, stubs) = layout(g, pipes);
    writeln!(out, "digraph pipes {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [shape=box, fontname=\"monospace\"];")?;
    writeln!(out, "  edge [fontname=\"monospace\", fontsize=10];")?;
    for (pid, label) in &procs {
        writeln!(out, "  p{pid} [label=\"{}\"];", dot_str(label))?;
    }
    for s in &stubs {
        writeln!(
            out,
            "  {} [label=\"{}\", shape=note, color=red, fontcolor=red];",
            s.id,
            dot_str(&s.label)
        )?;
    }
    for e in &edges {
        let red = if e.red {
            ", color=red, fontcolor=red"
        } else {
            ""
        };
        writeln!(
            out,
            "  {} -> {} [label=\"{}\"{red}];",
            e.from,
            e.to,
            dot_str(&e.label)
        )?;
    }
    writeln!(out, "}}")
}

/// A Mermaid quoted label: quotes and markup characters as entity codes, line breaks as
/// `<br/>`.
fn mermaid_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out
}

/// Writes `pipes` as a Mermaid flowchart.
pub fn mermaid(g: &PipeGraph<'_>, pipes: &[&Pipe], out: &mut impl Write) -> io::Result<()> {
    let (procs, edges, stubs) = layout(g, pipes);
    writeln!(out, "flowchart LR")?;
    writeln!(out, "  classDef finding stroke:red,color:red")?;
    for (pid, label) in &procs {
        writeln!(out, "  p{pid}[\"{}\"]", mermaid_str(label))?;
    }
    for s in &stubs {
        writeln!(out, "  {}([\"{}\"]):::finding", s.id, mermaid_str(&s.label))?;
    }
    let mut red = Vec::new();
    for (i, e) in edges.iter().enumerate() {
        writeln!(
            out,
            "  {} -->|\"{}\"| {}",
            e.from,
            mermaid_str(&e.label),
            e.to
        )?;
        if e.red {
            red.push(i.to_string());
        }
    }
    if !red.is_empty() {
        writeln!(out, "  linkStyle {} stroke:red,color:red", red.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipescope_core::graph::GraphOptions;
    use pipescope_core::{Handle, Mode, Name, ObjectId, ObjectType, PipeKind, Process, Snapshot};

    fn end(fd: u64, ino: u64, mode: Mode) -> Handle {
        Handle {
            handle: fd,
            object_type: ObjectType::new("pipe"),
            mode,
            name: Name::from(format!("pipe:[{ino}]").as_str()),
            object: Some(ObjectId::Inode { dev: 0, ino }),
            pipe: Some(PipeKind::Anonymous),
            flags: None,
            access: None,
            details: None,
        }
    }

    fn process(pid: Pid, name: &str, handles: Vec<Handle>) -> Process {
        Process {
            pid,
            ppid: Some(1),
            name: name.into(),
            name_bytes: None,
            user: None,
            uid: None,
            start_time_ms: None,
            handles,
        }
    }

    /// A writer on fd 1 and a stray writer into one reader; a pipe nobody reads.
    fn sample() -> Snapshot {
        Snapshot {
            processes: vec![
                process(
                    10,
                    "make",
                    vec![end(1, 5, Mode::Write), end(4, 6, Mode::Write)],
                ),
                process(11, "tee \"x\"", vec![end(0, 5, Mode::Read)]),
                process(12, "daemon", vec![end(9, 5, Mode::Write)]),
            ],
            ..Snapshot::default()
        }
    }

    fn render(f: fn(&PipeGraph<'_>, &[&Pipe], &mut Vec<u8>) -> io::Result<()>) -> String {
        let snap = sample();
        let g = PipeGraph::build(
            &snap,
            &GraphOptions {
                stdout_handle: Some(1),
                partial_view: false,
            },
        );
        let pipes: Vec<&Pipe> = g.pipes.iter().collect();
        let mut out = Vec::new();
        f(&g, &pipes, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dot_draws_writers_to_readers_and_findings_in_red() {
        let dot = render(dot);
        assert!(dot.contains("p11 [label=\"11 tee \\\"x\\\"\"];"), "{dot}");
        assert!(
            dot.contains(&format!(
                "p10 -> p11 [label=\"pipe:[5]\\n{} → {}\"];",
                handle_label(1),
                handle_label(0)
            )),
            "{dot}"
        );
        assert!(
            dot.contains(&format!(
                "p12 -> p11 [label=\"pipe:[5]\\n{} → {}\", color=red, fontcolor=red];",
                handle_label(9),
                handle_label(0)
            )),
            "{dot}"
        );
        assert!(
            dot.contains("s1 [label=\"pipe:[6]\\nno reader\", shape=note, color=red"),
            "{dot}"
        );
        assert!(
            dot.contains(&format!(
                "p10 -> s1 [label=\"{}\", color=red",
                handle_label(4)
            )),
            "{dot}"
        );
    }

    #[test]
    fn mermaid_draws_the_same_graph() {
        let m = render(mermaid);
        assert!(m.contains("p11[\"11 tee #quot;x#quot;\"]"), "{m}");
        assert!(
            m.contains(&format!(
                "p10 -->|\"pipe:[5]<br/>{} → {}\"| p11",
                handle_label(1),
                handle_label(0)
            )),
            "{m}"
        );
        assert!(
            m.contains("s1([\"pipe:[6]<br/>no reader\"]):::finding"),
            "{m}"
        );
        // Edges 1 (the stray writer) and 2 (into the stub) are red.
        assert!(
            m.trim_end().ends_with("linkStyle 1,2 stroke:red,color:red"),
            "{m}"
        );
    }

    #[test]
    fn dot_strings_are_quoted_safely() {
        assert_eq!(dot_str("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn mermaid_labels_escape_markup() {
        assert_eq!(
            mermaid_str("a\"<b>|#\nc"),
            "a#quot;#lt;b#gt;#124;#35;<br/>c"
        );
    }
}
