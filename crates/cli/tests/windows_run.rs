//! `pipescope run` on Windows, run for real under Wine by `scripts/test`.
//!
//! This test binary has its own `main` (no libtest harness) because it is also the
//! pipeline: run as `windows_run.exe produce N`, `slow MS CHUNK` or `consume CODE`, it is
//! a fast producer of N deterministic bytes, a deliberately slow copier, or a consumer
//! that prints the length and FNV-1a hash of what it read and exits with CODE. Run with
//! no arguments (as cargo does), it runs the tests and prints a libtest-style summary.

use std::io::{Read, Write};
use std::process::ExitCode;

/// The producer's bytes: a xorshift stream, so that a lost, doubled or reordered block
/// changes the hash.
fn stream(len: usize) -> impl Iterator<Item = u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len).map(move |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 24) as u8
    })
}

fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

/// What `consume` prints for `len` bytes of the stream.
fn expected(len: usize) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325;
    let bytes: Vec<u8> = stream(len).collect();
    fnv1a(&mut h, &bytes);
    format!("{len} {h:016x}")
}

fn helper(args: &[String]) -> Option<ExitCode> {
    let num = |i: usize| -> u64 { args.get(i).and_then(|a| a.parse().ok()).unwrap_or(0) };
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    match args.first().map(String::as_str) {
        Some("produce") => {
            let data: Vec<u8> = stream(num(1) as usize).collect();
            for chunk in data.chunks(64 << 10) {
                if output.write_all(chunk).is_err() {
                    return Some(ExitCode::from(1));
                }
            }
            Some(ExitCode::SUCCESS)
        }
        Some("slow") => {
            let pause = std::time::Duration::from_millis(num(1));
            let mut buf = vec![0u8; num(2).max(1) as usize];
            loop {
                match input.read(&mut buf) {
                    Ok(0) | Err(_) => return Some(ExitCode::SUCCESS),
                    Ok(n) => {
                        if output.write_all(&buf[..n]).is_err() {
                            return Some(ExitCode::from(1));
                        }
                        let _ = output.flush();
                        std::thread::sleep(pause);
                    }
                }
            }
        }
        Some("consume") => {
            let mut h = 0xcbf2_9ce4_8422_2325;
            let mut len = 0usize;
            let mut buf = vec![0u8; 64 << 10];
            while let Ok(n) = input.read(&mut buf) {
                if n == 0 {
                    break;
                }
                fnv1a(&mut h, &buf[..n]);
                len += n;
            }
            let _ = writeln!(output, "{len} {h:016x}");
            Some(ExitCode::from(num(1) as u8))
        }
        _ => None,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = helper(&args) {
        return code;
    }
    #[cfg(windows)]
    return tests::run_all(&args);
    #[cfg(not(windows))]
    {
        let _ = expected;
        println!("test result: ok. 0 passed; 0 failed; 0 ignored (Windows only)");
        ExitCode::SUCCESS
    }
}

#[cfg(windows)]
mod tests {
    use std::process::{Command, ExitCode, Stdio};
    use std::time::{Duration, Instant};

    use pipescope_core::{PipeKind, ScanOptions};
    use serde_json::Value;

    use super::expected;

    const BIN: &str = env!("CARGO_BIN_EXE_pipescope");

    /// A stage running this binary as a helper.
    fn stage(args: &str) -> String {
        let me = std::env::current_exe().unwrap();
        format!("\"{}\" {args}", me.display())
    }

    type Test = (&'static str, fn());

    pub fn run_all(filter: &[String]) -> ExitCode {
        let tests: [Test; 4] = [
            (
                "run_names_the_slow_stage_and_passes_the_bytes_and_the_exit_code",
                run_names_the_slow_stage_and_passes_the_bytes_and_the_exit_code,
            ),
            (
                "dir_piped_to_findstr_runs_through_cmd_as_two_stages",
                dir_piped_to_findstr_runs_through_cmd_as_two_stages,
            ),
            (
                "watch_reports_both_stages_of_a_running_pair_and_their_pipe",
                watch_reports_both_stages_of_a_running_pair_and_their_pipe,
            ),
            (
                "each_stage_holds_only_its_own_ends",
                each_stage_holds_only_its_own_ends,
            ),
        ];
        let wanted = |name: &str| {
            let f: Vec<&String> = filter.iter().filter(|a| !a.starts_with('-')).collect();
            f.is_empty() || f.iter().any(|a| name.contains(a.as_str()))
        };
        let (mut passed, mut failed) = (0, 0);
        println!("\nrunning {} tests", tests.len());
        for (name, test) in tests.iter().filter(|(n, _)| wanted(n)) {
            let ok = std::panic::catch_unwind(test).is_ok();
            println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
        }
        let verdict = if failed == 0 { "ok" } else { "FAILED" };
        println!(
            "\ntest result: {verdict}. {passed} passed; {failed} failed; 0 ignored; 0 measured"
        );
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// Runs pipescope with `args` (stdin empty); returns stdout, the exit code and the
    /// JSON lines of stderr (`--json`: samples, then the report).
    fn run_json(args: &[&str]) -> (String, Option<i32>, Vec<Value>) {
        let out = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<Value> = stderr
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert!(
            lines.last().is_some_and(|r| r["type"] == "report"),
            "{args:?}: no report on stderr:\n{stderr}"
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code(),
            lines,
        )
    }

    fn run_names_the_slow_stage_and_passes_the_bytes_and_the_exit_code() {
        let len = 1_500_000;
        let pipeline = format!(
            "{} | {} | {}",
            stage(&format!("produce {len}")),
            stage("slow 20 16384"),
            stage("consume 3")
        );
        let (stdout, code, lines) = run_json(&["run", "--json", "-i", "100ms", "--", &pipeline]);
        assert_eq!(stdout.trim_end(), expected(len), "every byte, in order");
        assert_eq!(code, Some(3), "the last stage's exit code");
        let report = lines.last().unwrap();
        assert_eq!(report["exit_status"], 3);
        assert_eq!(report["stages"].as_array().unwrap().len(), 3, "{report}");
        assert_eq!(report["pipes"].as_array().unwrap().len(), 2, "{report}");
        assert_eq!(report["bottleneck"]["stage"], 1, "the slow stage: {report}");
        // Every fill measured (PeekNamedPipe) stays within the pipe's capacity.
        let mut measured = 0;
        for s in lines.iter().filter(|l| l["type"] == "sample") {
            for p in s["pipes"].as_array().unwrap() {
                if let (Some(fill), Some(cap)) = (p["fill"].as_u64(), p["capacity"].as_u64()) {
                    assert!(fill <= cap, "{p}");
                    assert_eq!(cap, 65536, "{p}");
                    measured += 1;
                }
            }
        }
        assert!(measured >= 4, "fills were measured: {measured}");
        let first = &report["pipes"][0];
        assert!(first["full"].as_f64().unwrap() > 0.5, "{first}");
    }

    fn dir_piped_to_findstr_runs_through_cmd_as_two_stages() {
        // Wine 8's findstr prints nothing (a stub); on Windows it prints the matches.
        let (_stdout, code, lines) = run_json(&["run", "--json", "--", "dir | findstr pipe"]);
        let report = lines.last().unwrap();
        assert_eq!(code, report["exit_status"].as_i64().map(|c| c as i32));
        let commands: Vec<&str> = report["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["command"].as_str().unwrap())
            .collect();
        assert_eq!(commands, ["dir", "findstr pipe"], "{report}");
        let pipes = report["pipes"].as_array().unwrap();
        assert_eq!(pipes.len(), 1, "{report}");
        assert_eq!(
            (pipes[0]["writer"].as_u64(), pipes[0]["reader"].as_u64()),
            (Some(0), Some(1))
        );
        // The data of a built-in passes through: `dir /b` into `find` (which Wine has).
        let out = Command::new(BIN)
            .args(["run", "--plain", "--", "dir /b | find \"Cargo\""])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Cargo.toml"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    fn watch_reports_both_stages_of_a_running_pair_and_their_pipe() {
        let me = std::env::current_exe().unwrap();
        // A CreatePipe pipe, as `cmd` makes for `a | b` (Wine names it, so a scan pairs
        // its ends; std's own pipes are unnamed, as CreatePipe's are on Windows 10+).
        let mut pipe = pipescope_core::create_pipe().unwrap();
        let mut producer = Command::new(&me)
            .args(["produce", "1000000"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(pipe.write_handle.take().unwrap()))
            .spawn()
            .unwrap();
        let slow = Command::new(&me)
            .args(["slow", "20", "16384"])
            .stdin(Stdio::from(pipe.read_handle.take().unwrap()))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let slow_pid = slow.id().to_string();
        let (_stdout, code, lines) = run_json(&["watch", "--json", "-i", "100ms", &slow_pid]);
        let _ = producer.wait();
        let mut slow = slow;
        let _ = slow.wait();
        assert_eq!(code, Some(0));
        let report = lines.last().unwrap();
        let pids: Vec<u64> = report["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["pid"].as_u64().unwrap())
            .collect();
        assert_eq!(
            pids,
            [u64::from(producer.id()), u64::from(slow.id())],
            "{report}"
        );
        let pipes = report["pipes"].as_array().unwrap();
        assert_eq!(pipes.len(), 1, "{report}");
        assert_eq!(
            (pipes[0]["writer"].as_u64(), pipes[0]["reader"].as_u64()),
            (Some(0), Some(1))
        );
        assert!(pipes[0]["samples"].as_u64().unwrap() >= 2, "{report}");
        assert_eq!(
            pipes[0]["capacity"].as_u64(),
            lines
                .iter()
                .find_map(|l| l["pipes"][0]["capacity"].as_u64()),
            "{report}"
        );
    }

    fn each_stage_holds_only_its_own_ends() {
        let len = 400_000;
        let pipeline = format!(
            "{} | {} | {}",
            stage(&format!("produce {len}")),
            stage("slow 20 4096"),
            stage("consume 0")
        );
        let child = Command::new(BIN)
            .args(["run", "--plain", "--", &pipeline])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let run_pid = child.id();
        // Wait until the three stages are up (the slow stage keeps them up for seconds).
        let t = Instant::now();
        let scan = || loop {
            let snap = pipescope_core::scan(&ScanOptions {
                pipes_only: true,
                ..ScanOptions::default()
            })
            .unwrap();
            let n = snap
                .processes
                .iter()
                .filter(|p| p.ppid == Some(run_pid))
                .count();
            if n == 3 || t.elapsed() > Duration::from_secs(20) {
                break snap;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        // pipescope itself holds an end only for the instant of a look (a name query or
        // a fill measurement duplicates it): of a few scans, one finds it holding none.
        let mut snaps: Vec<_> = (0..6)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(30));
                scan()
            })
            .collect();
        let joint_names = |snap: &pipescope_core::Snapshot, pid: u32| -> usize {
            snap.processes
                .iter()
                .filter(|p| p.pid == pid)
                .flat_map(|p| &p.handles)
                .filter(|h| h.name.to_string_lossy().contains("pipescope.run."))
                .count()
        };
        assert!(
            snaps.iter().any(|s| joint_names(s, run_pid) == 0),
            "pipescope keeps no end"
        );
        // A look whose guarded name query timed out (a loaded machine) lists an end
        // without its name: judge the first look that named an end in every stage.
        let named_in_all = |snap: &pipescope_core::Snapshot| {
            let kids: Vec<u32> = snap
                .processes
                .iter()
                .filter(|p| p.ppid == Some(run_pid))
                .map(|p| p.pid)
                .collect();
            kids.len() == 3 && kids.iter().all(|&pid| joint_names(snap, pid) > 0)
        };
        let at = snaps
            .iter()
            .position(named_in_all)
            .expect("no look named the joint ends of all three stages");
        let snap = snaps.remove(at);
        let mut stages: Vec<_> = snap
            .processes
            .iter()
            .filter(|p| p.ppid == Some(run_pid))
            .collect();
        stages.sort_by_key(|p| p.start_time_ms);
        assert_eq!(stages.len(), 3, "three stages under pipescope");
        // Every end of run's joints, by pipe name: who holds it, which way.
        let joint_ends = |pid: u32| -> Vec<(String, &'static str)> {
            let p = snap.processes.iter().find(|p| p.pid == pid).unwrap();
            p.handles
                .iter()
                .filter(|h| h.pipe == Some(PipeKind::Named))
                .map(|h| (h.name.to_string_lossy().into_owned(), h.mode.as_str()))
                .filter(|(n, _)| n.contains("pipescope.run."))
                .collect()
        };
        let (a, b, c) = (
            joint_ends(stages[0].pid),
            joint_ends(stages[1].pid),
            joint_ends(stages[2].pid),
        );
        assert_eq!(a.len(), 1, "producer: its output's write end only: {a:?}");
        assert_eq!(a[0].1, "w");
        assert_eq!(b.len(), 2, "middle: one read end, one write end: {b:?}");
        assert!(b.contains(&(a[0].0.clone(), "r")), "{a:?} {b:?}");
        let second = b.iter().find(|(n, _)| *n != a[0].0).unwrap();
        assert_eq!(second.1, "w");
        assert_eq!(c, [(second.0.clone(), "r")], "consumer: {c:?}");
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            expected(len)
        );
    }
}
