//! `pipescope top` end to end, as root on a kernel where the eBPF probe loads (CI), and
//! without privilege (setpriv), where it must estimate and say so. The probe must be gone
//! after every way `top` can end.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{is_root, json_lines, pipescope, pipescope_process};

/// Whether this build has the probe (`--no-default-features` builds lack it).
fn probe_built() -> bool {
    let out = pipescope()
        .args(["top", "--json", "-n", "1", "-i", "10ms", "-p", "1"])
        .output()
        .unwrap();
    !String::from_utf8_lossy(&out.stderr).contains("built without the eBPF probe")
}

/// `head -c 20G /dev/zero | cat > /dev/null`, started by the test: the true writer and
/// reader of a pipe busier than any other on the machine.
struct Busy {
    writer: Child,
    reader: Child,
}

impl Busy {
    fn start() -> Busy {
        let mut writer = Command::new("head")
            .args(["-c", "20G", "/dev/zero"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let reader = Command::new("cat")
            .stdin(writer.stdout.take().unwrap())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Busy { writer, reader }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let _ = self.writer.kill();
        let _ = self.reader.kill();
        let _ = self.writer.wait();
        let _ = self.reader.wait();
    }
}

#[test]
fn json_lists_the_busiest_pipe_first_with_its_true_writer_and_reader() {
    if !is_root() || !probe_built() {
        eprintln!("skipped: needs root and the probe");
        return;
    }
    let busy = Busy::start();
    let out = pipescope()
        .args(["top", "--json", "-n", "3", "-i", "300ms"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no fallback note with the probe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3);
    let last = &lines[2];
    assert_eq!(last["source"], "probe", "{last}");
    assert_eq!(last["exact"], true, "{last}");
    let first = &last["pipes"][0];
    let pids = |side: &str| -> Vec<(u64, String, u64)> {
        first[side]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["pid"].as_u64().unwrap(),
                    e["name"].as_str().unwrap().to_string(),
                    e["handle"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        pids("writers"),
        [(u64::from(busy.writer.id()), "head".to_string(), 1)],
        "{first}"
    );
    assert_eq!(
        pids("readers"),
        [(u64::from(busy.reader.id()), "cat".to_string(), 0)],
        "{first}"
    );
    assert!(first["bytes_per_sec"].as_f64().unwrap() > 10e6, "{first}");
    // Its fill is measured through cat's read end (a duplicate, nothing read).
    assert_eq!(first["capacity"], 65536, "{first}");
    assert!(first["fill"].as_u64().unwrap() <= 65536, "{first}");
    // The byte counts of one interval agree with the rate.
    let written = first["written"].as_f64().unwrap();
    let secs = last["interval_ms"].as_f64().unwrap() / 1e3;
    let rate = first["bytes_per_sec"].as_f64().unwrap();
    assert!((written.max(first["read"].as_f64().unwrap()) / secs - rate).abs() < 1.0);
}

#[test]
fn p_limits_to_the_pipes_of_one_process() {
    if !is_root() || !probe_built() {
        eprintln!("skipped: needs root and the probe");
        return;
    }
    let busy = Busy::start();
    let reader = busy.reader.id().to_string();
    let out = pipescope()
        .args(["top", "--json", "-n", "2", "-i", "200ms", "-p", &reader])
        .output()
        .unwrap();
    assert!(out.status.success());
    for line in json_lines(&out.stdout) {
        let pipes = line["pipes"].as_array().unwrap();
        assert_eq!(pipes.len(), 1, "{line}");
        assert_eq!(
            pipes[0]["readers"][0]["pid"].as_u64(),
            Some(u64::from(busy.reader.id()))
        );
    }
}

/// Whether this build has the probe decides what `top` may say: built with the `ebpf`
/// feature (the default), never that it was built without; built without it
/// (`scripts/test` tests that build too), that, in one line, and estimates.
#[test]
fn a_build_without_the_probe_says_so_and_estimates() {
    let out = pipescope()
        .args(["top", "--json", "-n", "1", "-i", "100ms"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let without = "this pipescope was built without the eBPF probe (cargo feature `ebpf`)";
    if cfg!(feature = "ebpf") {
        assert!(!err.contains(without), "{err}");
        return;
    }
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("pipescope: estimating from sampling") && err.contains(without),
        "{err}"
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["source"], "sampling");
    assert_eq!(lines[0]["exact"], false);
}

#[test]
fn without_privilege_it_estimates_and_says_so_in_one_line() {
    if !is_root() {
        eprintln!("skipped: needs root to drop privilege");
        return;
    }
    let _busy = Busy::start();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(common::BIN)
        .args(["top", "--json", "-n", "2", "-i", "200ms"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("pipescope: estimating from sampling"),
        "{err}"
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    for l in &lines {
        assert_eq!(l["source"], "sampling", "{l}");
        assert_eq!(l["exact"], false, "{l}");
    }
}

#[test]
fn no_probe_estimates_even_as_root() {
    let out = pipescope()
        .args(["top", "--no-probe", "--plain", "-n", "1", "-i", "100ms"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("estimating from sampling"), "{err}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(sampling, estimates)"), "{text}");
}

/// The ids of the BPF programs `pid` holds, from its fdinfo (`prog_id:` lines).
fn programs_of(pid: u32) -> Vec<u64> {
    let mut ids = Vec::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return ids;
    };
    for entry in dir.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            if let Some(id) = line.strip_prefix("prog_id:") {
                ids.push(id.trim().parse().unwrap());
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether the kernel still has BPF program `id` loaded.
fn loaded(id: u64) -> bool {
    let bpftool = ["bpftool", "/usr/sbin/bpftool"]
        .into_iter()
        .find(|b| Command::new(b).arg("version").output().is_ok())
        .expect("bpftool (scripts/test installs it)");
    let out = Command::new(bpftool)
        .args(["prog", "show", "id", &id.to_string()])
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!(
            "bpftool prog show id {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}

/// Starts `top --plain`, waits for its first refresh, ends it with `how`, and checks that
/// the programs it had attached are gone from the kernel.
fn detaches_on(how: &str) {
    if !is_root() || !probe_built() {
        eprintln!("skipped: needs root and the probe");
        return;
    }
    let mut top = pipescope_process()
        .args(["top", "--plain", "-i", "100ms"])
        .args(if how == "count" {
            &["-n", "5"][..]
        } else {
            &[]
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    // Kept open until top has ended: a closed stdout would end it first (EPIPE).
    let mut stdout = BufReader::new(top.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("kernel probe, exact"), "{first}");
    let programs = programs_of(top.id());
    assert_eq!(programs.len(), 2, "sys_exit, sched_switch: {programs:?}");
    assert!(
        programs.iter().all(|&id| loaded(id)),
        "{programs:?} loaded while top runs (bpftool's complaint above)"
    );
    let pid = top.id().to_string();
    match how {
        "count" => {}
        "kill" => top.kill().unwrap(),
        sig => assert!(
            Command::new("kill")
                .args(["-s", sig, &pid])
                .status()
                .unwrap()
                .success()
        ),
    }
    if how == "count" {
        // Drain the refreshes left, so that none blocks on a full pipe.
        std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
    }
    let status = top.wait().unwrap();
    drop(stdout);
    if how != "kill" {
        assert!(status.success(), "{how}: ends cleanly: {status:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    // The kernel frees a program once its last reference is gone (an RCU grace period).
    while programs.iter().any(|&id| loaded(id)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<_> = programs.iter().filter(|&&id| loaded(id)).collect();
    assert!(left.is_empty(), "{how}: programs still loaded: {left:?}");
}

#[test]
fn the_probe_is_gone_after_sigint() {
    detaches_on("INT");
}

#[test]
fn the_probe_is_gone_after_sigterm() {
    detaches_on("TERM");
}

#[test]
fn the_probe_is_gone_after_sigkill() {
    detaches_on("kill");
}

#[test]
fn the_probe_is_gone_after_the_count_runs_out() {
    detaches_on("count");
}

/// Runs `SOURCE | FILTER | cat > /dev/null` for a few seconds under `top --json -p`
/// (the filter's pid) and returns the `buffering` findings about the filter.
fn buffering_findings(filter: &str) -> Vec<serde_json::Value> {
    // About 1 MB/s of lines, 3 of which in every 10 KB match: a 4 KiB buffer fills in
    // about 2 s, long enough for a quiet second between bursts.
    let source = "perl -e '$|=1; while (1) { print \"x\" x 99, \"\\n\" for 1..100; \
                  print \"match\\n\" for 1..3; select(undef, undef, undef, 0.01) }'";
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(format!("{source} | {filter} | cat > /dev/null"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let name = filter.split_whitespace().next().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let pid = loop {
        let out = Command::new("pgrep")
            .args(["-P", &shell.id().to_string(), "-x", name])
            .output()
            .unwrap();
        if let Some(p) = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
        {
            break p.to_string();
        }
        assert!(Instant::now() < deadline, "{name} did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = pipescope()
        .args(["top", "--json", "-i", "250ms", "-n", "24", "-p", &pid])
        .output()
        .unwrap();
    let _ = Command::new("pkill")
        .args(["-P", &shell.id().to_string()])
        .status();
    let _ = shell.kill();
    let _ = shell.wait();
    assert!(out.status.success());
    json_lines(&out.stdout)
        .iter()
        .flat_map(|l| l["findings"].as_array().unwrap().clone())
        .filter(|f| f["pid"] == pid.parse::<u64>().unwrap())
        .collect()
}

#[test]
fn a_block_buffered_grep_is_a_buffering_finding() {
    if !is_root() || !probe_built() {
        eprintln!("skipped: needs root and the probe");
        return;
    }
    let found = buffering_findings("grep match");
    assert!(
        !found.is_empty(),
        "grep with stdout on a pipe buffers 4 KiB"
    );
    let f = &found[0];
    assert_eq!(f["kind"], "buffering");
    assert_eq!(f["name"], "grep");
    assert_eq!(f["burst"], 4096, "{f}");
    assert!(f["read_since_write"].as_u64().unwrap() > 0, "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("--line-buffered"),
        "{f}"
    );
}

#[test]
fn a_line_buffered_grep_and_a_sort_are_not() {
    if !is_root() || !probe_built() {
        eprintln!("skipped: needs root and the probe");
        return;
    }
    assert_eq!(
        buffering_findings("grep --line-buffered match"),
        Vec::<serde_json::Value>::new()
    );
    assert_eq!(buffering_findings("sort"), Vec::<serde_json::Value>::new());
}

#[test]
fn top_of_a_process_that_does_not_exist_is_an_error() {
    // A name nothing runs under, and a pid beyond any in use: said at once, exit 2 —
    // not a live view of a machine where nothing moves.
    for p in ["psnosuchname", "999999999"] {
        let line = common::fails_with_2(&["top", "--plain", "-p", p], "no process matches");
        assert!(line.contains(p), "{line}");
    }
}
