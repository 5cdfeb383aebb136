//! The terminal UI of `run` and `watch`, drawn on stderr: stages left to right, each pipe
//! between them a bar of its fill against its capacity, a throughput sparkline per stage,
//! the bottleneck highlighted, a table of totals and the verdict. Stages that do not fit
//! are scrolled (Left/Right; by default the window follows the bottleneck).
//!
//! The terminal's size comes from outside and is clamped before anything is allocated
//! from it; the terminal is put back (main screen, cooked mode, cursor shown) by
//! [`Tui::finish`], on drop, and by a panic hook. An input thread turns keys into
//! [`Input`]s handed to the driver.

use std::io::{self, BufWriter, Stderr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Sparkline, Wrap};
use ratatui::{Terminal, TerminalOptions, Viewport};

use pipescope_core::sample::{StageReport, StageState, VerdictKind};

use super::format::{command, escaped, fill, known, pct, state_word};
use super::state::State;

/// The largest screen drawn: a bigger terminal (its size is whatever the tty says, up to
/// 65535 × 65535) gets the UI in its top-left corner, so the screen buffers stay small.
const MAX_WIDTH: u16 = 500;
/// See [`MAX_WIDTH`].
const MAX_HEIGHT: u16 = 200;
/// Narrowest stage box; stages beyond what fits are scrolled.
const MIN_BOX: u16 = 18;

/// What the user asked for at the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// `q` or Esc: quit (`watch`) or detach (`run`).
    Quit,
    /// Ctrl-C (raw mode keeps the terminal from sending SIGINT).
    Interrupt,
    /// The terminal changed size, or the user scrolled: draw again.
    Redraw,
    /// Another character key (views with keys of their own, like `top`'s `s`).
    Key(char),
}

/// Which stages the UI shows when they do not all fit, shared by the key thread (which
/// moves it) and the drawing (which clamps it to what exists).
#[derive(Debug)]
struct Scroll {
    /// The first stage asked for, or `FOLLOW` to keep the bottleneck in view.
    wanted: AtomicUsize,
    /// The first stage drawn last time.
    shown: AtomicUsize,
}

impl Scroll {
    const FOLLOW: usize = usize::MAX;

    fn new() -> Scroll {
        Scroll {
            wanted: AtomicUsize::new(Self::FOLLOW),
            shown: AtomicUsize::new(0),
        }
    }

    fn wanted(&self) -> Option<usize> {
        Some(self.wanted.load(Ordering::Relaxed)).filter(|&v| v != Self::FOLLOW)
    }

    fn set(&self, first: usize) {
        self.wanted.store(first, Ordering::Relaxed);
    }

    /// Moves the window `by` stages from where it was drawn.
    fn by(&self, by: isize) {
        let at = self.shown.load(Ordering::Relaxed);
        self.set(at.saturating_add_signed(by).min(Self::FOLLOW - 1));
    }
}

/// The running terminal UI.
pub struct Tui {
    /// Buffered: stderr is not, and a frame is many small writes.
    terminal: Terminal<CrosstermBackend<BufWriter<Stderr>>>,
    stop: Arc<AtomicBool>,
    scroll: Arc<Scroll>,
    input: Option<JoinHandle<()>>,
    active: bool,
}

impl std::fmt::Debug for Tui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tui").field("active", &self.active).finish()
    }
}

/// Whether we hold the terminal (raw mode, alternate screen), for the panic hook.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back, if we hold it: main screen, cooked mode, cursor shown.
fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        let _ = execute!(io::stderr(), terminal::LeaveAlternateScreen, cursor::Show);
        let _ = terminal::disable_raw_mode();
    }
}

/// The screen area to draw on for a terminal of `width` × `height`, clamped.
fn screen(width: u16, height: u16) -> Rect {
    Rect::new(0, 0, width.min(MAX_WIDTH), height.min(MAX_HEIGHT))
}

/// The terminal's size, clamped; 80 × 24 when it cannot be read.
fn screen_now() -> Rect {
    let (w, h) = terminal::size().unwrap_or((80, 24));
    screen(w, h)
}

impl Tui {
    /// Takes over the terminal and starts reading keys; each is handed to `on_input`,
    /// which returns false when nobody listens any more.
    pub fn start(on_input: impl FnMut(Input) -> bool + Send + 'static) -> anyhow::Result<Tui> {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        terminal::enable_raw_mode()?;
        TAKEN.store(true, Ordering::SeqCst);
        let options = TerminalOptions {
            viewport: Viewport::Fixed(screen_now()),
        };
        let terminal = execute!(io::stderr(), terminal::EnterAlternateScreen, cursor::Hide)
            .and_then(|()| {
                Terminal::with_options(CrosstermBackend::new(BufWriter::new(io::stderr())), options)
            });
        let terminal = match terminal {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e.into());
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let scroll = Arc::new(Scroll::new());
        let input = {
            let (stop, scroll) = (stop.clone(), scroll.clone());
            thread::Builder::new()
                .name("keys".into())
                .spawn(move || read_keys(on_input, &stop, &scroll))
        };
        let input = match input {
            Ok(h) => h,
            Err(e) => {
                restore();
                return Err(e.into());
            }
        };
        Ok(Tui {
            terminal,
            stop,
            scroll,
            input: Some(input),
            active: true,
        })
    }

    /// Draws the state, on the terminal's current (clamped) size.
    pub fn draw(&mut self, state: &State) -> io::Result<()> {
        let wanted = self.scroll.wanted();
        let mut shown = None;
        self.draw_with(|f| shown = Some(render(f, state, wanted)))?;
        if let Some(first) = shown {
            self.scroll.shown.store(first, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Draws a frame with `render` (views other than the pipeline's, like `top`), on the
    /// terminal's current (clamped) size.
    pub fn draw_with(&mut self, render: impl FnOnce(&mut ratatui::Frame<'_>)) -> io::Result<()> {
        if !self.active {
            return Ok(());
        }
        let area = screen_now();
        if area != self.terminal.get_frame().area() {
            self.terminal.resize(area)?;
        }
        self.terminal.draw(render)?;
        Ok(())
    }

    /// Stops reading keys and gives the terminal back as it was.
    pub fn finish(&mut self) {
        if !self.active {
            return;
        }
        self.active = false;
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.input.take() {
            // The key reader sees `stop` within its 50 ms poll, except when the terminal
            // has hung up: crossterm's poll then spins on the dead tty and never returns.
            // Wait a moment, then leave it behind (it ends with the process) rather than
            // hang the report and the exit on it.
            let deadline = std::time::Instant::now() + Duration::from_millis(300);
            while !h.is_finished() && std::time::Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
        restore();
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        self.finish();
    }
}

/// What the terminal has for the key reader within a timeout.
#[cfg_attr(
    not(unix),
    expect(dead_code, reason = "only Unix polls the terminal itself")
)]
enum TerminalInput {
    /// Nothing yet.
    Quiet,
    /// Input to read: ask crossterm with this timeout.
    Ready(Duration),
    /// The terminal hung up (its window or session closed).
    HungUp,
}

/// Waits up to `timeout` for input on the terminal. On Unix the reader polls the tty
/// itself first: crossterm's own poll spins forever, never returning, on a tty that hung
/// up, which would keep pipescope from ever ending.
#[cfg(unix)]
fn terminal_input(timeout: Duration) -> TerminalInput {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use std::os::fd::AsFd;

    let (stdin, stderr) = (io::stdin(), io::stderr());
    // crossterm reads stdin when it is a terminal, else the controlling terminal, which
    // is the one the view draws on (stderr).
    let fd = if rustix::termios::isatty(&stdin) {
        stdin.as_fd()
    } else {
        stderr.as_fd()
    };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let ts = Timespec {
        tv_sec: 0,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    match poll(&mut fds, Some(&ts)) {
        Ok(0) => TerminalInput::Quiet,
        Ok(_) => {
            let r = fds[0].revents();
            if r.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
                TerminalInput::HungUp
            } else {
                TerminalInput::Ready(Duration::ZERO)
            }
        }
        Err(rustix::io::Errno::INTR) => TerminalInput::Quiet,
        Err(_) => TerminalInput::HungUp,
    }
}

/// Elsewhere crossterm's poll waits itself.
#[cfg(not(unix))]
fn terminal_input(timeout: Duration) -> TerminalInput {
    TerminalInput::Ready(timeout)
}

fn read_keys(mut on_input: impl FnMut(Input) -> bool, stop: &AtomicBool, scroll: &Scroll) {
    // Whether crossterm may hold events it read but did not hand out yet.
    let mut pending = false;
    while !stop.load(Ordering::Relaxed) {
        let wait = if pending {
            Duration::ZERO
        } else {
            match terminal_input(Duration::from_millis(50)) {
                TerminalInput::HungUp => return,
                TerminalInput::Quiet => continue,
                TerminalInput::Ready(wait) => wait,
            }
        };
        match event::poll(wait) {
            Ok(true) => pending = true,
            Ok(false) => {
                pending = false;
                continue;
            }
            Err(_) => return,
        }
        let ev = match event::read() {
            Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    Input::Interrupt
                }
                KeyCode::Char('q' | 'Q') | KeyCode::Esc => Input::Quit,
                KeyCode::Left | KeyCode::Char('h') => {
                    scroll.by(-1);
                    Input::Redraw
                }
                KeyCode::Right | KeyCode::Char('l') => {
                    scroll.by(1);
                    Input::Redraw
                }
                KeyCode::Home => {
                    scroll.set(0);
                    Input::Redraw
                }
                KeyCode::Char('b') => {
                    scroll.set(Scroll::FOLLOW);
                    Input::Redraw
                }
                KeyCode::Char(c) => Input::Key(c),
                _ => continue,
            },
            Ok(TermEvent::Resize(..)) => Input::Redraw,
            Ok(_) => continue,
            Err(_) => return,
        };
        if !on_input(ev) {
            return;
        }
    }
}

fn state_style(s: StageState) -> Style {
    match s {
        StageState::Running => Style::new().fg(Color::Green),
        StageState::Waiting => Style::new().fg(Color::Cyan),
        StageState::BlockedRead | StageState::BlockedWrite => Style::new().fg(Color::DarkGray),
        StageState::Stopped => Style::new().fg(Color::Yellow),
        StageState::Exited | StageState::Unseen => Style::new().fg(Color::DarkGray),
    }
}

/// The stages shown: `count` of them from `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    first: usize,
    count: usize,
}

impl Window {
    /// `fit` of `n` stages from `wanted`, or around the bottleneck `hot` when nothing is
    /// wanted, kept within the stages.
    fn new(n: usize, fit: usize, wanted: Option<usize>, hot: Option<usize>) -> Window {
        let count = fit.clamp(1, n.max(1)).min(n);
        let last_first = n - count;
        let first = match wanted {
            Some(w) => w.min(last_first),
            None => hot.map_or(0, |b| b.saturating_sub(count / 2).min(last_first)),
        };
        Window { first, count }
    }

    fn range(self) -> std::ops::Range<usize> {
        self.first..self.first + self.count
    }
}

/// Draws the whole screen; returns the first stage shown.
fn render(f: &mut ratatui::Frame<'_>, state: &State, wanted: Option<usize>) -> usize {
    let n = state.report.stages.len();
    let area = f.area();
    // Stage boxes get what the totals table (up to 8 rows here), the verdict and the key
    // help leave, 10 to 16 rows; the table gets the rest.
    let table_rows = u16::try_from(n.min(8)).unwrap_or(8);
    let body_h = area
        .height
        .saturating_sub(1 + table_rows + 2 + 3 + 1)
        .clamp(10, 16);
    let mut rest = area;
    let head = top(&mut rest, 1);
    let foot = bottom(&mut rest, 1);
    let verdict = bottom(&mut rest, 3);
    let body = top(&mut rest, body_h);
    let table = rest;

    // How many stage boxes fit side by side, with a pipe between each two.
    let pipe_w: u16 = if area.width >= 100 { 11 } else { 7 };
    let fit = usize::from((body.width + pipe_w) / (MIN_BOX + pipe_w)).max(1);
    let window = Window::new(n, fit, wanted, state.report.bottleneck.stage);

    let mut title = vec![
        Span::styled(
            format!("pipescope {} ", state.setup.verb),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(command(
            &state.setup.command,
            usize::from(head.width).saturating_sub(60).max(10),
        )),
        Span::styled(
            format!(
                "   {:.1}s  every {}ms",
                state.elapsed(),
                state.setup.interval.as_millis()
            ),
            Style::new().fg(Color::DarkGray),
        ),
    ];
    if window.count < n {
        title.push(Span::styled(
            format!(
                "   stages {}–{} of {n}",
                window.first + 1,
                window.first + window.count
            ),
            Style::new().fg(Color::Yellow),
        ));
    }
    title.push(Span::styled(
        match state.setup.source {
            pipescope_core::flow::FlowSource::Probe => "   exact (eBPF)",
            pipescope_core::flow::FlowSource::Sampling => "   estimates",
        },
        Style::new().fg(Color::DarkGray),
    ));
    f.render_widget(Paragraph::new(Line::from(title)), head);

    if n == 0 {
        f.render_widget(Paragraph::new("looking for the pipeline's stages…"), body);
    } else {
        // Boxes share what the pipes leave; the first ones take the odd columns.
        let k = window.count as u16;
        let boxes_w = body.width.saturating_sub(pipe_w * (k - 1));
        let (each, extra) = (boxes_w / k, boxes_w % k);
        let mut x = body.x;
        for (j, i) in window.range().enumerate() {
            let j = j as u16;
            if j > 0 {
                let w = pipe_w.min(body.right().saturating_sub(x));
                render_pipe(f, Rect::new(x, body.y, w, body.height), state, i);
                x += w;
            }
            let w = (each + u16::from(j < extra)).min(body.right().saturating_sub(x));
            let st = &state.report.stages[i];
            render_stage(f, Rect::new(x, body.y, w, body.height), state, i, st);
            x += w;
        }
    }

    render_totals(f, table, state, window);

    let v = &state.report.bottleneck;
    let bottleneck = v.stage.is_some() || !v.findings.is_empty();
    f.render_widget(
        Paragraph::new({
            let mut text = escaped(&state.report.bottleneck.reason);
            // A stage holding its output in a buffer explains a stalled pipeline first.
            for b in state.last.iter().flat_map(|s| &s.buffering).take(1) {
                text = format!(
                    "{} [{}] is buffering its output: try stdbuf -oL, --line-buffered, python \
                     -u. {text}",
                    escaped(&b.name),
                    b.pid
                );
            }
            text
        })
        .wrap(Wrap { trim: true })
        .style(if bottleneck {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        })
        .block(
            Block::new()
                .borders(Borders::TOP)
                .title(if v.findings.is_empty() {
                    " bottleneck "
                } else if v.kind == VerdictKind::Deadlock {
                    " deadlock "
                } else {
                    " stuck "
                }),
        ),
        verdict,
    );
    let mut keys = if state.setup.verb == "run" {
        "q: detach (the pipeline runs on)   Ctrl-C: interrupt the pipeline".to_string()
    } else {
        "q: quit".to_string()
    };
    if window.count < n {
        keys.push_str("   ←/→: scroll   b: follow the bottleneck");
    }
    f.render_widget(
        Paragraph::new(keys).style(Style::new().fg(Color::DarkGray)),
        foot,
    );
    window.first
}

/// Totals so far, one row per stage, with whole commands: the stages in the window
/// first, then those after it, as many as there are rows.
fn render_totals(f: &mut ratatui::Frame<'_>, area: Rect, state: &State, window: Window) {
    if area.height < 2 {
        return;
    }
    let n = state.report.stages.len();
    let rows = usize::from(area.height - 2);
    let first = window.first.min(n.saturating_sub(rows));
    let header = Line::styled(
        format!(
            "{:>3} {:>7} {:>6} {:>6} {:>9} {:>5} {:>4} {:>4} {:>4} {:>5} command",
            "#", "pid", "in", "out", "avg out/s", "cpu", "run", "own", "read", "write"
        ),
        Style::new().add_modifier(Modifier::BOLD),
    );
    let shown = state
        .report
        .stages
        .iter()
        .enumerate()
        .skip(first)
        .take(rows);
    let lines = std::iter::once(header).chain(shown.map(|(i, s)| {
        let text = format!(
            "{:>3} {:>7} {:>6} {:>6} {:>9} {:>5} {:>4} {:>4} {:>4} {:>5} {}",
            i + 1,
            s.pid.map_or_else(|| "-".into(), |p| p.to_string()),
            known(s.bytes_in),
            known(s.bytes_out),
            format!("{}/s", known(s.throughput_out)),
            format!("{:.0}%", s.cpu_percent),
            pct(s.running),
            pct(s.waiting),
            pct(s.blocked_read),
            pct(s.blocked_write),
            command(&s.command, usize::from(area.width)),
        );
        if state.report.bottleneck.stage == Some(i) {
            Line::styled(text, Style::new().fg(Color::Red))
        } else {
            Line::raw(text)
        }
    }));
    let title = if rows < n {
        format!(
            " totals (stages {}–{} of {n}) ",
            first + 1,
            (first + rows).min(n)
        )
    } else {
        " totals ".to_string()
    };
    f.render_widget(
        Paragraph::new(lines.collect::<Vec<_>>())
            .block(Block::new().borders(Borders::TOP).title(title)),
        area,
    );
}

/// Takes the top `h` rows (or what there is) off `area`.
fn top(area: &mut Rect, h: u16) -> Rect {
    let h = h.min(area.height);
    let taken = Rect { height: h, ..*area };
    area.y += h;
    area.height -= h;
    taken
}

/// Takes the bottom `h` rows (or what there is) off `area`.
fn bottom(area: &mut Rect, h: u16) -> Rect {
    let h = h.min(area.height);
    area.height -= h;
    Rect {
        y: area.y + area.height,
        height: h,
        ..*area
    }
}

fn render_stage(f: &mut ratatui::Frame<'_>, area: Rect, state: &State, i: usize, st: &StageReport) {
    let hot = state.report.bottleneck.stage == Some(i);
    let border = if hot {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    let width = area.width.saturating_sub(4) as usize;
    let title = format!(
        " {} {} ",
        i + 1,
        command(&st.command, width.saturating_sub(3))
    );
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(border)
        .title(title);
    if hot {
        block = block.title_bottom(" bottleneck ");
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut spark = inner;
    let text = top(&mut spark, 6);
    let lines = vec![
        Line::from(match st.pid {
            Some(pid) => format!("pid {pid}"),
            None => "pid -".to_string(),
        }),
        Line::from(Span::styled(state_word(st.state), state_style(st.state))),
        Line::from(format!("out {}/s", known(st.rate_out))),
        Line::from(format!("cpu {:.0}%", st.cpu_percent)),
        Line::from(format!("run {} own {}", pct(st.running), pct(st.waiting))),
        Line::from(format!(
            "rd {} wr {}",
            pct(st.blocked_read),
            pct(st.blocked_write)
        )),
    ];
    f.render_widget(Paragraph::new(lines), text);
    let data: Vec<u64> = st
        .history_out
        .iter()
        .rev()
        .take(spark.width as usize)
        .rev()
        .copied()
        .collect();
    f.render_widget(
        Sparkline::default()
            .data(&data)
            .style(Style::new().fg(if hot { Color::Red } else { Color::Blue })),
        spark,
    );
}

fn render_pipe(f: &mut ratatui::Frame<'_>, area: Rect, state: &State, reader: usize) {
    let Some(k) = state.input_pipe(reader) else {
        f.render_widget(Paragraph::new("\n\n  (no pipe)"), area);
        return;
    };
    let mut why = area;
    top(&mut why, 2);
    let label = top(&mut why, 1);
    let bar = top(&mut why, 1);
    f.render_widget(Paragraph::new(" pipe ──▶"), label);
    let sample = state.pipe_sample(k);
    match sample.map(|p| (&p.fill, p.capacity)) {
        Some((Ok(bytes), Some(cap))) if cap > 0 => {
            let ratio = (*bytes as f64 / cap as f64).clamp(0.0, 1.0);
            let color = if ratio >= 0.875 {
                Color::Red
            } else if ratio < 0.125 {
                Color::DarkGray
            } else {
                Color::Yellow
            };
            f.render_widget(
                Gauge::default()
                    .ratio(ratio)
                    .label(fill(sample))
                    .gauge_style(Style::new().fg(color)),
                bar,
            );
        }
        Some((Err(why_missing), _)) => {
            f.render_widget(Paragraph::new(" fill ?"), bar);
            f.render_widget(
                Paragraph::new(why_missing.to_string())
                    .wrap(Wrap { trim: true })
                    .style(Style::new().fg(Color::DarkGray)),
                why,
            );
        }
        _ => f.render_widget(Paragraph::new(format!(" {}", fill(sample))), bar),
    }
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;

    use super::super::state::example;
    use super::*;

    fn state() -> State {
        example::state(3)
    }

    fn draw(state: &State, w: u16, h: u16) -> ratatui::buffer::Buffer {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| {
            render(f, state, None);
        })
        .unwrap();
        t.backend().buffer().clone()
    }

    fn text(buf: &ratatui::buffer::Buffer) -> String {
        let area = buf.area;
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    }

    #[test]
    fn draws_stages_left_to_right_with_pipes_and_the_bottleneck_in_red() {
        let state = state();
        assert_eq!(state.report.bottleneck.stage, Some(1));
        let buf = draw(&state, 120, 30);
        let screen = text(&buf);
        let line = screen.lines().nth(1).unwrap();
        let (a, b, c) = (line.find("1 src"), line.find("2 slow"), line.find("3 sink"));
        assert!(a < b && b < c && a.is_some(), "{screen}");
        assert!(screen.contains("64K/64K"), "{screen}");
        assert!(
            screen.contains("denied"),
            "the missing fill says why: {screen}"
        );
        assert!(screen.contains("slow\\x1b[2J"), "escaped: {screen}");
        assert!(!screen.contains('\x1b'), "{screen}");
        assert!(screen.contains("stage 2 `slow"), "{screen}");
        // The bottleneck's box is drawn in red, the others are not.
        let x = u16::try_from(line.chars().position(|ch| ch == '┌').unwrap()).unwrap();
        assert_ne!(buf[(x, 1)].fg, Color::Red);
        let boxes: Vec<usize> = line
            .chars()
            .enumerate()
            .filter(|(_, ch)| *ch == '┌')
            .map(|(i, _)| i)
            .collect();
        assert_eq!(boxes.len(), 3);
        assert_eq!(buf[(u16::try_from(boxes[1]).unwrap(), 1)].fg, Color::Red);
        assert_ne!(buf[(u16::try_from(boxes[2]).unwrap(), 1)].fg, Color::Red);
    }

    #[test]
    fn a_tiny_terminal_does_not_panic() {
        let state = state();
        for (w, h) in [(1, 1), (20, 5), (40, 12), (300, 3)] {
            draw(&state, w, h);
        }
    }

    #[test]
    fn many_stages_are_scrolled_with_the_bottleneck_in_view() {
        let state = example::state(50);
        let screen = text(&draw(&state, 120, 40));
        assert!(screen.contains("stages 1–4 of 50"), "{screen}");
        assert!(screen.contains("2 slow"), "{screen}");
        assert!(screen.contains("←/→: scroll"), "{screen}");
        assert!(screen.contains("totals (stages 1–"), "{screen}");
        assert_eq!(screen.lines().count(), 40);

        // Scrolled to the end: the last stage is shown, the window ends at stage 50.
        let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let mut first = 0;
        t.draw(|f| first = render(f, &state, Some(1000))).unwrap();
        assert_eq!(first, 46);
        let screen = text(t.backend().buffer());
        assert!(screen.contains("stages 47–50 of 50"), "{screen}");
        assert!(screen.contains("50 sink"), "{screen}");
    }

    #[test]
    fn windows_stay_within_the_stages() {
        assert_eq!(
            Window::new(3, 5, None, Some(1)),
            Window { first: 0, count: 3 }
        );
        assert_eq!(
            Window::new(50, 5, None, Some(1)),
            Window { first: 0, count: 5 }
        );
        assert_eq!(
            Window::new(50, 5, None, Some(30)),
            Window {
                first: 28,
                count: 5
            }
        );
        assert_eq!(
            Window::new(50, 5, None, Some(49)),
            Window {
                first: 45,
                count: 5
            }
        );
        assert_eq!(
            Window::new(50, 5, Some(7), Some(49)),
            Window { first: 7, count: 5 }
        );
        assert_eq!(
            Window::new(50, 0, Some(usize::MAX), None),
            Window {
                first: 49,
                count: 1
            }
        );
        assert_eq!(Window::new(0, 5, None, None), Window { first: 0, count: 0 });
    }

    #[test]
    fn a_huge_terminal_is_clamped_before_anything_is_allocated() {
        assert_eq!(screen(65535, 65535), Rect::new(0, 0, MAX_WIDTH, MAX_HEIGHT));
        assert_eq!(screen(120, 40), Rect::new(0, 0, 120, 40));
        // The largest screen drawn, with many stages, draws.
        let state = example::state(150);
        let screen = text(&draw(&state, MAX_WIDTH, MAX_HEIGHT));
        assert!(screen.contains("of 150"), "{screen}");
    }
}
