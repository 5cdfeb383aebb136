//! The JSON view: one object per interval (`"type": "sample"`) and the final report
//! (`"type": "report"`), one per line on stderr. The wire types live in `crate::json`.

use std::io::{self, Write};

use super::format::round2;
use super::state::State;
use crate::json as wire;

/// Writes the object for the latest sample.
pub fn show(w: &mut impl Write, state: &State) -> io::Result<()> {
    serde_json::to_writer(&mut *w, &sample(state))?;
    writeln!(w)?;
    w.flush()
}

/// Writes the final report object; `code` is the pipeline's exit status as a shell gives
/// it, when it ended while we watched; `signal` the signal that ended the watching or
/// was passed on to the pipeline.
pub fn report(
    w: &mut impl Write,
    state: &State,
    code: Option<i32>,
    signal: Option<&str>,
) -> io::Result<()> {
    serde_json::to_writer(&mut *w, &report_object(state, code, signal))?;
    writeln!(w)?;
    w.flush()
}

fn sample(state: &State) -> wire::LiveSample {
    wire::LiveSample {
        kind: "sample",
        t: state.elapsed(),
        stages: state
            .report
            .stages
            .iter()
            .map(|s| wire::LiveStage {
                pid: s.pid,
                command: s.command.clone(),
                state: s.state.as_str(),
                bytes_in: s.bytes_in,
                bytes_out: s.bytes_out,
                rate_out: s.rate_out,
            })
            .collect(),
        pipes: state
            .pipeline
            .pipes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let ps = state.pipe_sample(i);
                wire::LivePipe {
                    writer: p.writer(),
                    reader: p.reader(),
                    writers: p.writers.clone(),
                    readers: p.readers.clone(),
                    fill: ps.and_then(|s| s.fill.as_ref().ok().copied()),
                    capacity: ps.and_then(|s| s.capacity),
                    missing: ps.and_then(|s| s.fill.as_ref().err().map(ToString::to_string)),
                }
            })
            .collect(),
        findings: state
            .last
            .iter()
            .flat_map(|s| &s.buffering)
            .map(wire::BufferingJson::new)
            .collect(),
        verdict: verdict(state),
    }
}

/// The verdict so far, with the findings it rests on.
fn verdict(state: &State) -> wire::Bottleneck {
    use pipescope_core::waitfor::{Wait, WaitOn};
    let v = &state.report.bottleneck;
    let place = |pid: u32| {
        state
            .pipeline
            .stages
            .iter()
            .position(|s| s.pid == Some(pid))
    };
    let wait = |w: &Wait| {
        let (on, handle, child) = match w.on {
            WaitOn::Read { handle, .. } => ("read", Some(handle), None),
            WaitOn::Write { handle, .. } => ("write", Some(handle), None),
            WaitOn::Child { child } => ("child", None, Some(child)),
        };
        wire::LiveWait {
            pid: w.pid,
            stage: place(w.pid),
            on,
            handle,
            child,
            waits_for: w.waits_for.clone(),
        }
    };
    wire::Bottleneck {
        kind: v.kind.as_str(),
        stage: v.stage,
        reason: v.reason.clone(),
        findings: v
            .findings
            .iter()
            .map(|d| wire::LiveFinding {
                kind: d.kind.as_str(),
                waits: d.waits.iter().map(wait).collect(),
                behind: d.behind.iter().map(wait).collect(),
                holders: d.holders.iter().map(|h| h.pid).collect(),
                pipes: d.pipes.iter().map(|p| p.id.clone()).collect(),
                message: d.message.clone(),
            })
            .collect(),
    }
}

fn report_object(state: &State, code: Option<i32>, signal: Option<&str>) -> wire::LiveReport {
    let r = &state.report;
    wire::LiveReport {
        kind: "report",
        command: state.setup.command.clone(),
        seconds: state.elapsed(),
        exit_status: code,
        signal: signal.map(str::to_string),
        stages: r
            .stages
            .iter()
            .map(|s| wire::ReportStage {
                command: s.command.clone(),
                pid: s.pid,
                bytes_in: s.bytes_in,
                bytes_out: s.bytes_out,
                throughput_in: s.throughput_in,
                throughput_out: s.throughput_out,
                cpu_percent: round2(s.cpu_percent),
                running: round2(s.running),
                blocked_read: round2(s.blocked_read),
                blocked_write: round2(s.blocked_write),
                waiting: round2(s.waiting),
                samples: s.samples,
            })
            .collect(),
        pipes: r
            .pipes
            .iter()
            .map(|p| wire::ReportPipe {
                writer: p.writer(),
                reader: p.reader(),
                writers: p.writers.clone(),
                readers: p.readers.clone(),
                capacity: p.capacity,
                fill_avg: p.fill_avg,
                fill_max: p.fill_max,
                full: p.full.map(round2),
                empty: p.empty.map(round2),
                samples: p.samples,
                missing: p.missing.clone(),
            })
            .collect(),
        bottleneck: verdict(state),
        source: state.setup.source.as_str(),
        source_note: state.setup.source_note.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::state::example;
    use super::*;

    #[test]
    fn a_sample_and_the_report_parse_back() {
        let state = example::state(3);
        let mut out = Vec::new();
        show(&mut out, &state).unwrap();
        report(&mut out, &state, Some(143), Some("SIGTERM")).unwrap();
        let text = String::from_utf8(out).unwrap();
        let objs: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0]["type"], "sample");
        assert_eq!(objs[0]["stages"][1]["command"], "slow\x1b[2J");
        assert_eq!(objs[0]["pipes"][0]["fill"], 65536);
        assert!(objs[0]["pipes"][1]["missing"].is_string());
        assert_eq!(objs[1]["type"], "report");
        assert_eq!(objs[1]["exit_status"], 143);
        assert_eq!(objs[1]["signal"], "SIGTERM");
        assert_eq!(objs[1]["bottleneck"]["stage"], 1);
        assert_eq!(objs[1]["pipes"][0]["full"], 1.0);
    }
}
