//! The terminal UI of `run` and `watch`, drawn on stderr: stages left to right, each pipe
//! between them a bar of its fill against its capacity, a throughput sparkline per stage,
//! the bottleneck highlighted. An input thread turns keys into [`Input`]s handed to the
//! driver; a panic hook puts the terminal back before the panic message is printed.

use std::io::{self, Stderr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Row, Sparkline, Table, Wrap};

use pipescope_core::sample::{StageReport, StageState, VerdictKind};

use super::format::{command, escaped, fill, known, pct, state_word};
use super::state::State;

/// What the user asked for at the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// `q` or Esc: quit (`watch`) or detach (`run`).
    Quit,
    /// Ctrl-C (raw mode keeps the terminal from sending SIGINT).
    Interrupt,
    /// The terminal changed size.
    Resize,
    /// Another character key (views with keys of their own, like `top`'s `s`).
    Key(char),
}

/// The running terminal UI.
pub struct Tui {
    terminal: Terminal<CrosstermBackend<Stderr>>,
    stop: Arc<AtomicBool>,
    input: Option<JoinHandle<()>>,
    active: bool,
}

impl std::fmt::Debug for Tui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tui").field("active", &self.active).finish()
    }
}

/// Puts the terminal back: main screen, cooked mode, cursor shown.
fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stderr(), terminal::LeaveAlternateScreen, cursor::Show);
}

impl Tui {
    /// Takes over the terminal and starts reading keys; each is handed to `on_input`,
    /// which returns false when nobody listens any more.
    pub fn start(on_input: impl FnMut(Input) -> bool + Send + 'static) -> anyhow::Result<Tui> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        terminal::enable_raw_mode()?;
        if let Err(e) = execute!(io::stderr(), terminal::EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e.into());
        }
        let terminal = match Terminal::new(CrosstermBackend::new(io::stderr())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e.into());
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let input = {
            let stop = stop.clone();
            thread::Builder::new()
                .name("keys".into())
                .spawn(move || read_keys(on_input, &stop))?
        };
        Ok(Tui {
            terminal,
            stop,
            input: Some(input),
            active: true,
        })
    }

    /// Draws the state.
    pub fn draw(&mut self, state: &State) -> io::Result<()> {
        if !self.active {
            return Ok(());
        }
        self.terminal.draw(|f| render(f, state))?;
        Ok(())
    }

    /// Draws a frame with `render` (views other than the pipeline's, like `top`).
    pub fn draw_with(&mut self, render: impl FnOnce(&mut ratatui::Frame<'_>)) -> io::Result<()> {
        if !self.active {
            return Ok(());
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
            let _ = h.join();
        }
        restore();
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        self.finish();
    }
}

fn read_keys(mut on_input: impl FnMut(Input) -> bool, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match event::poll(Duration::from_millis(50)) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(_) => return,
        }
        let ev = match event::read() {
            Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    Input::Interrupt
                }
                KeyCode::Char('q' | 'Q') | KeyCode::Esc => Input::Quit,
                KeyCode::Char(c) => Input::Key(c),
                _ => continue,
            },
            Ok(TermEvent::Resize(..)) => Input::Resize,
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

fn render(f: &mut ratatui::Frame<'_>, state: &State) {
    let n = state.report.stages.len();
    // Stage boxes get what the totals table, verdict and key help leave, 10 to 16 rows.
    let rows = f.area().height;
    let table_h = n as u16 + 2;
    let body_h = rows.saturating_sub(1 + table_h + 3 + 1).clamp(10, 16);
    let [head, body, table, verdict, _, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(body_h),
        Constraint::Length(table_h),
        Constraint::Length(3),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(f.area());

    let elapsed = state.elapsed();
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!("pipescope {} ", state.setup.verb),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(command(
                &state.setup.command,
                usize::from(head.width).saturating_sub(40).max(10),
            )),
            Span::styled(
                format!(
                    "   {elapsed:.1}s  every {}ms",
                    state.setup.interval.as_millis()
                ),
                Style::new().fg(Color::DarkGray),
            ),
        ])),
        head,
    );

    if n == 0 {
        f.render_widget(Paragraph::new("looking for the pipeline's stages…"), body);
    } else {
        // Pipes get 13 columns, fewer when many stages share a narrow terminal.
        let spare = body.width.saturating_sub(12 * n as u16) / (n.max(2) as u16 - 1);
        let pipe_w = spare.clamp(7, 13);
        let mut cons = Vec::with_capacity(2 * n);
        for i in 0..n {
            if i > 0 {
                cons.push(Constraint::Length(pipe_w));
            }
            cons.push(Constraint::Fill(1));
        }
        let cols = Layout::horizontal(cons).split(body);
        for (i, st) in state.report.stages.iter().enumerate() {
            render_stage(f, cols[2 * i], state, i, st);
            if i > 0 {
                render_pipe(f, cols[2 * i - 1], state, i);
            }
        }
    }

    render_totals(f, table, state);

    let v = &state.report.bottleneck;
    let bottleneck = v.stage.is_some() || !v.findings.is_empty();
    f.render_widget(
        Paragraph::new(escaped(&state.report.bottleneck.reason))
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
    let keys = if state.setup.verb == "run" {
        "q: detach (the pipeline runs on)   Ctrl-C: interrupt the pipeline"
    } else {
        "q: quit"
    };
    f.render_widget(
        Paragraph::new(keys).style(Style::new().fg(Color::DarkGray)),
        foot,
    );
}

/// Totals so far, one row per stage, with whole commands.
fn render_totals(f: &mut ratatui::Frame<'_>, area: Rect, state: &State) {
    if area.height < 2 {
        return;
    }
    let header = Row::new([
        "#",
        "pid",
        "in",
        "out",
        "avg out/s",
        "cpu",
        "run",
        "own",
        "read",
        "write",
        "command",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    let rows = state.report.stages.iter().enumerate().map(|(i, s)| {
        let row = Row::new([
            (i + 1).to_string(),
            s.pid.map_or_else(|| "-".into(), |p| p.to_string()),
            known(s.bytes_in),
            known(s.bytes_out),
            format!("{}/s", known(s.throughput_out)),
            format!("{:.0}%", s.cpu_percent),
            pct(s.running),
            pct(s.waiting),
            pct(s.blocked_read),
            pct(s.blocked_write),
            escaped(&s.command),
        ]);
        if state.report.bottleneck.stage == Some(i) {
            row.style(Style::new().fg(Color::Red))
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(2),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(5),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::new().borders(Borders::TOP).title(" totals ")),
        area,
    );
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
    let [text, spark] = Layout::vertical([Constraint::Length(6), Constraint::Min(1)]).areas(inner);
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
    let [_, label, bar, why] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
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
        t.draw(|f| render(f, state)).unwrap();
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
}
