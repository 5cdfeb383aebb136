//! `pipescope pipes` against real processes: the repository's process farm with stray
//! write ends, a shell pipeline, a leaked write end, a FIFO, a pipe end in flight in a UNIX
//! socket, and the DOT output fed to Graphviz.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use common::{Group, children, comm, pipescope, until};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `pipescope pipes ARGS --json` and parses its JSON.
fn pipes_json(args: &[&str]) -> Value {
    let mut all = vec!["pipes"];
    all.extend_from_slice(args);
    all.push("--json");
    common::json(&all)
}

/// The set of (pid, fd) in a JSON list of ends.
fn ends(v: &Value) -> BTreeSet<(u64, u64)> {
    v.as_array()
        .expect("array of ends")
        .iter()
        .map(|e| (e["pid"].as_u64().unwrap(), e["handle"].as_u64().unwrap()))
        .collect()
}

fn pipe_by_inode(doc: &Value, ino: u64) -> Option<&Value> {
    doc["pipes"]
        .as_array()?
        .iter()
        .find(|p| p["kind"] == "anonymous" && p["inode"].as_u64() == Some(ino))
}

/// Pipes that have an end (pid, fd).
fn pipes_with_end(doc: &Value, pid: u32, fd: u64) -> Vec<&Value> {
    doc["pipes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            let all: BTreeSet<_> = ends(&p["readers"])
                .union(&ends(&p["writers"]))
                .copied()
                .collect();
            all.contains(&(u64::from(pid), fd))
        })
        .collect()
}

fn finding_kinds(pipe: &Value) -> Vec<String> {
    pipe["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn farm_pipes_match_the_ground_truth_and_only_leaky_ones_have_extra_writers() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("farm.json");
    let _farm = Group::spawn(
        Command::new("python3")
            .arg(root().join("bench/farm.py"))
            .args([
                "--pipelines",
                "8",
                "--stages",
                "4",
                "--extra",
                "7",
                "--leak",
                "5",
            ])
            .args(["--timeout", "120", "--manifest"])
            .arg(&manifest)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let truth: Value = until("the farm's manifest", || {
        serde_json::from_slice(&std::fs::read(&manifest).ok()?).ok()
    });
    let doc = pipes_json(&["--all"]);
    let truth_pipes = truth["pipes"].as_array().unwrap();
    assert!(truth_pipes.len() >= 8 * 3, "the farm made its chain pipes");
    for t in truth_pipes {
        let ino = t["inode"].as_u64().unwrap();
        let p = pipe_by_inode(&doc, ino).unwrap_or_else(|| panic!("pipe:[{ino}] not shown"));
        assert_eq!(p["id"], format!("pipe:[{ino}]"));
        let want = |side: &str| -> BTreeSet<(u64, u64)> {
            t[side]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e[0].as_u64().unwrap(), e[1].as_u64().unwrap()))
                .collect()
        };
        assert_eq!(
            ends(&p["readers"]),
            want("readers"),
            "readers of pipe:[{ino}]"
        );
        assert_eq!(
            ends(&p["writers"]),
            want("writers"),
            "writers of pipe:[{ino}]"
        );
    }
    // Without --all the farm's private pipes (both ends in one process) are folded away;
    // the chain pipes stay.
    let folded = pipes_json(&[]);
    let chain: BTreeSet<u64> = truth["chain_pipes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["inode"].as_u64().unwrap())
        .collect();
    let mut private = 0;
    for t in truth_pipes {
        let ino = t["inode"].as_u64().unwrap();
        let shown = pipe_by_inode(&folded, ino).is_some();
        assert_eq!(
            shown,
            chain.contains(&ino),
            "pipe:[{ino}] shown without --all"
        );
        assert_eq!(
            pipe_by_inode(&doc, ino).unwrap()["self_pipe"],
            !chain.contains(&ino)
        );
        private += usize::from(!chain.contains(&ino));
    }
    assert!(private > 0, "the farm's processes hold private pipes");
    assert!(folded["folded"].as_u64().unwrap() >= private as u64);

    let leaky: BTreeSet<u64> = truth["leaky_inodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(leaky.len(), 5);
    let flagged: BTreeSet<u64> = truth_pipes
        .iter()
        .map(|t| t["inode"].as_u64().unwrap())
        .filter(|&ino| {
            finding_kinds(pipe_by_inode(&doc, ino).unwrap()).contains(&"extra-writer".into())
        })
        .collect();
    assert_eq!(flagged, leaky, "exactly the leaky pipes carry extra-writer");
    // Each names the bystander's fd 7 and nothing else.
    for ino in leaky {
        let p = pipe_by_inode(&doc, ino).unwrap();
        let named: Vec<(u64, u64)> = p["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "extra-writer")
            .map(|f| (f["pid"].as_u64().unwrap(), f["handle"].as_u64().unwrap()))
            .collect();
        let stray: Vec<(u64, u64)> = ends(&p["writers"])
            .into_iter()
            .filter(|&(_, fd)| fd != 1)
            .collect();
        assert_eq!(named, stray);
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].1, 7);
        // The stage's fd 1 and the bystander's fd 7 come from one pipe(2): one open file
        // description, marked with the same number (kcmp).
        let marks: Vec<&Value> = p["writers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| &w["description"])
            .collect();
        assert_eq!(marks.len(), 2);
        assert!(marks[0].is_u64() && marks[0] == marks[1], "{p}");
    }
}

/// Starts `sh -c 'sleep 60 | cat | sleep 60'` and waits until its three stages have
/// exec'd; returns the shell's group (killed on drop) and the stages' pids in order.
fn sleep_cat_sleep() -> (Group, Vec<u32>) {
    let sh = Group::spawn(
        Command::new("sh")
            .args(["-c", "sleep 60 | cat | sleep 60"])
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    let kids = until("the pipeline's three processes", || {
        let k = children(sh.pid());
        let names: Vec<String> = k.iter().map(|&p| comm(p)).collect();
        (names == ["sleep", "cat", "sleep"]).then_some(k)
    });
    (sh, kids)
}

#[test]
fn shell_pipeline_shows_both_pipes_with_the_right_ends() {
    let (_sh, kids) = sleep_cat_sleep();
    let (first, cat, last) = (kids[0], kids[1], kids[2]);
    let doc = pipes_json(&["-p", &cat.to_string()]);
    let left = pipes_with_end(&doc, cat, 0);
    assert_eq!(left.len(), 1);
    assert_eq!(ends(&left[0]["writers"]), [(u64::from(first), 1)].into());
    assert_eq!(ends(&left[0]["readers"]), [(u64::from(cat), 0)].into());
    let right = pipes_with_end(&doc, cat, 1);
    assert_eq!(right.len(), 1);
    assert_eq!(ends(&right[0]["writers"]), [(u64::from(cat), 1)].into());
    assert_eq!(ends(&right[0]["readers"]), [(u64::from(last), 0)].into());
    for p in [left[0], right[0]] {
        assert!(
            finding_kinds(p).is_empty(),
            "a plain pipeline has no findings: {p}"
        );
        assert_eq!(p["kind"], "anonymous");
        assert_eq!(p["path"], Value::Null);
    }
    assert_eq!(left[0]["writers"][0]["process"], "sleep");
    assert_eq!(left[0]["readers"][0]["process"], "cat");

    // The table says the same, writer ──▶ reader, with what each holder does with its
    // end once the stages have settled (cat blocked reading its empty input).
    until("cat to block reading and the sleeps to sleep", || {
        let doc = pipes_json(&["-p", &cat.to_string()]);
        let left = pipes_with_end(&doc, cat, 0)[0].clone();
        let right = pipes_with_end(&doc, cat, 1)[0].clone();
        (left["readers"][0]["state"] == "reading"
            && left["writers"][0]["state"] == "idle"
            && right["readers"][0]["state"] == "idle"
            && left["fill"] == 0
            && left["capacity"].as_u64().is_some_and(|c| c >= 4096))
        .then_some(())
    });
    let out = pipescope()
        .args(["pipes", "-p", &cat.to_string(), "--color", "never"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "{first} sleep (fd 1, w, idle) ──▶ {cat} cat (fd 0, r, reading)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{cat} cat (fd 1, w, idle) ──▶ {last} sleep (fd 0, r, idle)"
        )),
        "{text}"
    );
    // Idle stages where they should be: no finding, and the fill in the title.
    assert!(text.contains("[0/"), "{text}");
    assert!(
        !text.contains("deadlock") && !text.contains("orphan"),
        "{text}"
    );
}

/// Runs a python3 script that prints one line of numbers, then waits; returns the group
/// and the numbers.
fn python(script: &str) -> (Group, Vec<u64>) {
    let mut child = Group::spawn(
        Command::new("python3")
            .args(["-c", script])
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

#[test]
fn why_names_a_leaked_write_end_held_by_a_sleeping_child() {
    // `cat` reads a pipe whose writer has finished; a `sleep` started with a copy of the
    // write end keeps it open, so cat never sees end-of-file.
    let (group, nums) = python(
        r#"
import os, subprocess, sys, time
r, w = os.pipe()
sleeper = subprocess.Popen(["sleep", "60"], pass_fds=(w,))
reader = subprocess.Popen(["cat"], stdin=r, stdout=subprocess.DEVNULL)
os.close(r); os.close(w)
print(sleeper.pid, reader.pid, w, os.getpid(), flush=True)
time.sleep(60)
"#,
    );
    let (sleeper, reader, fd, parent) = (nums[0], nums[1], nums[2], nums[3]);
    assert_eq!(parent, u64::from(group.pid()));
    until("sleep and cat to start", || {
        (comm(sleeper as u32) == "sleep" && comm(reader as u32) == "cat").then_some(())
    });
    let why = pipes_json(&["--why", &format!("{reader}:0")]);
    let holders = why["holders"].as_array().unwrap();
    assert_eq!(holders.len(), 1, "{why}");
    assert_eq!(holders[0]["pid"].as_u64(), Some(sleeper));
    assert_eq!(holders[0]["process"], "sleep");
    assert_eq!(holders[0]["handle"].as_u64(), Some(fd));
    assert_eq!(holders[0]["parents"][0]["pid"].as_u64(), Some(parent));
    assert!(holders[0]["running_s"].as_u64().is_some());

    let out = pipescope()
        .args(["pipes", "--why", &format!("{reader}:0"), "--color", "never"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("{sleeper} sleep fd {fd} (w)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("parents: {sleeper} sleep ← {parent} python3")),
        "{text}"
    );
}

#[test]
fn why_rejects_what_is_not_a_pipe_end() {
    let (_group, nums) = python(
        r#"
import os, time
r, w = os.pipe()
print(os.getpid(), r, w, flush=True)
time.sleep(60)
"#,
    );
    let (pid, w) = (nums[0], nums[2]);
    // A write end is explained too: what its writer would wait for.
    let why = pipes_json(&["--why", &format!("{pid}:{w}")]);
    assert_eq!(why["side"], "write", "{why}");
    assert_eq!(why["need"]["kind"], "room", "{why}");
    assert_eq!(why["need"]["processes"][0]["pid"].as_u64(), Some(pid));
    for (arg, msg) in [
        ("nonsense".to_string(), "PID:FD"),
        // fd 0 is /dev/null.
        (format!("{pid}:0"), "not an end of a pipe"),
        (format!("{pid}:999"), "not an end of a pipe"),
        // Above the largest pid Linux allows (2^22).
        ("4194305:0".to_string(), "no process 4194305"),
    ] {
        let out = pipescope().args(["pipes", "--why", &arg]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "--why {arg}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(msg), "--why {arg}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn fifo_shows_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("the fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let writer = Group::spawn(
        Command::new("sh")
            .args(["-c", "exec sleep 60 > \"$0\"", fifo.to_str().unwrap()])
            .stdin(Stdio::null()),
    );
    let reader = Group::spawn(
        Command::new("sh")
            .args(["-c", "exec sleep 60 < \"$0\"", fifo.to_str().unwrap()])
            .stdout(Stdio::null()),
    );
    until("both ends to open", || {
        (comm(writer.pid()) == "sleep" && comm(reader.pid()) == "sleep").then_some(())
    });
    let doc = pipes_json(&["-p", &writer.pid().to_string()]);
    let pipe = pipes_with_end(&doc, writer.pid(), 1);
    assert_eq!(pipe.len(), 1, "{doc}");
    let p = pipe[0];
    assert_eq!(p["kind"], "fifo");
    assert_eq!(p["path"], fifo.to_str().unwrap());
    assert_eq!(ends(&p["writers"]), [(u64::from(writer.pid()), 1)].into());
    assert_eq!(ends(&p["readers"]), [(u64::from(reader.pid()), 0)].into());
    assert!(finding_kinds(p).is_empty());
}

#[test]
fn a_pipe_end_in_flight_in_a_unix_socket_is_a_hidden_holder() {
    // The write end is sent over a socketpair and closed here; nobody has received it,
    // so the only visible end is the read end.
    let (_group, nums) = python(
        r#"
import os, socket, time
r, w = os.pipe()
a, b = socket.socketpair()
socket.send_fds(a, [b"x"], [w])
os.close(w)
print(os.getpid(), r, b.fileno(), flush=True)
time.sleep(60)
"#,
    );
    let (pid, r, sock) = (nums[0], nums[1], nums[2]);
    let doc = pipes_json(&["-p", &pid.to_string()]);
    let pipe = pipes_with_end(&doc, pid as u32, r);
    assert_eq!(pipe.len(), 1, "{doc}");
    let kinds = finding_kinds(pipe[0]);
    assert!(kinds.contains(&"hidden-holder".to_string()), "{kinds:?}");
    // Other sockets on the machine may hold descriptors in flight too: ours must be named.
    let named = pipe[0]["findings"].as_array().unwrap().iter().any(|f| {
        f["kind"] == "hidden-holder"
            && f["pid"].as_u64() == Some(pid)
            && f["handle"].as_u64() == Some(sock)
    });
    assert!(named, "{}", pipe[0]);
    let flight = doc["in_flight"].as_array().unwrap();
    assert!(
        flight
            .iter()
            .any(|f| f["pid"].as_u64() == Some(pid) && f["handle"].as_u64() == Some(sock)),
        "{doc}"
    );
}

#[test]
fn dot_output_is_accepted_by_graphviz() {
    let _sh = Group::spawn(
        Command::new("sh")
            .args(["-c", "sleep 60 | cat | sleep 60"])
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    let (_leak, nums) = python(
        r#"
import os, subprocess, time
r, w = os.pipe()
stray = subprocess.Popen(["sleep", "60"], pass_fds=(w,))
main = subprocess.Popen(["sleep", "60"], stdout=w)
reader = subprocess.Popen(["cat"], stdin=r, stdout=subprocess.DEVNULL)
os.close(r); os.close(w)
print(stray.pid, main.pid, reader.pid, flush=True)
time.sleep(60)
"#,
    );
    until("the leak's processes to start", || {
        (comm(nums[0] as u32) == "sleep" && comm(nums[2] as u32) == "cat").then_some(())
    });
    let out = pipescope().args(["pipes", "--dot"]).output().unwrap();
    assert!(out.status.success());
    let dot_text = String::from_utf8(out.stdout).unwrap();
    // The stray writer's edge is red.
    let stray_edge = dot_text
        .lines()
        .find(|l| l.contains(&format!("p{} -> p{}", nums[0], nums[2])))
        .unwrap_or_else(|| panic!("no edge from the stray writer: {dot_text}"));
    assert!(stray_edge.contains("color=red"), "{stray_edge}");
    let main_edge = dot_text
        .lines()
        .find(|l| l.contains(&format!("p{} -> p{}", nums[1], nums[2])))
        .unwrap();
    assert!(!main_edge.contains("color=red"), "{main_edge}");

    // The table paints the finding red only when asked (stdout here is not a terminal).
    let table = |color: &str| {
        let out = pipescope()
            .args(["pipes", "-p", &nums[2].to_string(), "--color", color])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(table("always").contains("\x1b[31mextra-writer\x1b[0m"));
    for plain in [table("never"), table("auto")] {
        assert!(
            plain.contains("extra-writer") && !plain.contains('\x1b'),
            "{plain}"
        );
    }

    let mut dot = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` is installed (scripts/test installs it)");
    use std::io::Write;
    dot.stdin
        .take()
        .unwrap()
        .write_all(dot_text.as_bytes())
        .unwrap();
    let svg = dot.wait_with_output().unwrap();
    assert!(
        svg.status.success(),
        "dot rejected the graph: {}",
        String::from_utf8_lossy(&svg.stderr)
    );
    assert!(String::from_utf8_lossy(&svg.stdout).contains("<svg"));
}

#[test]
fn mermaid_output_draws_the_pipeline() {
    let (_sh, kids) = sleep_cat_sleep();
    let out = pipescope()
        .args(["pipes", "--mermaid", "-p", &kids[1].to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("flowchart LR\n"), "{text}");
    assert!(
        text.contains(&format!("p{}[\"{} cat\"]", kids[1], kids[1])),
        "{text}"
    );
    assert!(text.contains(&format!("p{} -->|", kids[0])), "{text}");
    assert!(
        text.contains(&format!("fd 1 → fd 0\"| p{}", kids[1])),
        "{text}"
    );
}

#[test]
fn unknown_process_is_one_line_and_status_2() {
    let out = pipescope()
        .args(["pipes", "-p", "no-such-process-name-xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such-process-name-xyz"), "{err}");
}
