//! Diagrams of the pipe graph: Graphviz DOT and Mermaid. Processes are nodes, each pipe is
//! an edge from every writer to every reader labelled with the pipe and both fds; a pipe
//! that lost a side ends at a small node saying so. Findings are drawn in red: the
//! graph's own (a stray write end, a lost side) and those of the live state (a deadlock,
//! an orphaned writer, a stopped reader or writer), whose processes say their part under
//! their name and whose pipes are red; a parent in a deadlock waiting for its child gets
//! an edge of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use pipescope_core::Pid;
use pipescope_core::graph::{FindingKind, Pipe, PipeEnd, PipeGraph, handle_label};
use pipescope_core::waitfor::{Diagnosis, DiagnosisKind, WaitOn};

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

/// A process node: its id, its label, whether a live finding names it.
struct Node {
    pid: Pid,
    label: String,
    red: bool,
}

/// What the live findings add to the drawing.
#[derive(Default)]
struct Marks {
    /// Each process's part in a finding, in the order met.
    parts: BTreeMap<Pid, Vec<&'static str>>,
    /// The pipes a finding concerns, by id.
    pipes: BTreeSet<String>,
    /// Deadlocked parents waiting for a child to exit: (parent, child).
    child_waits: BTreeSet<(Pid, Pid)>,
}

impl Marks {
    fn of(diagnoses: &[&Diagnosis]) -> Marks {
        let mut m = Marks::default();
        let mut part = |pid: Pid, what: &'static str| {
            let parts = m.parts.entry(pid).or_default();
            if !parts.contains(&what) {
                parts.push(what);
            }
        };
        for d in diagnoses {
            let (waiting, holding) = match d.kind {
                DiagnosisKind::Deadlock => ("deadlock", ""),
                DiagnosisKind::OrphanWriter => ("waits for EOF", "orphaned writer"),
                DiagnosisKind::StoppedReader => ("blocked writing", "stopped reader"),
                DiagnosisKind::StoppedWriter => ("blocked reading", "stopped writer"),
            };
            for w in &d.waits {
                part(w.pid, waiting);
            }
            for w in &d.behind {
                part(w.pid, "stuck behind the deadlock");
            }
            for h in d.holders.iter().filter(|_| !holding.is_empty()) {
                part(h.pid, holding);
            }
            for w in d.waits.iter().chain(&d.behind) {
                if let WaitOn::Child { child } = w.on {
                    m.child_waits.insert((w.pid, child));
                }
            }
            m.pipes.extend(d.pipes.iter().map(|p| p.id.clone()));
        }
        m
    }
}

/// Processes, edges and stubs of `pipes`, in a stable order.
fn layout(
    g: &PipeGraph<'_>,
    pipes: &[&Pipe],
    diagnoses: &[&Diagnosis],
) -> (Vec<Node>, Vec<Edge>, Vec<Stub>) {
    let marks = Marks::of(diagnoses);
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
        let live = marks.pipes.contains(&id);
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
                    red: live || extra(p, w),
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
    for &(parent, child) in &marks.child_waits {
        pids.insert(parent);
        pids.insert(child);
        edges.push(Edge {
            from: node(parent),
            to: node(child),
            label: "waits for it to exit".to_string(),
            red: true,
        });
    }
    let procs = pids
        .into_iter()
        .map(|pid| {
            let mut label = format!("{pid} {}", escape(g.process_name(pid)));
            let parts = marks.parts.get(&pid);
            for part in parts.into_iter().flatten() {
                label.push('\n');
                label.push_str(part);
            }
            Node {
                pid,
                label,
                red: parts.is_some(),
            }
        })
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

/// Writes `pipes` as a Graphviz digraph, with the live findings `diagnoses`.
pub fn dot(
    g: &PipeGraph<'_>,
    pipes: &[&Pipe],
    diagnoses: &[&Diagnosis],
    out: &mut impl Write,
) -> io::Result<()> {
    let (procs, edges, stubs) = layout(g, pipes, diagnoses);
    writeln!(out, "digraph pipes {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [shape=box, fontname=\"monospace\"];")?;
    writeln!(out, "  edge [fontname=\"monospace\", fontsize=10];")?;
    for n in &procs {
        let red = if n.red {
            ", color=red, fontcolor=red"
        } else {
            ""
        };
        writeln!(out, "  p{} [label=\"{}\"{red}];", n.pid, dot_str(&n.label))?;
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

/// Writes `pipes` as a Mermaid flowchart, with the live findings `diagnoses`.
pub fn mermaid(
    g: &PipeGraph<'_>,
    pipes: &[&Pipe],
    diagnoses: &[&Diagnosis],
    out: &mut impl Write,
) -> io::Result<()> {
    let (procs, edges, stubs) = layout(g, pipes, diagnoses);
    writeln!(out, "flowchart LR")?;
    writeln!(out, "  classDef finding stroke:red,color:red")?;
    for n in &procs {
        let class = if n.red { ":::finding" } else { "" };
        writeln!(out, "  p{}[\"{}\"]{class}", n.pid, mermaid_str(&n.label))?;
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

    /// `dot` or `mermaid`.
    type Draw = fn(&PipeGraph<'_>, &[&Pipe], &[&Diagnosis], &mut Vec<u8>) -> io::Result<()>;

    fn render(f: Draw) -> String {
        render_with(f, &[])
    }

    fn render_with(f: Draw, diagnoses: &[&Diagnosis]) -> String {
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
        f(&g, &pipes, diagnoses, &mut out).unwrap();
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

    /// make (10) and tee (11) deadlocked on pipe:[5], make also waiting for its child 13.
    fn deadlock() -> Diagnosis {
        use pipescope_core::waitfor::{PipeEvidence, Wait};
        Diagnosis {
            kind: DiagnosisKind::Deadlock,
            waits: vec![
                Wait {
                    pid: 10,
                    on: WaitOn::Write { handle: 1, pipe: 0 },
                    waits_for: vec![11],
                },
                Wait {
                    pid: 11,
                    on: WaitOn::Read { handle: 0, pipe: 0 },
                    waits_for: vec![10],
                },
            ],
            behind: vec![Wait {
                pid: 10,
                on: WaitOn::Child { child: 13 },
                waits_for: vec![13],
            }],
            holders: Vec::new(),
            pipes: vec![PipeEvidence {
                pipe: 0,
                id: "pipe:[5]".to_string(),
                fill: Some(65536),
                capacity: Some(65536),
            }],
            message: String::new(),
        }
    }

    #[test]
    fn live_findings_name_each_process_part_and_redden_their_pipes() {
        let d = deadlock();
        let dot = render_with(dot, &[&d]);
        assert!(
            dot.contains(
                "p10 [label=\"10 make\\ndeadlock\\nstuck behind the deadlock\", color=red"
            ),
            "{dot}"
        );
        assert!(
            dot.contains("p11 [label=\"11 tee \\\"x\\\"\\ndeadlock\", color=red"),
            "{dot}"
        );
        // The daemon is no part of it.
        assert!(dot.contains("p12 [label=\"12 daemon\"];"), "{dot}");
        assert!(
            dot.contains(&format!(
                "p10 -> p11 [label=\"pipe:[5]\\n{} → {}\", color=red",
                handle_label(1),
                handle_label(0)
            )),
            "{dot}"
        );
        assert!(
            dot.contains("p10 -> p13 [label=\"waits for it to exit\", color=red"),
            "{dot}"
        );
        let m = render_with(mermaid, &[&d]);
        assert!(
            m.contains("p10[\"10 make<br/>deadlock<br/>stuck behind the deadlock\"]:::finding"),
            "{m}"
        );
        assert!(m.contains("p12[\"12 daemon\"]\n"), "{m}");
        assert!(m.contains("p10 -->|\"waits for it to exit\"| p13"), "{m}");
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
