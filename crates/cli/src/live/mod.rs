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

pub use driver::{Supervised, drive, exit_code, interrupt_flag};
pub use state::{Mode, Setup};

/// Options shared by `run` and `watch`.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewArgs {
    /// How often to sample: `100ms`, `0.5s`, `1s` (at least 10ms).
    #[arg(long, short = 'i', default_value = "100ms", value_parser = parse_interval)]
    pub interval: Duration,
    /// One line per interval instead of the terminal UI (the default without a terminal).
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// One JSON object per interval, then a final report object (on stderr).
    #[arg(long)]
    pub json: bool,
}

/// Parses an interval: a number with `ms`, `s` or `us`; a bare number is milliseconds.
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
    let d = Duration::from_secs_f64(v * scale);
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
    }
}
