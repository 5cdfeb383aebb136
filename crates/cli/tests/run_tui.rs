//! The terminal UI in a real pseudo-terminal (tmux): it starts on the alternate screen
//! with the cursor hidden, draws stages and pipes, quits (`watch`) or detaches (`run`) on
//! `q`, and leaves the terminal as it found it: main screen, cursor shown, same stty modes.
#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, SLOW, wait_children};

/// A tmux server of our own, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, script: &Path) -> Option<Tmux> {
        let socket = format!("pipescope-test-{name}-{}", std::process::id());
        let ok = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x", "120", "-y", "40"])
            .arg(format!("sh {}", script.display()))
            .stdin(Stdio::null())
            .status()
            .ok()?
            .success();
        ok.then_some(Tmux { socket })
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// `alternate_on cursor_flag`: "1 0" while a full-screen UI runs, "0 1" after.
    fn modes(&self) -> String {
        self.tmux(&["display-message", "-p", "#{alternate_on} #{cursor_flag}"])
            .trim()
            .to_string()
    }

    fn wait_for(&self, what: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if what(&s) || Instant::now() > deadline {
                return s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

fn wait_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(s) = fs::read_to_string(path) {
            if s.ends_with('\n') {
                return s;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} never appeared", path.display());
}

/// These tests need tmux for a real pseudo-terminal: without it they fail (never pass
/// silently); `scripts/test` installs it.
fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tmux is not installed: the terminal UI cannot be tested (scripts/test installs it)"
    );
}

/// Writes the pane's script: record stty modes, run `pipescope ARGS "$(cat pipeline)"`
/// with stdout to /dev/null, record its status and the modes again, then linger.
fn script(dir: &Path, args: &str, pipeline: &str) -> std::path::PathBuf {
    fs::write(dir.join("pipeline"), pipeline).unwrap();
    let d = dir.display();
    let body = format!(
        "stty -g > {d}/before\n\
         {bin} {args} \"$(cat {d}/pipeline)\" > /dev/null\n\
         echo $? > {d}/status\n\
         stty -g > {d}/after\n\
         sleep 60\n",
        bin = BIN,
    );
    let path = dir.join("pane.sh");
    fs::write(&path, body).unwrap();
    path
}

#[test]
fn run_ui_starts_draws_detaches_on_q_and_restores_the_terminal() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = format!("head -c 6M /dev/zero | {SLOW} | cat");
    let pane = script(dir.path(), "run --", &pipeline);
    let tmux = Tmux::start("run", &pane).expect("tmux starts");

    // The screen may be caught mid-draw: wait for everything asserted on.
    let want = [
        "bottleneck",
        "/64K",
        "pipescope run",
        "1 head -c 6M",
        "q: detach",
    ];
    let screen = tmux.wait_for(|s| want.iter().all(|w| s.contains(w)));
    assert!(screen.contains("pipescope run"), "{screen}");
    assert!(screen.contains("1 head -c 6M"), "{screen}");
    assert!(screen.contains("pipe"), "{screen}");
    assert!(screen.contains("q: detach"), "{screen}");
    assert_eq!(tmux.modes(), "1 0", "alternate screen on, cursor hidden");

    tmux.tmux(&["send-keys", "q"]);
    // Detached: the UI is gone at once, the pipeline runs on to its end.
    let after_q = tmux.wait_for(|s| !s.contains("q: detach"));
    assert!(!after_q.contains("q: detach"), "{after_q}");
    assert_eq!(wait_file(&dir.path().join("status")), "0\n");
    assert_eq!(tmux.modes(), "0 1", "main screen back, cursor shown");
    let before = fs::read_to_string(dir.path().join("before")).unwrap();
    assert_eq!(
        wait_file(&dir.path().join("after")),
        before,
        "stty modes restored"
    );
    let screen = tmux.wait_for(|s| s.contains("bottleneck: "));
    assert!(screen.contains("bottleneck: stage 2 `perl"), "{screen}");
}

#[test]
fn watch_ui_quits_on_q_and_restores_the_terminal() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let mut sh = Command::new("sh")
        .args(["-c", &format!("head -c 20M /dev/zero | {SLOW} > /dev/null")])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let kids = wait_children(sh.id(), 2);
    assert_eq!(kids.len(), 2);
    let pane = script(dir.path(), "watch", &kids[1].to_string());
    let tmux = Tmux::start("watch", &pane).expect("tmux starts");
    let want = ["q: quit", "2 perl", "pipescope watch", "1 head -c 20M"];
    let screen = tmux.wait_for(|s| want.iter().all(|w| s.contains(w)));
    assert!(screen.contains("pipescope watch"), "{screen}");
    assert!(screen.contains("1 head -c 20M"), "{screen}");
    assert_eq!(tmux.modes(), "1 0");
    tmux.tmux(&["send-keys", "q"]);
    assert_eq!(wait_file(&dir.path().join("status")), "0\n");
    assert_eq!(tmux.modes(), "0 1");
    let before = fs::read_to_string(dir.path().join("before")).unwrap();
    assert_eq!(wait_file(&dir.path().join("after")), before);
    for pid in kids {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    let _ = sh.wait();
}

#[test]
fn ctrl_c_in_the_run_ui_interrupts_the_pipeline_and_restores_the_terminal() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = format!("head -c 200M /dev/zero | {SLOW} | cat");
    let pane = script(dir.path(), "run --", &pipeline);
    let tmux = Tmux::start("ctrlc", &pane).expect("tmux starts");
    // The screen may be caught mid-draw: wait for everything asserted on.
    let screen = tmux.wait_for(|s| s.contains("/64K") && s.contains("Ctrl-C: interrupt"));
    assert!(screen.contains("Ctrl-C: interrupt"), "{screen}");
    tmux.tmux(&["send-keys", "C-c"]);
    // The stages got SIGINT (raw mode had swallowed it), so the status is 128 + 2.
    assert_eq!(wait_file(&dir.path().join("status")), "130\n");
    assert_eq!(tmux.modes(), "0 1");
    let before = fs::read_to_string(dir.path().join("before")).unwrap();
    assert_eq!(wait_file(&dir.path().join("after")), before);
}

/// The pid of pipescope, the only child of the pane's shell.
fn pane_pipescope(tmux: &Tmux) -> u32 {
    let shell: u32 = tmux
        .tmux(&["display-message", "-p", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    common::until("pipescope in the pane", || {
        common::children(shell)
            .into_iter()
            .find(|&p| common::comm(p) == "pipescope")
    })
}

#[test]
fn a_huge_terminal_neither_aborts_nor_leaves_the_terminal_raw() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    // The tty says 65535 x 65535 (a cell buffer of that size would be ~200 GB).
    let body = format!(
        "stty -g > {d}/before\n\
         stty rows 65535 cols 65535\n\
         {bin} run -- 'sleep 2' > /dev/null\n\
         echo $? > {d}/status\n\
         stty -g > {d}/after\n\
         stty rows 40 cols 120\n\
         sleep 60\n",
        bin = env!("CARGO_BIN_EXE_pipescope"),
    );
    let pane = dir.path().join("pane.sh");
    fs::write(&pane, body).unwrap();
    let tmux = Tmux::start("huge", &pane).expect("tmux starts");
    let pid = pane_pipescope(&tmux);
    common::until("the UI to start", || (tmux.modes() == "1 0").then_some(()));
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    assert!(
        peak_kib < 100 * 1024,
        "peak RSS {peak_kib} KiB on a 65535x65535 terminal"
    );

    assert_eq!(wait_file(&dir.path().join("status")), "0\n");
    assert_eq!(tmux.modes(), "0 1", "main screen back, cursor shown");
    let before = fs::read_to_string(dir.path().join("before")).unwrap();
    assert_eq!(
        wait_file(&dir.path().join("after")),
        before,
        "stty modes restored"
    );
    let screen = tmux.wait_for(|s| s.contains("bottleneck: "));
    assert!(screen.contains("pipescope run: `sleep 2`"), "{screen}");
    assert!(!screen.contains("memory allocation"), "{screen}");
}

#[test]
fn sigterm_to_the_run_ui_ends_the_pipeline_restores_the_terminal_and_reports() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    // stdin is the terminal here: the pipeline shares pipescope's process group, and the
    // signal is passed on to the shell and each stage.
    let pane = script(
        dir.path(),
        "run --",
        "sleep 100 | sh -c 'sleep 100; :' | cat",
    );
    let tmux = Tmux::start("sigterm", &pane).expect("tmux starts");
    let pid = pane_pipescope(&tmux);
    let screen = tmux.wait_for(|s| s.contains("q: detach") && s.contains("3 cat"));
    assert!(screen.contains("3 cat"), "{screen}");
    let pids = common::until("the pipeline's five processes", || {
        let d = common::descendants(pid);
        (d.len() == 5).then_some(d)
    });

    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    assert_eq!(wait_file(&dir.path().join("status")), "143\n");
    assert_eq!(tmux.modes(), "0 1", "main screen back, cursor shown");
    let before = fs::read_to_string(dir.path().join("before")).unwrap();
    assert_eq!(
        wait_file(&dir.path().join("after")),
        before,
        "stty modes restored"
    );
    let screen = tmux.wait_for(|s| s.contains("bottleneck: "));
    assert!(
        screen.contains("exit status 143 (SIGTERM passed on"),
        "{screen}"
    );
    // Well before the pane's shell ends (and its terminal hangs up on what is left).
    let deadline = Instant::now() + Duration::from_secs(15);
    for p in pids {
        while !common::gone(p) {
            assert!(
                Instant::now() < deadline,
                "pid {p} ({}) left running",
                common::comm(p)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn closing_the_terminal_ends_the_run_ui_and_its_pipeline() {
    require_tmux();
    let dir = tempfile::tempdir().unwrap();
    let pane = script(dir.path(), "run --", "sleep 100 | cat");
    let tmux = Tmux::start("hangup", &pane).expect("tmux starts");
    let pid = pane_pipescope(&tmux);
    let screen = tmux.wait_for(|s| s.contains("q: detach") && s.contains("2 cat"));
    assert!(screen.contains("2 cat"), "{screen}");
    let mut pids = common::until("the pipeline's processes", || {
        let d = common::descendants(pid);
        (d.len() >= 3).then_some(d)
    });
    pids.push(pid);

    // The window closes: the terminal hangs up under the running UI. (crossterm's own
    // poll spins forever on a hung-up tty; pipescope used to wait for it, at full CPU.)
    let _ = tmux.tmux(&["kill-server"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    for p in pids {
        while !common::gone(p) {
            assert!(
                Instant::now() < deadline,
                "pid {p} ({}) still running after its terminal hung up",
                common::comm(p)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
