//! JSON wire types: the stable schema of everything pipescope prints with `--json`.
//!
//! Each type derives `Serialize` and documents its fields; printers convert library data
//! into these and never serialize library types directly, so the schema changes only here.

use serde::Serialize;

// --- `pipescope run` / `pipescope watch` ----------------------------------------------

/// One line per interval of `run --json` / `watch --json`.
#[derive(Debug, Serialize)]
pub struct LiveSample {
    /// Always `"sample"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Seconds since sampling started.
    pub t: f64,
    /// Stages in pipeline order.
    pub stages: Vec<LiveStage>,
    /// Pipes in pipeline order (pipe `i` joins stage `i` to stage `i + 1`).
    pub pipes: Vec<LivePipe>,
}

/// A stage at one moment.
#[derive(Debug, Serialize)]
pub struct LiveStage {
    /// Process id.
    pub pid: u32,
    /// What it runs.
    pub command: String,
    /// `run`, `read` (blocked reading a pipe), `write` (blocked writing a pipe), `wait`
    /// (asleep for another reason), `stop` or `exit`.
    pub state: &'static str,
    /// Bytes read so far (all sources).
    pub bytes_in: u64,
    /// Bytes written so far (all targets).
    pub bytes_out: u64,
    /// Bytes written per second over the last interval.
    pub rate_out: u64,
}

/// A pipe at one moment.
#[derive(Debug, Serialize)]
pub struct LivePipe {
    /// Index of the stage writing it.
    pub writer: usize,
    /// Index of the stage reading it.
    pub reader: usize,
    /// Bytes queued now; `null` when not measured (see `missing`).
    pub fill: Option<u64>,
    /// Capacity in bytes, when known.
    pub capacity: Option<u64>,
    /// Why the fill is not measured, or `null`.
    pub missing: Option<String>,
}

/// The last line of `run --json` / `watch --json`: totals and the verdict.
#[derive(Debug, Serialize)]
pub struct LiveReport {
    /// Always `"report"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The pipeline text (`run`) or the processes asked for (`watch`).
    pub command: String,
    /// Seconds sampled.
    pub seconds: f64,
    /// `run`: the pipeline's exit status (128 + N when killed by signal N); `null` for
    /// `watch` or when detached before the end.
    pub exit_status: Option<i32>,
    /// Stages in pipeline order.
    pub stages: Vec<ReportStage>,
    /// Pipes in pipeline order.
    pub pipes: Vec<ReportPipe>,
    /// Which stage holds the pipeline back.
    pub bottleneck: Bottleneck,
}

/// Totals of one stage.
#[derive(Debug, Serialize)]
pub struct ReportStage {
    /// What it runs.
    pub command: String,
    /// Process id.
    pub pid: u32,
    /// Bytes read (all sources; for `watch`, since attaching).
    pub bytes_in: u64,
    /// Bytes written (all targets; for `watch`, since attaching).
    pub bytes_out: u64,
    /// Average bytes read per second while seen alive.
    pub throughput_in: u64,
    /// Average bytes written per second while seen alive.
    pub throughput_out: u64,
    /// CPU time over wall time while seen alive, percent of one core.
    pub cpu_percent: f64,
    /// Share of samples running (0 to 1).
    pub running: f64,
    /// Share of samples blocked reading a pipe.
    pub blocked_read: f64,
    /// Share of samples blocked writing a pipe.
    pub blocked_write: f64,
    /// Share of samples asleep for another reason (timer, disk, child).
    pub waiting: f64,
    /// Samples taken while it was alive.
    pub samples: u64,
}

/// Totals of one pipe.
#[derive(Debug, Serialize)]
pub struct ReportPipe {
    /// Index of the stage writing it.
    pub writer: usize,
    /// Index of the stage reading it.
    pub reader: usize,
    /// Capacity in bytes, when known.
    pub capacity: Option<u64>,
    /// Average bytes queued over the measured samples; `null` if never measured.
    pub fill_avg: Option<u64>,
    /// Most bytes queued at one sample.
    pub fill_max: Option<u64>,
    /// Share of measured samples it was full (≥ 87.5 % of capacity).
    pub full: Option<f64>,
    /// Share of measured samples it was nearly empty (< 12.5 % of capacity).
    pub empty: Option<f64>,
    /// Samples whose fill was measured.
    pub samples: u64,
    /// Why the fill was not measured (at the last sample), or `null`.
    pub missing: Option<String>,
}

/// The verdict.
#[derive(Debug, Serialize)]
pub struct Bottleneck {
    /// 0-based index of the bottleneck stage; `null` when no stage holds the others back.
    pub stage: Option<usize>,
    /// One sentence (stages counted from 1 in it, as in the views).
    pub reason: String,
}
