//! What the live views draw from: the pipeline as last discovered, the latest sample and
//! the totals and verdict so far. The driver feeds it; the views only read it.

use std::time::Duration;

use pipescope_core::flow::FlowSource;
use pipescope_core::sample::{PipeSample, Pipeline, Report, Sample, Tracker};

/// How the live view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The terminal UI on stderr.
    Tui,
    /// One line per interval on stderr.
    Plain,
    /// One JSON object per interval on stderr.
    Json,
}

/// What the view is about.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `run` or `watch`.
    pub verb: &'static str,
    /// The pipeline text or the processes asked for.
    pub command: String,
    /// Sampling period.
    pub interval: Duration,
    /// How to show it.
    pub mode: Mode,
    /// Counts from zero (stages we started) or from the first sample (attached).
    pub from_zero: bool,
    /// Where the byte counts and blocked shares come from.
    pub source: FlowSource,
    /// Why the probe is not used, when it is not.
    pub source_note: Option<String>,
}

/// Everything the views draw from.
#[derive(Debug)]
pub struct State {
    /// What the view is about.
    pub setup: Setup,
    /// The pipeline as last discovered.
    pub pipeline: Pipeline,
    /// The latest sample.
    pub last: Option<Sample>,
    /// Totals and the verdict so far.
    pub report: Report,
    tracker: Tracker,
}

impl State {
    /// A state with no sample yet.
    pub fn new(setup: Setup, pipeline: Pipeline) -> State {
        let tracker = Tracker::new(setup.from_zero);
        let report = tracker.report(&pipeline);
        State {
            setup,
            pipeline,
            last: None,
            report,
            tracker,
        }
    }

    /// Folds in a sample, and the pipeline when it changed.
    pub fn add(&mut self, pipeline: Option<Pipeline>, sample: Sample) {
        if let Some(p) = pipeline {
            self.pipeline = p;
        }
        self.tracker.add(&sample);
        self.last = Some(sample);
        self.report = self.tracker.report(&self.pipeline);
    }

    /// Seconds from the start to the latest sample.
    pub fn elapsed(&self) -> f64 {
        self.last.as_ref().map_or(0.0, |s| s.at.as_secs_f64())
    }

    /// The index of the pipe from stage `i - 1` that feeds stage `i`, if any.
    pub fn input_pipe(&self, i: usize) -> Option<usize> {
        let prev = i.checked_sub(1)?;
        self.pipeline
            .pipes
            .iter()
            .position(|p| p.readers.contains(&i) && p.writers.contains(&prev))
    }

    /// Pipe `k` at the latest sample.
    pub fn pipe_sample(&self, k: usize) -> Option<&PipeSample> {
        self.last.as_ref().and_then(|s| s.pipes.get(k))
    }

    /// A state fed with `samples` of `pipeline`, for view tests.
    #[cfg(test)]
    pub fn from_samples(setup: Setup, pipeline: Pipeline, samples: Vec<Sample>) -> State {
        let mut state = State::new(setup, pipeline);
        for s in samples {
            state.add(None, s);
        }
        state
    }
}

/// States for the views' tests.
#[cfg(test)]
pub mod example {
    use std::time::Duration;

    use pipescope_core::sample::{
        FillMissing, PipeEnd, PipeSample, ProcEnds, Sample, StageSample, StageState, assemble,
    };

    use super::{FlowSource, Mode, Setup, State};

    /// `src | slow | … | sink` with `n` stages (at least 2), 20 samples 100 ms apart: the
    /// source blocked writing into a full pipe, the second stage sleeping on its own work
    /// (the bottleneck; its command holds an escape sequence), the others waiting on
    /// empty pipes, and the last pipe's fill denied.
    pub fn state(n: usize) -> State {
        assert!(n >= 2);
        let end = |pipe, handle| {
            Some(PipeEnd {
                pipe,
                handle,
                mode: if handle == 0 {
                    pipescope_core::Mode::Read
                } else {
                    pipescope_core::Mode::Write
                },
                stderr: false,
            })
        };
        let procs: Vec<ProcEnds> = (0..n)
            .map(|i| {
                let ino = |k: usize| 100 * (k as u64 + 1);
                ProcEnds {
                    pid: 10 + i as u32,
                    ppid: Some(1),
                    session: None,
                    ends: [
                        if i == 0 { None } else { end(ino(i - 1), 0) },
                        if i + 1 == n { None } else { end(ino(i), 1) },
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                    command: match i {
                        0 => "src".to_string(),
                        1 => "slow\x1b[2J".to_string(),
                        _ if i + 1 == n => "sink".to_string(),
                        _ => format!("cat{i}"),
                    },
                }
            })
            .collect();
        let pipeline = assemble(&procs);
        let samples = (0..20u64)
            .map(|k| Sample {
                at: Duration::from_millis(100 * k),
                stages: (0..n)
                    .map(|i| StageSample {
                        pid: Some(10 + i as u32),
                        activity: pipescope_core::waitfor::Activity::Unknown,
                        state: match i {
                            0 => StageState::BlockedWrite,
                            1 => StageState::Waiting,
                            _ => StageState::BlockedRead,
                        },
                        bytes_in: Some(k * 4096),
                        bytes_out: Some(k * 4096),
                        cpu: Some(Duration::from_millis(k)),
                        waited: None,
                    })
                    .collect(),
                pipes: (0..n - 1)
                    .map(|i| PipeSample {
                        id: 100 * (i as u64 + 1),
                        fill: match i {
                            0 => Ok(65536),
                            _ if i + 2 == n => Err(FillMissing::Denied("EPERM".into())),
                            _ => Ok(0),
                        },
                        capacity: if i + 2 == n && i > 0 {
                            None
                        } else {
                            Some(65536)
                        },
                    })
                    .collect(),
                buffering: Vec::new(),
            })
            .collect();
        let setup = Setup {
            verb: "run",
            command: (0..n)
                .map(|i| procs[i].command.clone())
                .collect::<Vec<_>>()
                .join(" | "),
            interval: Duration::from_millis(100),
            mode: Mode::Tui,
            from_zero: true,
            source: FlowSource::Sampling,
            source_note: None,
        };
        State::from_samples(setup, pipeline, samples)
    }
}
