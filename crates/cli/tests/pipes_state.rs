//! `pipescope pipes` on stuck pipelines, each started here for real: the orphaned writer
//! (`bash -c 'sleep 1001 & exec sleep 0.3' | cat`), Python's subprocess deadlock, a parent
//! waiting for a child blocked on its full stdout, FIFO loops that read-read and
//! write-write, a stopped reader and a stopped writer — and the quiet controls (idle,
//! busy, the process farm) that must get none of these findings.
//!
//! Other tests (and other people's processes) may be stuck at the same time, so every
//! assertion is about the processes a test started.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use common::{Group, children, comm, pipescope, until};

/// `pipescope pipes ARGS --json`.
fn pipes_json(args: &[&str]) -> Value {
    let mut all = vec!["pipes"];
    all.extend_from_slice(args);
    all.push("--json");
    common::json(&all)
}

/// The diagnoses of a `pipes --json` document that name any of `pids`.
fn diagnoses_about<'a>(doc: &'a Value, pids: &[u32]) -> Vec<&'a Value> {
    doc["diagnoses"]
        .as_array()
        .expect("diagnoses")
        .iter()
        .filter(|d| {
            let named = named_pids(d);
            pids.iter().any(|p| named.contains(p))
        })
        .collect()
}

/// Every pid a diagnosis names.
fn named_pids(d: &Value) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    for list in ["waits", "behind", "holders"] {
        for w in d[list].as_array().unwrap() {
            out.insert(w["pid"].as_u64().unwrap() as u32);
        }
    }
    out
}

/// Polls `pipes -p PID --json` until a diagnosis of `kind` names `pid`; returns it with
/// the document.
fn wait_for_diagnosis(pid: u32, kind: &str) -> (Value, Value) {
    until(&format!("a {kind} finding about {pid}"), || {
        let doc = pipes_json(&["-p", &pid.to_string()]);
        let d = diagnoses_about(&doc, &[pid])
            .into_iter()
            .find(|d| d["kind"] == kind)
            .cloned()?;
        Some((d, doc))
    })
}

/// (comm, ppid, session) of a process.
fn stat(pid: u32) -> Option<(String, u32, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, rest) = text.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_string();
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((name, f.get(1)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

/// The processes of session `sid` named `name`.
fn in_session(sid: u32, name: &str) -> Vec<u32> {
    let mut v: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&pid| stat(pid).is_some_and(|(n, _, s)| s == sid && n == name))
        .collect();
    v.sort_unstable();
    v
}

/// `sh -c SCRIPT` as the leader of a new session (and process group), so that a child it
/// leaves behind is reparented out of the session; stdio on /dev/null. Dropping it ends
/// the whole group, orphans included.
fn session(script: &str) -> Group {
    Group(
        Command::new("setsid")
            .args(["sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("setsid"),
    )
}

/// Runs a python3 script that prints one line of numbers and then does whatever it
/// does; returns its group and the numbers.
fn python(script: &str, args: &[&str]) -> (Group, Vec<u32>) {
    let mut child = Group::spawn(
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let nums = line
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    (child, nums)
}

/// The `(pid, on, handle)` of each wait of a diagnosis, in order.
fn waits(d: &Value) -> Vec<(u32, String, Option<u64>)> {
    d["waits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["pid"].as_u64().unwrap() as u32,
                w["on"].as_str().unwrap().to_string(),
                w["handle"].as_u64(),
            )
        })
        .collect()
}

/// Asserts a deadlock's cycle: every member waits for the next.
fn assert_cycle(d: &Value) {
    let w = d["waits"].as_array().unwrap();
    for (i, step) in w.iter().enumerate() {
        let next = &w[(i + 1) % w.len()]["pid"];
        assert!(
            step["waits_for"].as_array().unwrap().contains(next),
            "step {i} does not wait for the next: {d}"
        );
    }
}

#[test]
fn an_orphaned_writer_is_named_with_its_lineage() {
    let group = session("bash -c 'sleep 1001 & exec sleep 0.3' | cat");
    let sid = group.pid();
    // Once `sleep 0.3` is gone, the `sleep 1001` it started is reparented out of the
    // session's tree and is the only holder of the write end.
    let (stray, cat) = until("the stray sleep to be orphaned", || {
        let sleeps = in_session(sid, "sleep");
        let cats = in_session(sid, "cat");
        let stray = *sleeps.first()?;
        let (_, ppid, _) = stat(stray)?;
        let parent_sid = stat(ppid).map(|s| s.2);
        (sleeps.len() == 1 && cats.len() == 1 && parent_sid != Some(sid))
            .then_some((stray, cats[0]))
    });
    let (d, doc) = wait_for_diagnosis(cat, "orphan-writer");
    assert_eq!(waits(&d), vec![(cat, "read".to_string(), Some(0))], "{d}");
    let holders = d["holders"].as_array().unwrap();
    assert_eq!(holders.len(), 1, "{d}");
    assert_eq!(holders[0]["pid"].as_u64(), Some(u64::from(stray)));
    assert_eq!(holders[0]["handles"], serde_json::json!([1]));
    assert_eq!(holders[0]["activity"]["orphaned"], true);
    assert_eq!(holders[0]["activity"]["state"], "idle");
    assert_eq!(d["pipes"][0]["fill"], 0, "{d}");
    let msg = d["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!(
            "end-of-file needs {stray} sleep to exit or close fd 1"
        )),
        "{msg}"
    );
    // The pipe lists it among its findings, with the reader's fd.
    let pipe = doc["pipes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["readers"][0]["pid"].as_u64() == Some(u64::from(cat)))
        .unwrap();
    let f = pipe["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "orphan-writer")
        .unwrap();
    assert_eq!(
        (f["pid"].as_u64(), f["handle"].as_u64()),
        (Some(u64::from(cat)), Some(0))
    );
    assert_eq!(pipe["readers"][0]["state"], "reading");
    assert_eq!(pipe["writers"][0]["state"], "idle");
    // Not an extra writer: it is the only one.
    assert!(
        !pipe["findings"].to_string().contains("extra-writer"),
        "{pipe}"
    );

    // --why names the holder, its lineage, and what end-of-file needs.
    let why = pipes_json(&["--why", &format!("{cat}:0")]);
    assert_eq!(why["side"], "read");
    assert_eq!(why["need"]["kind"], "end-of-file");
    assert_eq!(
        why["need"]["processes"][0]["pid"].as_u64(),
        Some(u64::from(stray))
    );
    assert_eq!(
        why["need"]["processes"][0]["handles"],
        serde_json::json!([1])
    );
    let h = &why["holders"][0];
    assert_eq!(h["pid"].as_u64(), Some(u64::from(stray)));
    assert_eq!(h["activity"]["orphaned"], true);
    assert_eq!(h["origin"]["kind"], "alone", "{why}");
    let (_, new_parent, _) = stat(stray).unwrap();
    assert_eq!(
        h["parents"][0]["pid"].as_u64(),
        Some(u64::from(new_parent)),
        "{why}"
    );
    assert_eq!(why["diagnoses"][0]["kind"], "orphan-writer");
    let out = pipescope()
        .args(["pipes", "--why", &format!("{cat}:0"), "--color", "never"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("{cat} cat (fd 0) is blocked reading pipe:[")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "end-of-file needs {stray} sleep to exit or close fd 1"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("parents: {stray} sleep ← {new_parent} ")),
        "{text}"
    );
    assert!(text.contains("its parent has gone"), "{text}");
}

/// `Popen(['cat'], stdin=PIPE, stdout=PIPE)`, write 10 MB to its stdin, never read its
/// stdout: both pipes full, both processes blocked writing.
#[test]
fn pythons_subprocess_deadlock_is_a_write_write_cycle() {
    let (_group, nums) = python(
        r#"
import os, subprocess, sys
p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print(os.getpid(), p.pid, p.stdin.fileno(), p.stdout.fileno(), flush=True)
p.stdin.write(b"x" * 10_000_000)
"#,
        &[],
    );
    let (py, cat, to_cat, from_cat) = (nums[0], nums[1], nums[2], nums[3]);
    let (d, doc) = wait_for_diagnosis(cat, "deadlock");
    assert_cycle(&d);
    let mut got = waits(&d);
    got.sort();
    // Sorted as `got` is (by pid: the child's may be the lower once pids wrap).
    let mut expected = vec![
        (py, "write".to_string(), Some(u64::from(to_cat))),
        (cat, "write".to_string(), Some(1)),
    ];
    expected.sort();
    assert_eq!(got, expected, "{d}");
    assert!(d["behind"].as_array().unwrap().is_empty());
    for p in d["pipes"].as_array().unwrap() {
        assert_eq!(p["fill"], p["capacity"], "both pipes are full: {d}");
    }
    let msg = d["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("{py} python3 writes pipe:[")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("and waits for {cat} cat to read it")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("and waits for {py} python3 to read it")),
        "{msg}"
    );
    // Each pipe carries it, and shows its holders' states and its fill.
    let pipes: Vec<&Value> = doc["pipes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["findings"].to_string().contains("deadlock"))
        .collect();
    assert_eq!(pipes.len(), 2, "{doc}");
    let reads_from_cat = pipes
        .iter()
        .find(|p| p["readers"][0]["pid"].as_u64() == Some(u64::from(py)))
        .unwrap();
    assert_eq!(
        reads_from_cat["readers"][0]["handle"].as_u64(),
        Some(u64::from(from_cat))
    );
    assert_eq!(reads_from_cat["writers"][0]["state"], "writing");
    assert_eq!(reads_from_cat["fill"], reads_from_cat["capacity"]);
    // And the table says so, in red when asked.
    let out = pipescope()
        .args(["pipes", "-p", &cat.to_string(), "--color", "always"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("\x1b[31mdeadlock\x1b[0m: 2 processes wait on each other"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{cat} cat (fd 1, w, writing)")),
        "{text}"
    );
    // Told in full once, under the first of its two pipes.
    assert_eq!(text.matches("wait on each other").count(), 1, "{text}");
    assert!(
        text.contains("deadlock\x1b[0m: the same as under pipe:["),
        "{text}"
    );
    // The diagrams draw it: both processes in red, saying so, their two pipes in red.
    let out = pipescope()
        .args(["pipes", "-p", &cat.to_string(), "--dot"])
        .output()
        .unwrap();
    let dot = String::from_utf8(out.stdout).unwrap();
    for pid in [py, cat] {
        let node = dot
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("p{pid} [label=")))
            .unwrap_or_else(|| panic!("no node for {pid}: {dot}"));
        assert!(node.contains("\\ndeadlock\", color=red"), "{node}");
    }
    let red_pipes = dot
        .lines()
        .filter(|l| l.contains(" -> ") && l.contains("pipe:[") && l.contains("color=red"))
        .count();
    assert_eq!(red_pipes, 2, "{dot}");
    let out = pipescope()
        .args(["pipes", "-p", &cat.to_string(), "--mermaid"])
        .output()
        .unwrap();
    let mermaid = String::from_utf8(out.stdout).unwrap();
    assert!(
        mermaid.contains(&format!("p{cat}[\"{cat} cat<br/>deadlock\"]:::finding")),
        "{mermaid}"
    );
}

/// The warning in Python's `Popen.wait()` docs: the parent waits for the child to exit
/// before reading its stdout, and the child blocks writing that full pipe.
#[test]
fn a_parent_waiting_for_a_child_blocked_on_its_full_stdout_is_a_deadlock() {
    let (_group, nums) = python(
        r#"
import os, subprocess
p = subprocess.Popen(["head", "-c", "1000000", "/dev/zero"], stdout=subprocess.PIPE)
print(os.getpid(), p.pid, p.stdout.fileno(), flush=True)
p.wait()
"#,
        &[],
    );
    let (py, head) = (nums[0], nums[1]);
    let (d, _) = wait_for_diagnosis(head, "deadlock");
    assert_cycle(&d);
    let w = d["waits"].as_array().unwrap();
    let parent = w
        .iter()
        .find(|s| s["pid"].as_u64() == Some(u64::from(py)))
        .unwrap();
    assert_eq!(
        parent["on"], "child",
        "the wait-for-child edge is shown as such: {d}"
    );
    assert_eq!(parent["child"].as_u64(), Some(u64::from(head)));
    let child = w
        .iter()
        .find(|s| s["pid"].as_u64() == Some(u64::from(head)))
        .unwrap();
    assert_eq!(child["on"], "write");
    assert_eq!(child["handle"].as_u64(), Some(1));
    assert!(
        d["message"].as_str().unwrap().contains(&format!(
            "{py} python3 waits for its child {head} head to exit"
        )),
        "{d}"
    );
    // --why on the child's stdout: the reader is waiting for it.
    let why = pipes_json(&["--why", &format!("{head}:1")]);
    assert_eq!(why["side"], "write");
    assert_eq!(why["end"]["state"], "writing");
    assert_eq!(why["need"]["kind"], "room");
    assert_eq!(why["holders"][0]["pid"].as_u64(), Some(u64::from(py)));
    assert_eq!(why["holders"][0]["state"], "waiting-for-child");
    assert_eq!(
        why["holders"][0]["activity"]["child"].as_u64(),
        Some(u64::from(head))
    );
}

/// Two FIFOs, two processes: each reads the FIFO only the other writes.
const FIFO_LOOP: &str = r#"
import os, sys, time
d, mode = sys.argv[1], sys.argv[2]
a, b = os.path.join(d, "a"), os.path.join(d, "b")
os.mkfifo(a); os.mkfifo(b)
def side(mine, theirs):
    # Open without blocking on the other side, then block for real.
    r = os.open(mine, os.O_RDONLY | os.O_NONBLOCK)
    w = os.open(theirs, os.O_WRONLY)
    os.set_blocking(r, True)
    return r, w
child = os.fork()
if child == 0:
    r, w = side(b, a)
    if mode == "write":
        while True: os.write(w, b"y" * 65536)
    # Until the other side has opened its write end, a read sees end-of-file at once.
    while not os.read(r, 1): time.sleep(0.01)
    os._exit(0)
r, w = side(a, b)
print(os.getpid(), child, r, w, flush=True)
if mode == "write":
    while True: os.write(w, b"x" * 65536)
while not os.read(r, 1): time.sleep(0.01)
"#;

fn fifo_loop(mode: &str) -> (Group, tempfile::TempDir, Vec<u32>) {
    let dir = tempfile::tempdir().unwrap();
    let (group, nums) = python(FIFO_LOOP, &[dir.path().to_str().unwrap(), mode]);
    (group, dir, nums)
}

#[test]
fn a_fifo_read_read_loop_is_a_deadlock() {
    let (_group, _dir, nums) = fifo_loop("read");
    let (parent, child, r, _) = (nums[0], nums[1], nums[2], nums[3]);
    let (d, _) = wait_for_diagnosis(child, "deadlock");
    assert_cycle(&d);
    let got = waits(&d);
    // Found by pid: the child's may be the lower once pids wrap.
    let of = |pid: u32| got.iter().find(|w| w.0 == pid).cloned().unwrap();
    assert_eq!(of(parent), (parent, "read".to_string(), Some(u64::from(r))));
    assert_eq!(of(child).1, "read");
    for p in d["pipes"].as_array().unwrap() {
        assert!(p["id"].as_str().unwrap().starts_with("fifo:["), "{d}");
        assert_eq!(p["fill"], 0);
    }
}

#[test]
fn a_fifo_write_write_loop_is_a_deadlock() {
    let (_group, _dir, nums) = fifo_loop("write");
    let (parent, child, _, w) = (nums[0], nums[1], nums[2], nums[3]);
    let (d, _) = wait_for_diagnosis(child, "deadlock");
    assert_cycle(&d);
    let got = waits(&d);
    // Found by pid: the child's may be the lower once pids wrap.
    let of = |pid: u32| got.iter().find(|w| w.0 == pid).cloned().unwrap();
    assert_eq!(
        of(parent),
        (parent, "write".to_string(), Some(u64::from(w)))
    );
    assert_eq!(of(child).1, "write");
    for p in d["pipes"].as_array().unwrap() {
        assert_eq!(p["fill"], p["capacity"], "{d}");
    }
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid as i32).unwrap(), sig)
        .unwrap();
}

/// The stages of `sh -c SCRIPT` (a two-stage pipeline), once both have exec'd.
fn two_stages(script: &str, names: [&str; 2]) -> (Group, u32, u32) {
    let sh = Group::shell(script);
    let kids = until("the pipeline's stages", || {
        let k = children(sh.pid());
        let got: Vec<String> = k.iter().map(|&p| comm(p)).collect();
        (got == names).then_some(k)
    });
    (sh, kids[0], kids[1])
}

#[test]
fn a_stopped_reader_is_named() {
    let (_sh, yes, cat) = two_stages("yes | cat > /dev/null", ["yes", "cat"]);
    signal(cat, rustix::process::Signal::STOP);
    let (d, _) = wait_for_diagnosis(cat, "stopped-reader");
    assert_eq!(waits(&d), vec![(yes, "write".to_string(), Some(1))], "{d}");
    assert_eq!(d["holders"][0]["pid"].as_u64(), Some(u64::from(cat)));
    assert_eq!(d["holders"][0]["activity"]["state"], "stopped");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains(&format!("its reader {cat} cat is stopped")),
        "{d}"
    );
    signal(cat, rustix::process::Signal::CONT);
    // Resumed, it drains the pipe: the finding goes away.
    until("the finding to clear once cat runs again", || {
        let doc = pipes_json(&["-p", &cat.to_string()]);
        diagnoses_about(&doc, &[yes, cat]).is_empty().then_some(())
    });
}

#[test]
fn a_stopped_writer_is_named() {
    let (_sh, sleep, cat) = two_stages("sleep 1000 | cat", ["sleep", "cat"]);
    signal(sleep, rustix::process::Signal::STOP);
    let (d, _) = wait_for_diagnosis(cat, "stopped-writer");
    assert_eq!(waits(&d), vec![(cat, "read".to_string(), Some(0))], "{d}");
    assert_eq!(d["holders"][0]["pid"].as_u64(), Some(u64::from(sleep)));
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains(&format!("kill -CONT {sleep}"))
    );
    signal(sleep, rustix::process::Signal::CONT);
}

/// The reader's main thread only joins a worker thread that reads the pipe (main in
/// futex, the read in another thread): the finding is still made, and names the fd read.
#[test]
fn a_read_in_another_thread_is_seen() {
    let script = "sleep 1000 | python3 -c 'import sys, threading; \
                  t = threading.Thread(target=sys.stdin.buffer.read); t.start(); t.join()'";
    let (_sh, sleep, py) = two_stages(script, ["sleep", "python3"]);
    signal(sleep, rustix::process::Signal::STOP);
    let (d, _) = wait_for_diagnosis(py, "stopped-writer");
    assert_eq!(waits(&d), vec![(py, "read".to_string(), Some(0))], "{d}");
    assert_eq!(d["holders"][0]["pid"].as_u64(), Some(u64::from(sleep)));
    signal(sleep, rustix::process::Signal::CONT);
}

/// Runs `pipes -p PID --json` a few times; asserts no diagnosis names `pids` and no pipe
/// of theirs carries a wait-for finding. Returns the last document.
fn assert_quiet(pid: u32, pids: &[u32]) -> Value {
    let mut doc = Value::Null;
    for _ in 0..3 {
        doc = pipes_json(&["-p", &pid.to_string()]);
        let about = diagnoses_about(&doc, pids);
        assert!(about.is_empty(), "false alarm: {about:?}");
        for p in doc["pipes"].as_array().unwrap() {
            for f in p["findings"].as_array().unwrap() {
                let kind = f["kind"].as_str().unwrap();
                let ours = f["pid"]
                    .as_u64()
                    .is_some_and(|x| pids.contains(&(x as u32)));
                assert!(
                    !(ours
                        && [
                            "deadlock",
                            "orphan-writer",
                            "stopped-reader",
                            "stopped-writer"
                        ]
                        .contains(&kind)),
                    "false alarm: {f}"
                );
            }
        }
    }
    doc
}

#[test]
fn idle_and_busy_pipelines_get_no_state_finding() {
    // sleep | cat: an idle writer where it should be, a reader blocked on it.
    let (_a, sleep, cat) = two_stages("sleep 1000 | cat", ["sleep", "cat"]);
    // tail -f | grep: the writer polls a file, the reader waits.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    std::fs::write(&log, "a\n").unwrap();
    let (_b, tail, grep) = two_stages(
        &format!("tail -f '{}' | grep x", log.display()),
        ["tail", "grep"],
    );
    // yes | gzip: busy, the writer often blocked on a full pipe.
    let (_c, yes, gzip) = two_stages("yes | gzip -1 > /dev/null", ["yes", "gzip"]);
    until("cat to block reading", || {
        let doc = pipes_json(&["-p", &cat.to_string()]);
        (doc["pipes"].as_array()?.iter().any(|p| {
            p["readers"][0]["pid"].as_u64() == Some(u64::from(cat))
                && p["readers"][0]["state"] == "reading"
        }))
        .then_some(())
    });
    assert_quiet(cat, &[sleep, cat]);
    assert_quiet(grep, &[tail, grep]);
    let doc = assert_quiet(gzip, &[yes, gzip]);
    let p = doc["pipes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["readers"][0]["pid"].as_u64() == Some(u64::from(gzip)))
        .unwrap();
    assert!(
        ["writing", "running"].contains(&p["writers"][0]["state"].as_str().unwrap()),
        "{p}"
    );
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_idle_farm_gets_no_state_finding() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("farm.json");
    let _farm = Group::spawn(
        Command::new("python3")
            .arg(root().join("bench/farm.py"))
            .args([
                "--pipelines",
                "6",
                "--stages",
                "4",
                "--extra",
                "12",
                "--leak",
                "2",
            ])
            .arg("--manifest")
            .arg(&manifest)
            .args(["--timeout", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    let truth: Value = until("the farm's manifest", || {
        serde_json::from_slice(&std::fs::read(&manifest).ok()?).ok()
    });
    let pids: Vec<u32> = truth["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap() as u32)
        .collect();
    for _ in 0..3 {
        let doc = pipes_json(&[]);
        let about = diagnoses_about(&doc, &pids);
        assert!(about.is_empty(), "false alarm on the farm: {about:?}");
        // Every chain pipe's fill and holders' states were looked at.
        for c in truth["chain_pipes"].as_array().unwrap() {
            let ino = c["inode"].as_u64().unwrap();
            let p = doc["pipes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["inode"].as_u64() == Some(ino))
                .unwrap();
            assert_eq!(p["fill"], 0, "{p}");
            assert!(p["readers"][0]["state"].is_string(), "{p}");
        }
    }
}

#[test]
fn why_on_a_vanished_or_non_pipe_target_is_one_line_and_status_2() {
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    common::fails_with_2(&["pipes", "--why", &format!("{pid}:0")], "no process");
    let me = std::process::id();
    common::fails_with_2(
        &["pipes", "--why", &format!("{me}:999999")],
        "not an end of a pipe",
    );
}
