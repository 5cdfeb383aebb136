//! How the live views write figures and words: sizes, clipped and escaped commands, pipe
//! fill, shares and stage-state words. Shared by the terminal UI, the plain lines and the
//! final report, so a figure reads the same everywhere. Depends on nothing of the views.

use pipescope_core::sample::{PipeSample, StageState};

use crate::out::escape_str;

/// `12`, `4K`, `1.3M`, `2.1G` (binary units).
pub fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}{}", UNITS[u])
    } else {
        format!("{v:.1}{}", UNITS[u])
    }
}

/// [`size`], or `?` when the figure is hidden from us.
pub fn known(n: Option<u64>) -> String {
    n.map_or_else(|| "?".to_string(), size)
}

/// A share of the samples as a whole percentage: `0.25` → `25%`.
pub fn pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// Shortens `s` to `n` characters with an ellipsis. Callers pass text already made safe
/// for a terminal (see [`command`]).
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else if n == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// A command (which comes from the OS and may hold anything) escaped for a terminal and
/// clipped to `n` characters.
pub fn command(s: &str, n: usize) -> String {
    clip(&escape_str(s), n)
}

/// Text from the OS or the user made safe for a terminal.
pub fn escaped(s: &str) -> String {
    escape_str(s).into_owned()
}

/// The fill of a pipe at a sample, as `63K/64K`, or `?` when unknown.
pub fn fill(p: Option<&PipeSample>) -> String {
    let Some(p) = p else {
        return "?".into();
    };
    match (&p.fill, p.capacity) {
        (Ok(f), Some(c)) => format!("{}/{}", size(*f), size(c)),
        (Ok(f), None) => size(*f),
        (Err(_), _) => "?".into(),
    }
}

/// A stage's state in words, for a view with room for them.
pub fn state_word(s: StageState) -> &'static str {
    match s {
        StageState::Running => "running",
        StageState::BlockedRead => "blocked reading",
        StageState::BlockedWrite => "blocked writing",
        StageState::Waiting => "sleeping (own)",
        StageState::Stopped => "stopped",
        StageState::Exited => "exited",
        StageState::Unseen => "not seen",
    }
}

/// Rounds to two decimals, for shares in JSON.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(12), "12");
        assert_eq!(size(4096), "4K");
        assert_eq!(size(65536), "64K");
        assert_eq!(size(1_363_149), "1.3M");
        assert_eq!(size(u64::MAX), "16384P");
        assert_eq!(known(None), "?");
    }

    #[test]
    fn clipping_counts_characters_and_escapes_commands() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(clip("ééééé", 3), "éé…");
        assert_eq!(clip("abc", 0), "");
        assert_eq!(command("a\x1b[2Jb", 40), "a\\x1b[2Jb");
    }

    #[test]
    fn fill_and_shares() {
        let p = PipeSample {
            id: 1,
            fill: Ok(65536),
            capacity: Some(65536),
        };
        assert_eq!(fill(Some(&p)), "64K/64K");
        assert_eq!(fill(None), "?");
        assert_eq!(pct(0.254), "25%");
        assert_eq!(round2(0.12345), 0.12);
    }
}
