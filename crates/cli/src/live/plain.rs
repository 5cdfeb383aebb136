//! The plain view: one line per interval (stages left to right, the fill of the pipe
//! between them, the bottleneck starred), for logs and pipes; and the final report as a
//! table, which every text mode prints at the end.

use std::io::{self, Write};

use pipescope_core::flow::FlowSource;
use pipescope_core::sample::{FillMissing, VerdictKind};

use super::format::{command, escaped, fill, known, pct, size};
use super::state::State;

/// The plain view: remembers which missing fills it already explained.
#[derive(Debug, Default)]
pub struct Plain {
    /// Pipes whose missing fill was explained, as (inode, reason).
    noted: Vec<(u64, String)>,
    /// Stages whose `buffering` finding was shown.
    buffering: std::collections::BTreeSet<u32>,
}

impl Plain {
    /// Writes the line for the latest sample, after a note for each pipe whose fill
    /// went missing for a reason not given before.
    pub fn show(&mut self, w: &mut impl Write, state: &State) -> io::Result<()> {
        // A reader that exited needs no note (its stage shows `exit`).
        let pipes = state.last.iter().flat_map(|s| &s.pipes);
        for (ps, p) in pipes.zip(&state.pipeline.pipes) {
            let Err(why) = &ps.fill else { continue };
            let note = (p.id, why.to_string());
            if *why == FillMissing::Gone || self.noted.contains(&note) {
                continue;
            }
            let (a, b) = (p.writer() + 1, p.reader() + 1);
            writeln!(w, "pipe {a}→{b}: fill not measured: {why}")?;
            self.noted.push(note);
        }
        writeln!(w, "{}", line(state))?;
        for b in state.last.iter().flat_map(|s| &s.buffering) {
            if self.buffering.insert(b.pid) {
                writeln!(w, "buffering: {}", escaped(&b.message))?;
            }
        }
        w.flush()
    }
}

/// `  1.20s src [write 4K/s] =(64K/64K)=> *slow [wait 4K/s] …`
fn line(state: &State) -> String {
    let mut line = format!("{:7.2}s ", state.elapsed());
    for (i, st) in state.report.stages.iter().enumerate() {
        if i > 0 {
            let f = state
                .input_pipe(i)
                .map_or_else(|| "-".to_string(), |k| fill(state.pipe_sample(k)));
            line.push_str(&format!(" =({f})=> "));
        }
        let mark = if state.report.bottleneck.stage == Some(i) {
            "*"
        } else {
            ""
        };
        line.push_str(&format!(
            "{mark}{} [{} {}/s]",
            command(&st.command, 24),
            st.state.as_str(),
            known(st.rate_out)
        ));
    }
    // Pipes that do not join one stage to the next (back to an earlier stage, say).
    for (k, p) in state.pipeline.pipes.iter().enumerate() {
        if p.writers.iter().any(|&w| p.readers.contains(&(w + 1))) {
            continue;
        }
        let f = fill(state.pipe_sample(k));
        line.push_str(&format!("  ({}→{} {f})", p.writer() + 1, p.reader() + 1));
    }
    if matches!(
        state.report.bottleneck.kind,
        VerdictKind::Deadlock | VerdictKind::Stuck
    ) {
        line.push_str(&format!(
            "  {}",
            state.report.bottleneck.kind.as_str().to_uppercase()
        ));
    }
    line
}

/// The final report: a table per stage and per pipe, then the verdict. `code` is the
/// pipeline's exit status as a shell gives it, when it ended while we watched; `signal`
/// the signal that ended the watching (`watch`) or was passed on to the pipeline (`run`).
pub fn report(
    w: &mut impl Write,
    state: &State,
    code: Option<i32>,
    signal: Option<&str>,
) -> io::Result<()> {
    let r = &state.report;
    let mut end = match code {
        Some(c) => format!(", exit status {c}"),
        None => String::new(),
    };
    match (signal, state.setup.verb) {
        (Some(sig), "run") => end.push_str(&format!(" ({sig} passed on to the pipeline)")),
        (Some(sig), _) => end.push_str(&format!(", stopped by {sig}")),
        (None, _) => {}
    }
    writeln!(
        w,
        "pipescope {}: `{}` — {:.2}s sampled every {}ms{end}",
        state.setup.verb,
        escaped(&state.setup.command),
        state.elapsed(),
        state.setup.interval.as_millis()
    )?;
    writeln!(
        w,
        "{}",
        match state.setup.source {
            FlowSource::Probe => {
                "figures: exact (eBPF probe: bytes on each stage's pipe ends, blocked time measured)"
            }
            FlowSource::Sampling => {
                "figures: estimates (sampling: all of a stage's I/O, blocked shares from states)"
            }
        }
    )?;
    writeln!(
        w,
        "{:>2} {:>7}  {:<28} {:>7} {:>7} {:>8} {:>6} {:>5} {:>5} {:>5} {:>5}",
        "#", "pid", "command", "in", "out", "out/s", "cpu", "run", "read", "write", "wait"
    )?;
    for (i, s) in r.stages.iter().enumerate() {
        let mark = if r.bottleneck.stage == Some(i) {
            "*"
        } else {
            " "
        };
        writeln!(
            w,
            "{:>2}{mark}{:>7}  {:<28} {:>7} {:>7} {:>8} {:>5.0}% {:>5} {:>5} {:>5} {:>5}",
            i + 1,
            s.pid.map_or_else(|| "-".into(), |p| p.to_string()),
            command(&s.command, 28),
            known(s.bytes_in),
            known(s.bytes_out),
            format!("{}/s", known(s.throughput_out)),
            s.cpu_percent,
            pct(s.running),
            pct(s.blocked_read),
            pct(s.blocked_write),
            pct(s.waiting)
        )?;
    }
    if !r.pipes.is_empty() {
        writeln!(
            w,
            "{:>6} {:>8} {:>9} {:>9} {:>5} {:>6}",
            "pipe", "capacity", "avg fill", "peak fill", "full", "empty"
        )?;
        for p in &r.pipes {
            let between = format!("{}→{}", p.writer() + 1, p.reader() + 1);
            match (p.fill_avg, p.fill_max) {
                (Some(avg), Some(max)) => writeln!(
                    w,
                    "{between:>6} {:>8} {:>9} {:>9} {:>5} {:>6}",
                    known(p.capacity),
                    size(avg),
                    size(max),
                    p.full.map_or_else(|| "?".into(), pct),
                    p.empty.map_or_else(|| "?".into(), pct),
                )?,
                _ => writeln!(
                    w,
                    "{between:>6} fill not measured: {}",
                    p.missing.as_deref().unwrap_or("no sample")
                )?,
            }
        }
    }
    match r.bottleneck.kind {
        // The reason starts with the word already: `deadlock: …`, `stuck: …`.
        VerdictKind::Deadlock | VerdictKind::Stuck => {
            writeln!(w, "{}", escaped(&r.bottleneck.reason))?;
        }
        _ => writeln!(w, "bottleneck: {}", escaped(&r.bottleneck.reason))?,
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::super::state::example;
    use super::*;

    #[test]
    fn a_line_per_sample_with_fills_the_bottleneck_and_one_note_per_missing_fill() {
        let state = example::state(3);
        let mut plain = Plain::default();
        let mut out = Vec::new();
        plain.show(&mut out, &state).unwrap();
        plain.show(&mut out, &state).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].starts_with("pipe 2→3: fill not measured: "),
            "{text}"
        );
        assert!(
            lines[1].contains("src [write 40K/s] =(64K/64K)=> *slow\\x1b[2J [wait"),
            "{text}"
        );
        assert!(lines[1].contains("=(?)=> sink [read"), "{text}");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn the_report_tables_stages_and_pipes_and_ends_with_the_verdict() {
        let state = example::state(3);
        let mut out = Vec::new();
        report(&mut out, &state, Some(143), Some("SIGTERM")).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("pipescope run: `src | slow\\x1b[2J | sink`"),
            "{text}"
        );
        assert!(
            first.ends_with("exit status 143 (SIGTERM passed on to the pipeline)"),
            "{text}"
        );
        assert!(text.contains(" 2*     11  slow\\x1b[2J"), "{text}");
        assert!(
            text.contains("   1→2      64K       64K       64K  100%     0%"),
            "{text}"
        );
        assert!(text.contains("   2→3 fill not measured: "), "{text}");
        assert!(
            text.lines()
                .last()
                .unwrap()
                .starts_with("bottleneck: stage 2 `slow")
        );
        assert!(!text.contains('\x1b'));
    }
}
