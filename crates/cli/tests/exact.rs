//! `run` and `watch` with the eBPF probe (root, a kernel where it loads): each stage's
//! bytes counted on its pipe ends only, equal to the bytes that passed; and without
//! privilege, estimates said so.
#![cfg(target_os = "linux")]

mod common;

use std::process::Command;

use serde_json::Value;

use common::{json_lines, pipescope};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Runs `pipescope run --json`; returns the sample objects and the report.
fn run(pipeline: &str) -> (Vec<Value>, Value) {
    let out = pipescope()
        .args(["run", "--json", "--interval", "100ms", "--", pipeline])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut objects = json_lines(&out.stderr);
    let report = objects.pop().unwrap();
    assert_eq!(report["type"], "report");
    (objects, report)
}

fn probe_here(report: &Value) -> bool {
    if report["source"] == "probe" {
        return true;
    }
    assert!(
        !is_root() || report["source_note"].as_str().unwrap().contains("without"),
        "as root the probe must attach: {report}"
    );
    eprintln!("skipped: {}", report["source_note"]);
    false
}

fn bytes(report: &Value, stage: usize, dir: &str) -> u64 {
    report["stages"][stage][dir]
        .as_u64()
        .unwrap_or_else(|| panic!("{report}"))
}

#[test]
fn each_stage_counts_the_bytes_that_passed_its_pipes() {
    // 3,000,001 bytes over about 0.6 s (so that the stages are found running); tee also
    // writes them to a file: not pipe traffic, not counted.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    let pipeline = format!(
        "perl -e 'for (1..30) {{ syswrite STDOUT, \"a\" x 100000; \
         select(undef, undef, undef, 0.02) }} syswrite STDOUT, \"a\"' \
         | tee {} | wc -c > /dev/null",
        copy.display()
    );
    let (_, r) = run(&pipeline);
    if !probe_here(&r) {
        return;
    }
    assert_eq!(bytes(&r, 0, "bytes_out"), 3_000_001, "{r}");
    assert_eq!(bytes(&r, 1, "bytes_in"), 3_000_001, "{r}");
    assert_eq!(
        bytes(&r, 1, "bytes_out"),
        3_000_001,
        "tee's pipe only, not its file: {r}"
    );
    assert_eq!(bytes(&r, 2, "bytes_in"), 3_000_001, "{r}");
    assert_eq!(bytes(&r, 2, "bytes_out"), 0, "wc writes a file: {r}");
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), 3_000_001);
}

#[test]
fn sort_shows_nothing_out_until_its_input_ends() {
    // 2,000,000 lines of one byte each reach sort, then the source sleeps: sort has read
    // everything and written nothing until the source exits.
    let (samples, r) =
        run("sh -c 'head -c 1000000 /dev/zero | tr \"\\0\" \"\\n\"; sleep 1' | sort | wc -c");
    if !probe_here(&r) {
        return;
    }
    // The shell's subshell is found as its own stages: head, tr, sort, wc.
    let stage = |name: &str| {
        r["stages"]
            .as_array()
            .unwrap()
            .iter()
            .position(|s| s["command"].as_str().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} stage: {r}"))
    };
    let (sort, wc) = (stage("sort"), stage("wc"));
    let holding = samples
        .iter()
        .any(|s| s["stages"][sort]["bytes_in"] == 1_000_000 && s["stages"][sort]["bytes_out"] == 0);
    assert!(
        holding,
        "a sample with sort at in 1000000, out 0: {samples:?}"
    );
    assert_eq!(bytes(&r, sort, "bytes_in"), 1_000_000, "{r}");
    assert_eq!(bytes(&r, sort, "bytes_out"), 1_000_000, "{r}");
    assert_eq!(bytes(&r, wc, "bytes_in"), 1_000_000, "{r}");
}

#[test]
fn a_stage_waiting_on_its_input_has_a_measured_blocked_share() {
    let (_, r) = run("sh -c 'echo a; sleep 1; echo b' | cat > /dev/null");
    if !probe_here(&r) {
        return;
    }
    let read = r["stages"][1]["blocked_read"].as_f64().unwrap();
    assert!(read > 0.8, "cat waited for input nearly all the time: {r}");
}

#[test]
fn without_privilege_run_estimates_and_says_so() {
    if !is_root() {
        return;
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(common::BIN)
        .args([
            "run",
            "--plain",
            "--interval",
            "50ms",
            "--",
            "head -c 100000 /dev/zero | cat > /dev/null",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.lines()
            .next()
            .unwrap()
            .starts_with("pipescope: byte counts and blocked shares are estimates from sampling"),
        "{err}"
    );
    assert!(err.contains("figures: estimates"), "{err}");
}

#[test]
fn watch_with_the_probe_counts_from_when_it_attached() {
    if !is_root() {
        return;
    }
    // A writer of one short line every 20 ms, read by cat.
    let mut sh = Command::new("sh")
        .args([
            "-c",
            "while :; do echo line; sleep 0.02; done | cat > /dev/null",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let cat = loop {
        let out = Command::new("pgrep")
            .args(["-P", &sh.id().to_string(), "-x", "cat"])
            .output()
            .unwrap();
        if let Some(p) = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
        {
            break p.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "cat did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let watch = common::pipescope_process()
        .args(["watch", "--json", "--interval", "100ms", &cat])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = Command::new("pkill")
        .args(["-P", &sh.id().to_string()])
        .status();
    let _ = sh.kill();
    let _ = sh.wait();
    let out = watch.wait_with_output().unwrap();
    let mut objects = json_lines(&out.stderr);
    let r = objects.pop().unwrap();
    assert_eq!(r["type"], "report", "{r}");
    if !probe_here(&r) {
        return;
    }
    let stages = r["stages"].as_array().unwrap();
    let cat_stage = stages
        .iter()
        .find(|s| s["pid"] == cat.parse::<u64>().unwrap())
        .unwrap_or_else(|| panic!("{r}"));
    // About 1.5 s of "line\n" every 20 ms: tens of lines, 5 bytes each, through its pipe.
    let read = cat_stage["bytes_in"].as_u64().unwrap();
    assert!(read >= 100 && read % 5 == 0, "{r}");
    assert_eq!(
        cat_stage["bytes_out"], 0,
        "cat writes /dev/null, a file: {r}"
    );
    assert!(cat_stage["blocked_read"].as_f64().unwrap() > 0.5, "{r}");
}
