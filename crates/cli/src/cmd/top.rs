//! `pipescope top`: the machine's pipe traffic, live — the busiest pipes each interval
//! with their writers and readers, and the ends that waited longest. Exact figures from
//! the kernel probe when it attaches (root or CAP_BPF + CAP_PERFMON), else estimates from
//! sampling, said so in one line.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

use pipescope_core::ProcessSelector;
use pipescope_core::flow::{EndTraffic, FlowSource, PipeTraffic, Traffic, TrafficMonitor};

use crate::json;
use crate::live::format::size;
use crate::live::parse_interval;
use crate::live::tui::{Input, Tui};
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
    /// One block of lines per refresh instead of the terminal UI (the default without a
    /// terminal).
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
    /// The next order, for the `s` key.
    pub fn next(self) -> Sort {
        match self {
            Sort::Bytes => Sort::Wait,
            Sort::Wait => Sort::Calls,
            Sort::Calls => Sort::Bytes,
        }
    }

    /// Its name, as `--sort` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Bytes => "bytes",
            Sort::Wait => "wait",
            Sort::Calls => "calls",
        }
    }

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
        .map(|s| ProcessSelector::from(s.as_str()))
        .collect();
    if !selectors.is_empty() {
        // As `handles` and `pipes`: a selector that names no process is a mistake, said
        // at once rather than shown as a machine where nothing moves.
        let snap = pipescope_core::scan(&pipescope_core::ScanOptions {
            processes: selectors.clone(),
            pipes_only: true,
            ..pipescope_core::ScanOptions::default()
        })?;
        if super::none_matched(&snap) {
            anyhow::bail!("no process matches {}", args.process.join(", "));
        }
    }
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
    let (keys_tx, keys) = mpsc::channel();
    let mut tui =
        if !args.plain && !args.json && io::stdout().is_terminal() && io::stderr().is_terminal() {
            Some(Tui::start(move |i| keys_tx.send(i).is_ok())?)
        } else {
            None
        };
    let started = Instant::now();
    let mut out = io::stdout().lock();
    let mut shown = 0u64;
    let mut sort = args.sort;
    let mut last: Option<Traffic> = None;
    let mut due = Instant::now() + args.interval;
    while args.count.is_none_or(|n| shown < n) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // Keys (TUI) between refreshes; SIGINT/SIGTERM checked every 50 ms.
        let now = Instant::now();
        if now < due {
            match keys.recv_timeout((due - now).min(Duration::from_millis(50))) {
                Ok(Input::Quit | Input::Interrupt) => break,
                Ok(Input::Key('s')) => {
                    sort = sort.next();
                    if let (Some(t), Some(traffic)) = (tui.as_mut(), last.as_mut()) {
                        sort.apply(&mut traffic.pipes);
                        t.draw_with(|f| render(f, traffic, sort, started.elapsed()))?;
                    }
                }
                Ok(Input::Redraw) => {
                    if let (Some(t), Some(traffic)) = (tui.as_mut(), last.as_ref()) {
                        t.draw_with(|f| render(f, traffic, sort, started.elapsed()))?;
                    }
                }
                Ok(Input::Key(_)) | Err(_) => {}
            }
            continue;
        }
        due += args.interval;
        let mut traffic = monitor.interval()?;
        if !selectors.is_empty() {
            traffic.retain(&selectors);
        }
        sort.apply(&mut traffic.pipes);
        // The pipes shown (a screenful in the UI) get their fill measured.
        traffic.measure_fill(if tui.is_some() { 40 } else { args.limit });
        let at = started.elapsed();
        if let Some(t) = tui.as_mut() {
            t.draw_with(|f| render(f, &traffic, sort, at))?;
        } else if args.json {
            serde_json::to_writer(&mut out, &json::TopSample::new(&traffic, at, args.limit))?;
            writeln!(out)?;
        } else {
            write_plain(&mut out, &traffic, at, args.limit)?;
        }
        out.flush()?;
        last = Some(traffic);
        shown += 1;
    }
    if let Some(mut t) = tui.take() {
        t.finish();
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

/// `1.2M/s` for `bytes` over `elapsed`.
pub fn rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    format!("{}/s", size((bytes as f64 / secs).round() as u64))
}

/// `63K/64K`, or `?` when not measured.
fn fill_text(p: &PipeTraffic) -> String {
    match (p.fill, p.capacity) {
        (Some(f), Some(c)) => format!("{}/{}", size(f), size(c)),
        (Some(f), None) => size(f),
        (None, _) => "?".into(),
    }
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
            "  {:<22} {:>9} {:>9}  {} → {}{wait}",
            p.id(),
            rate(p.bytes(), t.elapsed),
            fill_text(p),
            ends_text(&p.writers),
            ends_text(&p.readers),
        )?;
    }
    for b in &t.buffering {
        writeln!(out, "  buffering: {}", escape(&b.message))?;
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

/// The terminal UI: a header, the busiest pipes, the longest waits. Keys: `s` changes
/// the order, `q` quits.
fn render(f: &mut ratatui::Frame<'_>, t: &Traffic, sort: Sort, at: Duration) {
    let area = f.area();
    let findings = t.buffering.len().min(3) as u16;
    let [head, pipes, waits] = Layout::vertical([
        Constraint::Length(2 + findings),
        Constraint::Min(5),
        Constraint::Length(9),
    ])
    .areas(area);
    let source = match t.source {
        FlowSource::Probe => "kernel probe: exact bytes and waits",
        FlowSource::Sampling => "SAMPLING: estimates (each holder's total I/O), no waits",
    };
    let moving = t.pipes.iter().filter(|p| p.bytes() > 0).count();
    let mut header = vec![
        Line::styled(
            format!(
                "pipescope top  {:.0}s  {moving} pipe(s) moving data  [{source}]",
                at.as_secs_f64()
            ),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Line::styled(
            format!(
                "sorted by {} (s: change)  q: quit{}",
                sort.as_str(),
                if t.dropped > 0 {
                    format!("  {} call(s) not counted", t.dropped)
                } else {
                    String::new()
                }
            ),
            Style::new().fg(Color::DarkGray),
        ),
    ];
    for b in t.buffering.iter().take(3) {
        header.push(Line::styled(
            format!(
                "buffering: {}[{}] reads but holds its output ({} B bursts): try stdbuf -oL, \
                 --line-buffered, python -u",
                escape(&b.name),
                b.pid,
                b.burst
            ),
            Style::new().fg(Color::Yellow),
        ));
    }
    f.render_widget(Paragraph::new(header), head);

    let rows = t.pipes.iter().map(|p| {
        let longest = p
            .writers
            .iter()
            .chain(&p.readers)
            .filter(|e| e.wait.is_some_and(|w| !w.is_zero()))
            .max_by_key(|e| e.wait);
        Row::new(vec![
            p.id(),
            rate(p.bytes(), t.elapsed),
            fill_text(p),
            ends_text(&p.writers),
            ends_text(&p.readers),
            longest
                .and_then(|e| Some(format!("{} {}", end_text(e), wait_share(e, t.elapsed)?)))
                .unwrap_or_default(),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Percentage(25),
            Constraint::Percentage(25),
            Constraint::Fill(1),
        ],
    )
    .header(
        Row::new(["PIPE", "RATE", "FILL", "WRITERS", "READERS", "LONGEST WAIT"])
            .style(Style::new().add_modifier(Modifier::BOLD)),
    )
    .block(Block::new().borders(Borders::TOP).title(" busiest pipes "));
    f.render_widget(table, pipes);

    let rows = t.waiting.iter().map(|e| {
        Row::new(vec![
            end_text(e),
            if e.writes { "writing" } else { "reading" }.to_string(),
            wait_share(e, t.elapsed).unwrap_or_default(),
            e.calls.map(|c| c.to_string()).unwrap_or_default(),
            e.pipe_id(),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(30),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Fill(1),
        ],
    )
    .header(
        Row::new(["END", "WAITING", "SHARE", "CALLS", "PIPE"])
            .style(Style::new().add_modifier(Modifier::BOLD)),
    )
    .block(Block::new().borders(Borders::TOP).title(" longest waits "));
    f.render_widget(table, waits);
}
