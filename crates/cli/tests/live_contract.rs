//! The contract of `run` and `watch` under signals and bad intervals, with real
//! processes: a signal sent to `run` reaches every process of the pipeline (none is left,
//! checked by pid), the report is still printed and the status is 128 + N; `watch` stops
//! on one, reports, and leaves the watched processes alone; an interval out of bounds is
//! one clean line and status 2, never a panic.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};
use serde_json::Value;

use common::{
    Group, children, comm, descendants, fails_with_2, gone, pipescope_process, until, wait_children,
};

fn send(pid: u32, sig: Signal) {
    kill_process(Pid::from_raw(pid as i32).unwrap(), sig).unwrap();
}

/// Starts `pipescope ARGS` with stdin and stdout on /dev/null and its stderr read line by
/// line on a thread; returns the child and the lines as they come.
fn start(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = pipescope_process()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// Waits (at most 60 s) for `child` to exit and returns its status; fails if it does not.
fn exit_code(child: &mut Child) -> i32 {
    let status = until("pipescope to exit", || child.try_wait().unwrap());
    status.code().expect("an exit code, not death by a signal")
}

/// Every line received so far, then the final report parsed.
fn report(lines: &mpsc::Receiver<String>) -> (Vec<String>, Value) {
    let all: Vec<String> = lines.iter().collect();
    let last = all.last().unwrap_or_else(|| panic!("no output"));
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {all:?}"));
    assert_eq!(v["type"], "report", "{all:?}");
    (all, v)
}

/// `run` gets `sig`: every process of the pipeline (here a shell, `sleep`, a nested shell
/// with its own `sleep` child, and `cat`) ends, the report is printed, the status is
/// 128 + N.
fn run_passes_on(sig: Signal, name: &str, n: i32) {
    let (mut ps, lines) = start(&[
        "run",
        "--json",
        "-i",
        "50ms",
        "--",
        "sleep 100 | sh -c 'sleep 100; :' | cat",
    ]);
    // The shell, sleep, the nested shell and its sleep, cat: all exec'd and sampled.
    let pids = until("the pipeline to start", || {
        let d = descendants(ps.id());
        let sleeps = d.iter().filter(|&&p| comm(p) == "sleep").count();
        let cats = d.iter().filter(|&&p| comm(p) == "cat").count();
        (d.len() == 5 && sleeps == 2 && cats == 1).then_some(d)
    });
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(first.contains("\"type\":\"sample\""), "{first}");

    send(ps.id(), sig);
    assert_eq!(exit_code(&mut ps), 128 + n, "status after {name}");
    let (all, r) = report(&lines);
    assert_eq!(r["signal"], name, "{all:?}");
    assert_eq!(r["stages"].as_array().unwrap().len(), 3, "{r}");
    // No process of the pipeline is left (reaped by init once orphaned, or a zombie).
    for pid in pids {
        until(
            &format!("pid {pid} ({}) to end after {name}", comm(pid)),
            || gone(pid).then_some(()),
        );
    }
}

#[test]
fn sigterm_to_run_reaches_the_whole_pipeline_then_reports_and_exits_143() {
    run_passes_on(Signal::TERM, "SIGTERM", 15);
}

#[test]
fn sighup_to_run_reaches_the_whole_pipeline_then_reports_and_exits_129() {
    run_passes_on(Signal::HUP, "SIGHUP", 1);
}

#[test]
fn sigint_sent_to_run_alone_reaches_the_pipeline_too() {
    run_passes_on(Signal::INT, "SIGINT", 2);
}

#[test]
fn the_plain_report_says_which_signal_was_passed_on() {
    let (mut ps, lines) = start(&["run", "--plain", "--", "sleep 100 | cat"]);
    until("the pipeline to start", || {
        (descendants(ps.id()).len() == 3).then_some(())
    });
    lines.recv_timeout(Duration::from_secs(30)).unwrap();
    send(ps.id(), Signal::TERM);
    assert_eq!(exit_code(&mut ps), 143);
    let all: Vec<String> = lines.iter().collect();
    let head = all
        .iter()
        .find(|l| l.starts_with("pipescope run: "))
        .unwrap_or_else(|| panic!("no report: {all:?}"));
    assert!(
        head.ends_with("exit status 143 (SIGTERM passed on to the pipeline)"),
        "{head}"
    );
    assert!(all.last().unwrap().starts_with("bottleneck: "), "{all:?}");
}

#[test]
fn sigterm_to_watch_stops_watching_reports_and_leaves_the_pipeline_alone() {
    let pipeline = Group::shell("sleep 100 | cat");
    let kids = wait_children(pipeline.pid(), 2);
    until("the stages to exec", || {
        (comm(kids[0]) == "sleep" && comm(kids[1]) == "cat").then_some(())
    });
    let (mut ps, lines) = start(&["watch", "--json", "-i", "50ms", &kids[1].to_string()]);
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(first.contains("\"type\":\"sample\""), "{first}");

    send(ps.id(), Signal::TERM);
    assert_eq!(exit_code(&mut ps), 143);
    let (all, r) = report(&lines);
    assert_eq!(r["signal"], "SIGTERM", "{all:?}");
    assert_eq!(r["stages"].as_array().unwrap().len(), 2, "{r}");
    // Watching never signals what it watches.
    thread::sleep(Duration::from_millis(200));
    assert_eq!(children(pipeline.pid()), kids);
    assert_eq!(
        (comm(kids[0]), comm(kids[1])),
        ("sleep".into(), "cat".into())
    );
}

#[test]
fn an_interval_out_of_bounds_is_one_line_and_status_2() {
    for interval in [
        "1e20s",
        "18446744073709551616s",
        "1.8e19s",
        "3601s",
        "inf",
        "NaN",
    ] {
        let line = fails_with_2(&["run", "-i", interval, "--", "true"], interval);
        assert!(line.contains("interval"), "{line}");
        fails_with_2(&["watch", "--interval", interval, "1"], interval);
    }
    let line = fails_with_2(&["run", "-i", "1e20s", "--", "true"], "maximum of 3600s");
    assert!(!line.contains("panicked"), "{line}");
    fails_with_2(&["run", "-i", "1ms", "--", "true"], "minimum of 10ms");
}
