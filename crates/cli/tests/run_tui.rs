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

fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("tmux is not installed: skipping (scripts/test installs it)");
    }
    ok
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
    if !have_tmux() {
        return;
    }
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
    if !have_tmux() {
        return;
    }
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
    if !have_tmux() {
        return;
    }
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
