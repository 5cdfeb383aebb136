//! What every integration test shares: running the real binary, reading its JSON back,
//! checking the one-line error contract, and starting and waiting for real processes.
//!
//! Each test file is its own crate and uses only part of this module, hence the allow.
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod farm;

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_pipescope");

/// A pipeline stage that copies stdin to stdout 4 KiB at a time, sleeping 2 ms after each
/// block: about 2 MB/s, far slower than `head` or `cat`.
pub const SLOW: &str = "perl -e 'while (sysread(STDIN, $b, 4096)) { syswrite(STDOUT, $b); \
                        select(undef, undef, undef, 0.002) }'";

/// `pipescope` as an `assert_cmd` command: `output()`, `timeout()`, `write_stdin()`.
pub fn pipescope() -> assert_cmd::Command {
    assert_cmd::Command::new(BIN)
}

/// `pipescope` as a `std` command, for a test that spawns it or sets up its stdio.
pub fn pipescope_process() -> std::process::Command {
    std::process::Command::new(BIN)
}

/// Runs `pipescope ARGS`, expects status 0 and parses stdout as one JSON document.
pub fn json(args: &[&str]) -> Value {
    let out = pipescope().args(args).output().expect("run pipescope");
    assert!(
        out.status.success(),
        "pipescope {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "pipescope {args:?}: {e}\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Parses JSON lines (one document per line).
pub fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Asserts the error contract: exit status `status`, never a panic, and exactly one line
/// on stderr that starts with `pipescope` and holds no raw control byte. Returns it.
pub fn one_error_line(out: &Output, status: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "a panic: {err}");
    assert_eq!(out.status.code(), Some(status), "stderr: {err:?}");
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err:?}");
    assert!(err.starts_with("pipescope"), "{err:?}");
    assert!(
        !err.trim_end_matches('\n').bytes().any(is_control),
        "a raw control byte on stderr: {err:?}"
    );
    err.trim_end().to_string()
}

/// Runs `pipescope ARGS` and asserts it fails with status 2, one clean line on stderr
/// holding `needle`, and nothing on stdout. Returns the line.
pub fn fails_with_2(args: &[&str], needle: &str) -> String {
    let out = pipescope().args(args).output().expect("run pipescope");
    let line = one_error_line(&out, 2);
    assert!(line.contains(needle), "{args:?}: {line}");
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    line
}

/// A C0 control byte or DEL: what must never reach a terminal raw.
pub fn is_control(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// Polls `f` until it gives `Some`, for at most 60 s (the machine may be busy).
pub fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The short name (comm) of a process, empty if it is gone.
#[cfg(target_os = "linux")]
pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// The children of a single-threaded process, in the order it started them.
#[cfg(target_os = "linux")]
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// The children of `pid` once there are at least `n`, in the order it started them.
#[cfg(target_os = "linux")]
pub fn wait_children(pid: u32, n: usize) -> Vec<u32> {
    until(&format!("{n} children of {pid}"), || {
        let kids = children(pid);
        (kids.len() >= n).then_some(kids)
    })
}

/// Every descendant of `pid`, found through /proc (children of every thread).
#[cfg(target_os = "linux")]
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{p}/task"))
            .map(|d| d.filter_map(Result::ok).collect::<Vec<_>>())
            .unwrap_or_default();
        for t in tasks {
            let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for k in kids.split_whitespace().filter_map(|s| s.parse().ok()) {
                out.push(k);
                frontier.push(k);
            }
        }
    }
    out
}

/// Whether `pid` is gone (or a zombie: exited, only waiting to be reaped).
#[cfg(target_os = "linux")]
pub fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// Waits until `pid` has exec'd `name`: before that it is still a fork of this test,
/// holding this test's fds, and two scans of it could disagree.
#[cfg(target_os = "linux")]
pub fn wait_for_exec(pid: u32, name: &str) {
    until(&format!("pid {pid} to exec {name}"), || {
        (comm(pid) == name).then_some(())
    });
}

/// Whether the tests run as root.
#[cfg(target_os = "linux")]
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A command that runs pipescope as `nobody` when we are root (from a copy of the binary
/// in `dir` that `nobody` may execute), or as ourselves otherwise.
#[cfg(target_os = "linux")]
pub fn pipescope_as_nobody(dir: &tempfile::TempDir) -> std::process::Command {
    use std::os::unix::fs::PermissionsExt;
    if !is_root() {
        return pipescope_process();
    }
    let exe = dir.path().join("pipescope");
    if !exe.exists() {
        std::fs::copy(BIN, &exe).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A child another test thread forked while the copy was open for writing holds
        // that fd until it execs, and until then the copy cannot run (ETXTBSY).
        until(
            "the copied binary to be executable",
            || match std::process::Command::new(&exe).arg("--version").output() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => None,
                _ => Some(()),
            },
        );
    }
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(exe);
    cmd
}

/// A child started in its own process group; dropping it ends the whole group (SIGTERM,
/// then SIGKILL for whatever is left) so no test leaves processes behind.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub struct Group(pub std::process::Child);

#[cfg(target_os = "linux")]
impl Group {
    /// Spawns `cmd` as the leader of a new process group, stderr to /dev/null.
    pub fn spawn(cmd: &mut std::process::Command) -> Group {
        use std::os::unix::process::CommandExt;
        Group(
            cmd.process_group(0)
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn"),
        )
    }

    /// `sh -c SCRIPT` with stdin and stdout on /dev/null, as its own group.
    pub fn shell(script: &str) -> Group {
        Group::spawn(
            std::process::Command::new("sh")
                .args(["-c", script])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null()),
        )
    }

    /// The leader's pid.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

#[cfg(target_os = "linux")]
impl Drop for Group {
    fn drop(&mut self) {
        let pgid = rustix::process::Pid::from_raw(self.0.id() as i32).expect("pid");
        let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        let _ = self.0.wait();
    }
}
