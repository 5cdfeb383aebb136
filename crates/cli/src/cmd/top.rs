//! `pipescope top`: the machine's pipe traffic, live — the busiest pipes each interval
//! with their writers and readers, and the ends that waited longest. Exact figures from
//! the kernel probe when it attaches (root or CAP_BPF + CAP_PERFMON), else estimates from
//! sampling, said so in one line.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pipescope_core::ProcessSelector;
use pipescope_core::flow::{EndTraffic, FlowSource, PipeTraffic, Traffic, TrafficMonitor};

use crate::json;
use crate::live::format::size;
use crate::live::parse_interval;
use crate::out::escape_str as escape;

/// Arguments of `pipescope top`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exact figures need the eBPF probe: run as root (or with CAP_BPF and \
CAP_PERFMON) on a kernel with BTF. Otherwise `top` estimates from sampling and says so.

Examples:
  sudo pipescope top                 busiest pipes, refreshed every second
  sudo pipescope top -p gzip -s wait the pipes gzip holds, longest waits first
  pipescope top --json -n 5          five JSON lines, one per interval"
)]
pub struct Args {
    /// Only the pipes this process holds (a pid, or an exact process name). Repeat to name
    /// several.
    #[arg(short = 'p', long = "process", value_name = "PID|NAME")]
    pub process: Vec<String>,
    /// How often to refresh: `500ms`, `1s`, `2s` (at least 10ms).
    #[arg(long, short = 'i', default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Order of the pipes: bytes (throughput), wait (longest-waiting end), calls.
    #[arg(long, short = 's', value_enum, default_value = "bytes")]
    pub sort: Sort,
    /// Stop after this many refreshes (default: until Ctrl-C).
    #[arg(long, short = 'n', value_name = "N")]
    pub count: Option<u64>,
    /// How many pipes and waiting ends to show per refresh.
    #[arg(long, default_value = "10", value_name = "N")]
    pub limit: usize,
    /// Estimate from sampling even where the probe could attach.
    #[arg(long)]
    pub no_probe: bool,
    /// One block of lines per refresh (the default without a terminal).
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// One JSON object per refresh, on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The order of the pipes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// Most bytes through the pipe first.
    Bytes,
    /// The pipe whose end waited longest first.
    Wait,
    /// Most calls first.
    Calls,
}

impl Sort {
    /// Orders `pipes` by this key, busiest first.
    pub fn apply(self, pipes: &mut [PipeTraffic]) {
        match self {
            Sort::Bytes => pipes.sort_by_key(|p| std::cmp::Reverse(p.bytes())),
            Sort::Wait => pipes.sort_by_key(|p| std::cmp::Reverse((p.wait(), p.bytes()))),
            Sort::Calls => pipes.sort_by_key(|p| std::cmp::Reverse((p.calls(), p.bytes()))),
        }
    }
}

/// Runs `pipescope top`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let selectors: Vec<ProcessSelector> = args
        .process
        .iter()
        .map(|s| match s.parse() {
            Ok(pid) => ProcessSelector::Pid(pid),
            Err(_) => ProcessSelector::Name(s.clone()),
        })
        .collect();
    let (mut monitor, why) = TrafficMonitor::start(!args.no_probe);
    if monitor.source() == FlowSource::Sampling {
        let reason = match (&why, pipescope_core::flow::unavailable()) {
            (_, Some(not_built)) if !args.no_probe => not_built.to_string(),
            (Some(e), _) => e.to_string(),
            _ => "--no-probe".to_string(),
        };
        eprintln!(
            "pipescope: estimating from sampling (each holder's total I/O, not per pipe): \
             {reason}"
        );
    }
    let stop = stop_flag();
    let started = Instant::now();
    let mut out = io::stdout().lock();
    let mut shown = 0u64;
    while args.count.is_none_or(|n| shown < n) {
        if sleep_unless(&stop, args.interval) {
            break;
        }
        let mut traffic = monitor.interval()?;
        if !selectors.is_empty() {
            traffic.retain(&selectors);
        }
        args.sort.apply(&mut traffic.pipes);
        let at = started.elapsed();
        if args.json {
            serde_json::to_writer(&mut out, &json::TopSample::new(&traffic, at, args.limit))?;
            writeln!(out)?;
        } else {
            write_plain(&mut out, &traffic, at, args.limit)?;
        }
        out.flush()?;
        shown += 1;
    }
    Ok(())
}

/// Raised by SIGINT or SIGTERM: the loop ends, the probe is dropped (detached), and the
/// program exits normally.
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
    flag
}

/// Sleeps `d`, waking early when `stop` is raised; returns whether it was.
fn sleep_unless(stop: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        let now = Instant::now();
        if now >= end {
            return false;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

/// `1.2M/s` for `bytes` over `elapsed`.
pub fn rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    format!("{}/s", size((bytes as f64 / secs).round() as u64))
}

/// `cat[4124]:0`.
fn end_text(e: &EndTraffic) -> String {
    format!("{}[{}]:{}", escape(&e.name), e.pid, e.handle)
}

/// The share of the interval an end's calls slept, `61%`.
fn wait_share(e: &EndTraffic, elapsed: Duration) -> Option<String> {
    let w = e.wait?;
    let share = w.as_secs_f64() / elapsed.as_secs_f64().max(1e-3) * 100.0;
    Some(format!("{:.0}%", share.min(100.0)))
}

fn ends_text(ends: &[EndTraffic]) -> String {
    if ends.is_empty() {
        return "-".into();
    }
    let mut parts: Vec<String> = ends.iter().take(3).map(end_text).collect();
    if ends.len() > 3 {
        parts.push(format!("+{}", ends.len() - 3));
    }
    parts.join(",")
}

fn write_plain(out: &mut impl Write, t: &Traffic, at: Duration, limit: usize) -> io::Result<()> {
    let source = match t.source {
        FlowSource::Probe => "kernel probe, exact",
        FlowSource::Sampling => "sampling, estimates",
    };
    let moving = t.pipes.iter().filter(|p| p.bytes() > 0).count();
    writeln!(
        out,
        "{:7.1}s  {moving} pipe(s) moving data ({source}){}",
        at.as_secs_f64(),
        if t.dropped > 0 {
            format!(", {} call(s) not counted", t.dropped)
        } else {
            String::new()
        }
    )?;
    for p in t.pipes.iter().take(limit) {
        let wait = p
            .writers
            .iter()
            .chain(&p.readers)
            .filter(|e| e.wait.is_some_and(|w| !w.is_zero()))
            .max_by_key(|e| e.wait)
            .and_then(|e| {
                let verb = if e.writes { "writing" } else { "reading" };
                Some(format!(
                    "  wait: {} {verb} {}",
                    end_text(e),
                    wait_share(e, t.elapsed)?
                ))
            })
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<22} {:>9}  {} → {}{wait}",
            p.id(),
            rate(p.bytes(), t.elapsed),
            ends_text(&p.writers),
            ends_text(&p.readers),
        )?;
    }
    if !t.waiting.is_empty() {
        let waits: Vec<String> = t
            .waiting
            .iter()
            .take(limit.min(5))
            .filter_map(|e| {
                let verb = if e.writes { "writing" } else { "reading" };
                Some(format!(
                    "{} {verb} {}",
                    end_text(e),
                    wait_share(e, t.elapsed)?
                ))
            })
            .collect();
        writeln!(out, "  longest waits: {}", waits.join("; "))?;
    }
    Ok(())
}
