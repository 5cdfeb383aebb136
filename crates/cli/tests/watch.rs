//! `pipescope watch` end to end: attach to a pipeline started here, by one member's pid
//! or by a name, and check the stages it finds and the bottleneck it names.
#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{BIN, SLOW, pipescope, wait_children};

fn spawn(pipeline: &str) -> Child {
    StdCommand::new("sh")
        .args(["-c", pipeline])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn final_report(stderr: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stderr);
    let last = text.lines().last().unwrap_or_else(|| panic!("no output"));
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["type"], "report", "{text}");
    v
}

#[test]
fn watch_finds_every_stage_from_the_last_one_and_names_the_bottleneck() {
    let mut sh = spawn(&format!("head -c 3M /dev/zero | {SLOW} | cat"));
    let kids = wait_children(sh.id(), 3);
    assert_eq!(kids.len(), 3);
    let out = pipescope()
        .args([
            "watch",
            "--json",
            "--interval",
            "20ms",
            &kids[2].to_string(),
        ])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    sh.wait().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = final_report(&out.stderr);
    let pids: Vec<u64> = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pid"].as_u64().unwrap())
        .collect();
    let want: Vec<u64> = kids.iter().map(|&k| u64::from(k)).collect();
    assert_eq!(pids, want, "stages in pipeline order");
    assert!(
        r["stages"][1]["command"]
            .as_str()
            .unwrap()
            .starts_with("perl -e")
    );
    assert_eq!(r["bottleneck"]["stage"], 1, "{}", r["bottleneck"]["reason"]);
    assert!(r["exit_status"].is_null());
    assert_eq!(r["pipes"].as_array().unwrap().len(), 2);
    assert!(r["pipes"][0]["fill_max"].as_u64().unwrap() > 0);
}

#[test]
fn watch_by_name_attaches_to_the_pipeline_holding_that_process() {
    // A `cat` under a name no other process has.
    let dir = tempfile::tempdir().unwrap();
    let name = format!("pscat{}", std::process::id() % 100_000);
    let bin = dir.path().join(&name);
    fs::copy("/bin/cat", &bin).unwrap();
    // 8 MiB through SLOW: at least 4 s, so the pipeline is still there when watch
    // starts on a loaded machine (it once ended first, and watch found `pscat` a zombie).
    let mut sh = spawn(&format!(
        "head -c 8M /dev/zero | {} | {SLOW} > /dev/null",
        bin.display()
    ));
    let kids = wait_children(sh.id(), 3);
    assert_eq!(kids.len(), 3);
    // Found by name only once it has exec'd (before, it is a fork of sh named `sh`).
    common::wait_for_exec(kids[1], &name);
    let out = pipescope()
        .args(["watch", "--json", "--interval", "20ms", &name])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    sh.wait().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = final_report(&out.stderr);
    assert_eq!(r["stages"].as_array().unwrap().len(), 3, "{r}");
    assert_eq!(r["bottleneck"]["stage"], 2, "{}", r["bottleneck"]["reason"]);
}

#[test]
fn a_process_that_has_exited_is_no_pipeline_member() {
    // `zname` exits at once; its parent (`sleep`, exec'd by the shell) never reaps it,
    // so it stays a zombie under its name, holding nothing.
    let dir = tempfile::tempdir().unwrap();
    let name = format!("pszomb{}", std::process::id() % 100_000);
    let bin = dir.path().join(&name);
    fs::copy("/bin/true", &bin).unwrap();
    let mut sh = spawn(&format!("{} & exec sleep 30", bin.display()));
    let kid = common::until("the zombie", || {
        let kids = common::children(sh.id());
        kids.into_iter()
            .find(|&k| common::comm(k) == name && common::gone(k))
    });
    let out = pipescope().args(["watch", &name]).output().unwrap();
    let _ = sh.kill();
    let _ = sh.wait();
    let line = common::one_error_line(&out, 2);
    assert_eq!(
        line,
        format!("pipescope: no process named `{name}`"),
        "zombie {kid}"
    );
}

#[test]
fn watch_of_nothing_is_an_error() {
    let out = pipescope().args(["watch", "4194304999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = pipescope()
        .args(["watch", "no-such-process-name"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "pipescope: no process named `no-such-process-name`\n"
    );
}

/// Starts `head | perl` where perl renames itself to clear the screen when printed raw,
/// and waits until the rename shows; returns the shell and perl's pid.
fn hostile_pipeline() -> (Child, u32) {
    let sh = spawn(
        "head -c 1M /dev/zero | perl -e '$0 = \"evil\\x1b[2Jname\"; \
         while (sysread(STDIN, $b, 4096)) { select(undef, undef, undef, 0.002) }'",
    );
    let kids = wait_children(sh.id(), 2);
    assert_eq!(kids.len(), 2);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fs::read(format!("/proc/{}/cmdline", kids[1]))
        .unwrap_or_default()
        .starts_with(b"evil")
    {
        assert!(Instant::now() < deadline, "perl never renamed itself");
        std::thread::sleep(Duration::from_millis(10));
    }
    (sh, kids[1])
}

/// `pipescope watch MODE --interval 50ms PID` until the pipeline ends.
fn watch(mode: &str, pid: u32) -> std::process::Output {
    pipescope()
        .args(["watch", mode, "--interval", "50ms", &pid.to_string()])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap()
}

#[test]
fn hostile_command_lines_are_escaped_on_the_terminal_and_exact_in_json() {
    let (mut sh, perl) = hostile_pipeline();
    let plain = watch("--plain", perl);
    let text = String::from_utf8_lossy(&plain.stderr);
    assert!(
        !text.contains('\x1b'),
        "raw escape on the terminal: {text:?}"
    );
    assert!(text.contains("evil\\x1b[2Jname"), "{text}");
    sh.wait().unwrap();

    let (mut sh, perl) = hostile_pipeline();
    let json = watch("--json", perl);
    sh.wait().unwrap();
    let r = final_report(&json.stderr);
    let cmds: Vec<&str> = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["command"].as_str().unwrap())
        .collect();
    assert!(cmds.contains(&"evil\x1b[2Jname"), "{cmds:?}");
}

/// As an unprivileged user, watch a pipeline of the same user whose middle stage makes
/// itself non-dumpable: its read end may no longer be duplicated. The fill of its input
/// pipe is reported missing with the reason, the rest is still shown, and the verdict
/// still names it from its neighbours' states.
#[cfg(target_arch = "x86_64")]
#[test]
fn where_duplicating_is_denied_the_reason_is_given_and_the_rest_still_shown() {
    let root = fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let setpriv = StdCommand::new("setpriv").arg("--version").output().is_ok();
    if !root || !setpriv {
        eprintln!("needs root and setpriv to become `nobody`: skipped");
        return;
    }
    let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    // prctl(PR_SET_DUMPABLE, 0) is system call 157 with option 4 on x86_64.
    let pipeline = "head -c 4M /dev/zero | perl -e 'select(undef, undef, undef, 0.4); \
                    syscall(157, 4, 0, 0, 0, 0); while (sysread(STDIN, $b, 4096)) \
                    { syswrite(STDOUT, $b); select(undef, undef, undef, 0.002) }' | cat";
    let mut sh = StdCommand::new("setpriv")
        .args(nobody)
        .args(["sh", "-c", pipeline])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // setpriv execs sh: the stages are children of our child.
    let stages = wait_children(sh.id(), 3);
    assert_eq!(stages.len(), 3, "{stages:?}");
    let out = StdCommand::new("setpriv")
        .args(nobody)
        .arg(BIN)
        .args([
            "watch",
            "--json",
            "--interval",
            "50ms",
            &stages[2].to_string(),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    sh.wait().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = final_report(&out.stderr);
    assert_eq!(r["stages"].as_array().unwrap().len(), 3, "{r}");
    let missing = r["pipes"][0]["missing"].as_str().unwrap_or_default();
    assert!(missing.contains("denied"), "{}", r["pipes"][0]);
    // The pipe the non-dumpable stage writes is read by `cat`: still measured.
    assert!(r["pipes"][1]["missing"].is_null(), "{}", r["pipes"][1]);
    assert!(
        r["stages"][0]["blocked_write"].as_f64().unwrap() > 0.5,
        "{r}"
    );
    assert_eq!(r["bottleneck"]["stage"], 1, "{}", r["bottleneck"]["reason"]);
}

/// Python's classic subprocess deadlock: the parent writes 10 MB into `cat`'s stdin and
/// never reads `cat`'s stdout. Both pipes fill, both processes block writing.
const PY_DEADLOCK: &str = "import subprocess\n\
p = subprocess.Popen(['cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n\
p.stdin.write(b'x' * 10_000_000)\n";

/// The deadlock of `Popen.wait()`'s warning: the parent waits for its child to exit
/// before reading its stdout; the child blocks writing that full pipe.
const PY_WAIT_DEADLOCK: &str = "import subprocess\n\
p = subprocess.Popen(['head', '-c', '1000000', '/dev/zero'], stdout=subprocess.PIPE)\n\
p.wait()\n";

/// Starts `python3 -c script`, its stdio on /dev/null, and waits for its child `name`.
fn python(script: &str, name: &str) -> (Child, u32) {
    let py = StdCommand::new("python3")
        .args(["-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    // (A python3 shim may run helpers of its own first.)
    let pid = py.id();
    let child = common::until(&format!("{name}, child of python3 {pid}"), || {
        common::children(pid)
            .into_iter()
            .find(|&k| common::comm(k) == name)
    });
    (py, child)
}

/// `pipescope watch --json --interval 50ms PID` until a sample line satisfies `enough`
/// (at most 60 s: the machine may be busy), then Ctrl-C: every JSON line.
fn watch_until(pid: u32, enough: impl Fn(&Value) -> bool) -> Vec<Value> {
    use std::io::{BufRead, BufReader};
    let mut child = common::pipescope_process()
        .args(["watch", "--json", "--interval", "50ms", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        line.clear();
        let done = enough(&v) || Instant::now() > deadline;
        lines.push(v);
        if done {
            break;
        }
    }
    let status = StdCommand::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for l in reader.lines() {
        let l = l.unwrap();
        lines.push(serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}")));
    }
    // Ended by SIGINT: the status says so (128 + 2), after the report.
    assert_eq!(child.wait().unwrap().code(), Some(130));
    lines
}

/// Whether a sample line's verdict is `kind`.
fn says(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["verdict"]["kind"] == kind
}

fn kill(pids: &[u32]) {
    for pid in pids {
        let _ = StdCommand::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

#[test]
fn watch_of_the_python_subprocess_deadlock_shows_both_processes_both_pipes_and_the_deadlock() {
    let (mut py, cat) = python(PY_DEADLOCK, "cat");
    let lines = watch_until(py.id(), says("deadlock"));
    kill(&[py.id(), cat]);
    let _ = py.wait();
    let r = lines.last().unwrap();
    assert_eq!(r["type"], "report", "{r}");
    let pids: Vec<u64> = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pid"].as_u64().unwrap())
        .collect();
    // A cycle is entered at its lowest pid (python's, unless the pids wrapped between
    // the two forks: pid_max may be 32768).
    let (py, cat) = (u64::from(py.id()), u64::from(cat));
    assert_eq!(pids, [py.min(cat), py.max(cat)], "{r}");
    // python writes cat's stdin, cat writes python's pipe back: one pipe each way.
    let joins: Vec<(u64, u64)> = r["pipes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["writer"].as_u64().unwrap(), p["reader"].as_u64().unwrap()))
        .collect();
    assert_eq!(joins, [(0, 1), (1, 0)], "{r}");
    for p in r["pipes"].as_array().unwrap() {
        assert_eq!(p["fill_max"], p["capacity"], "both pipes full: {p}");
    }
    let v = &r["bottleneck"];
    assert_eq!(v["kind"], "deadlock", "{v}");
    assert!(
        v["reason"].as_str().unwrap().starts_with("deadlock: "),
        "{v}"
    );
    let d = &v["findings"][0];
    assert_eq!(d["kind"], "deadlock", "{v}");
    let mut cycle: Vec<(u64, &str, u64)> = d["waits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["pid"].as_u64().unwrap(),
                w["on"].as_str().unwrap(),
                w["stage"].as_u64().unwrap(),
            )
        })
        .collect();
    cycle.sort_unstable();
    // Each blocked writing, named by its stage.
    let stage = |pid: u64| pids.iter().position(|&p| p == pid).unwrap() as u64;
    let mut expected = [(py, "write", stage(py)), (cat, "write", stage(cat))];
    expected.sort_unstable();
    assert_eq!(cycle, expected);
    assert_eq!(d["pipes"].as_array().unwrap().len(), 2);
    // The live samples say it too, once two looks agree.
    let said = lines[..lines.len() - 1]
        .iter()
        .filter(|s| s["verdict"]["kind"] == "deadlock")
        .count();
    assert!(said > 0, "no sample says deadlock");
}

#[test]
fn a_parent_waiting_for_a_child_blocked_on_its_full_stdout_is_a_deadlock() {
    let (mut py, head) = python(PY_WAIT_DEADLOCK, "head");
    let lines = watch_until(py.id(), says("deadlock"));
    kill(&[py.id(), head]);
    let _ = py.wait();
    let r = lines.last().unwrap();
    let v = &r["bottleneck"];
    assert_eq!(v["kind"], "deadlock", "{r}");
    let waits = v["findings"][0]["waits"].as_array().unwrap();
    let on: Vec<(u64, &str)> = waits
        .iter()
        .map(|w| (w["pid"].as_u64().unwrap(), w["on"].as_str().unwrap()))
        .collect();
    assert!(on.contains(&(u64::from(py.id()), "child")), "{v}");
    assert!(on.contains(&(u64::from(head), "write")), "{v}");
}

#[test]
fn an_idle_pipeline_is_neither_deadlocked_nor_stuck() {
    let mut sh = spawn("sleep 3 | cat");
    let kids = wait_children(sh.id(), 2);
    assert_eq!(kids.len(), 2);
    // Twenty samples (a second at 50 ms) of an idle pipeline.
    let seen = std::cell::Cell::new(0);
    let lines = watch_until(kids[1], |_| {
        seen.set(seen.get() + 1);
        seen.get() >= 20
    });
    kill(&kids);
    let _ = sh.wait();
    for l in &lines {
        let kind = &l.get("verdict").unwrap_or(&l["bottleneck"])["kind"];
        assert!(kind != "deadlock" && kind != "stuck", "{l}");
    }
    assert_eq!(lines.last().unwrap()["stages"].as_array().unwrap().len(), 2);
}

#[test]
fn a_watch_whose_output_is_closed_ends_quietly() {
    let mut sh = spawn("sleep 100 | cat");
    let stages = wait_children(sh.id(), 2);
    // The view's lines go to stderr: a reader that went away (`2>&1 | true`).
    let mut watch = common::pipescope_process()
        .args(["watch", "--plain", &stages[1].to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(watch.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = watch.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = watch.kill();
            let _ = watch.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = sh.kill();
    let _ = sh.wait();
    for p in stages {
        let _ = StdCommand::new("kill").arg(p.to_string()).status();
    }
    let status = status.expect("watch still running 10 s after its output closed");
    assert_eq!(status.code(), Some(0), "{status:?}");
}
