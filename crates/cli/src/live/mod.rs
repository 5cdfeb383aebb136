//! The live view shared by `run` and `watch` (and anything else that shows a pipeline
//! live). Data flows one way:
//!
//! ```text
//! driver  (collector thread, child, signals, keys)  →  state  →  tui | plain | json
//!                                                                 ↘  format  ↙
//! ```
//!
//! The [`driver`] samples on a thread of its own and folds every sample into the
//! [`state`]; the views (`tui`, `plain`, `json`) only read the state, and write figures
//! through the shared [`format`](mod@format) module. Nothing below the driver knows about threads,
//! signals or the child.

pub mod driver;
pub mod format;
mod json;
mod plain;
pub mod state;
pub mod tui;

use std::io;
use std::time::Duration;

use pipescope_core::flow::FlowProbe;

#[cfg(windows)]
pub use driver::Supervised;
pub use driver::{Signals, drive, spawn, wait_unobserved};
pub use state::{Mode, Setup};

/// Options shared by `run` and `watch`.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewArgs {
    /// How often to sample: `100ms`, `0.5s`, `2s` (from 10ms to 3600s; a bare number is
    /// milliseconds).
    #[arg(long, short = 'i', default_value = "100ms", value_parser = parse_interval)]
    pub interval: Duration,
    /// One line per interval instead of the terminal UI (the default without a terminal).
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// One JSON object per interval, then a final report object (on stderr).
    #[arg(long)]
    pub json: bool,
    /// Estimate by sampling even where the eBPF probe could give exact figures.
    #[arg(long)]
    pub no_probe: bool,
}

/// The eBPF probe for exact figures, attached now (before the pipeline starts, for
/// `run`), or `None` with why not: the note goes on stderr as one line except in JSON
/// mode, where the report's `source_note` carries it.
pub fn attach_probe(args: &ViewArgs, mode: Mode) -> (Option<FlowProbe>, Option<String>) {
    if args.no_probe {
        return (None, Some("--no-probe".into()));
    }
    match FlowProbe::attach() {
        Ok(p) => (Some(p), None),
        Err(e) => {
            let why =
                pipescope_core::flow::unavailable().map_or_else(|| e.to_string(), str::to_string);
            if mode != Mode::Json {
                eprintln!(
                    "pipescope: byte counts and blocked shares are estimates from sampling \
                     (no eBPF probe: {why})"
                );
            }
            (None, Some(why))
        }
    }
}

/// The longest interval accepted: long enough for any use, short enough that no clock
/// arithmetic on it can overflow.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// Parses an interval: a number with `ms`, `s` or `us`; a bare number is milliseconds.
/// Accepts 10ms to 3600s; anything else is an error that says so.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1e-3)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not an interval (try 100ms or 1s)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{text}` is not an interval (try 100ms or 1s)"));
    }
    let secs = v * scale;
    if secs > MAX_INTERVAL.as_secs_f64() {
        return Err(format!("interval `{text}` is above the maximum of 3600s"));
    }
    let d = Duration::from_secs_f64(secs);
    if d < Duration::from_millis(10) {
        return Err(format!("interval `{text}` is below the minimum of 10ms"));
    }
    Ok(d)
}

impl ViewArgs {
    /// The mode these options and the terminal call for. The UI needs stderr to be a
    /// terminal; for `run` it also needs stdout not to be that terminal, or the UI and
    /// the pipeline's output would draw over each other.
    pub fn mode(&self, stdout_is_data: bool) -> Mode {
        use std::io::IsTerminal;
        if self.json {
            Mode::Json
        } else if self.plain
            || !io::stderr().is_terminal()
            || (stdout_is_data && io::stdout().is_terminal())
        {
            Mode::Plain
        } else {
            Mode::Tui
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_interval("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("250"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("10ms"), Ok(Duration::from_millis(10)));
        assert!(parse_interval("5ms").unwrap_err().contains("minimum"));
        assert!(parse_interval("fast").is_err());
        assert!(parse_interval("-1s").is_err());
        assert_eq!(
            parse_interval("1h"),
            Err("`1h` is not an interval (try 100ms or 1s)".into())
        );
        assert_eq!(parse_interval("3600s"), Ok(MAX_INTERVAL));
        for huge in [
            "1e20s",
            "18446744073709551616s",
            "1.8e19s",
            "3600.001s",
            "1e300",
        ] {
            let e = parse_interval(huge).unwrap_err();
            assert!(e.contains("maximum of 3600s"), "{huge}: {e}");
        }
        for bad in ["inf", "NaN", "infs", "", "ms", "1e-400s"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
