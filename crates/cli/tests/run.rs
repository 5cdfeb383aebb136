//! `pipescope run` end to end: real pipelines under the real binary, the JSON report
//! parsed back; the pipeline's stdout, stdin and exit status must pass through untouched.
#![cfg(target_os = "linux")]

mod common;

use std::process::Command as StdCommand;

use serde_json::Value;

use common::{SLOW, json_lines, pipescope};

/// Runs `pipescope run --json` and returns the final report object.
fn report(pipeline: &str, interval: &str) -> Value {
    report_with(&[], pipeline, interval)
}

/// As `report`, with `options` for `run` before the pipeline.
fn report_with(options: &[&str], pipeline: &str, interval: &str) -> Value {
    let out = pipescope()
        .args(["run", "--json", "--interval", interval])
        .args(options)
        .args(["--", pipeline])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = json_lines(&out.stderr);
    assert!(
        objects.len() > 2,
        "expected samples, got {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for o in &objects[..objects.len() - 1] {
        assert_eq!(o["type"], "sample", "{o}");
    }
    let last = objects.last().unwrap().clone();
    assert_eq!(last["type"], "report");
    last
}

fn commands(r: &Value) -> Vec<String> {
    r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["command"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_slow_middle_stage_is_the_bottleneck() {
    let pipeline = format!("head -c 2M /dev/zero | {SLOW} | cat > /dev/null");
    let r = report(&pipeline, "20ms");
    assert_eq!(
        commands(&r),
        ["head -c 2M /dev/zero", SLOW, "cat > /dev/null"]
    );
    assert_eq!(r["bottleneck"]["stage"], 1, "{}", r["bottleneck"]["reason"]);
    assert_eq!(r["bottleneck"]["kind"], "bottleneck");
    assert!(r["bottleneck"]["findings"].as_array().unwrap().is_empty());
    assert!(
        r["bottleneck"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("stage 2 `perl")
    );
    assert_eq!(r["exit_status"], 0);

    // The pipe in front of it stays full, the one behind it empty.
    let pipes = r["pipes"].as_array().unwrap();
    assert_eq!(pipes.len(), 2);
    let cap = pipes[0]["capacity"].as_u64().unwrap();
    assert!(cap >= 4096);
    assert!(
        pipes[0]["fill_avg"].as_u64().unwrap() > cap / 2,
        "{}",
        pipes[0]
    );
    assert!(
        pipes[1]["fill_avg"].as_u64().unwrap() < cap / 8,
        "{}",
        pipes[1]
    );
    assert!(pipes[0]["fill_max"].as_u64().unwrap() <= cap);

    // head waits to write, cat waits to read, and the bytes add up.
    let st = r["stages"].as_array().unwrap();
    assert!(st[0]["blocked_write"].as_f64().unwrap() > 0.5, "{}", st[0]);
    assert!(st[2]["blocked_read"].as_f64().unwrap() > 0.5, "{}", st[2]);
    assert!(st[0]["bytes_out"].as_u64().unwrap() >= 1 << 20, "{}", st[0]);
    for s in st {
        assert!(s["pid"].as_u64().unwrap() > 1);
        assert!(s["cpu_percent"].as_f64().unwrap() >= 0.0);
    }
}

#[test]
fn a_slow_last_stage_is_named() {
    let pipeline = format!("head -c 2M /dev/zero | cat | {SLOW} > /dev/null");
    let r = report(&pipeline, "20ms");
    assert_eq!(r["stages"].as_array().unwrap().len(), 3);
    assert_eq!(r["bottleneck"]["stage"], 2, "{}", r["bottleneck"]["reason"]);
    let st = r["stages"].as_array().unwrap();
    assert!(st[1]["blocked_write"].as_f64().unwrap() > 0.5, "{}", st[1]);
}

#[test]
fn stages_inside_a_group_are_stages_and_the_group_is_not() {
    let pipeline = format!("{{ head -c 2M /dev/zero | cat; }} | {SLOW} > /dev/null");
    let r = report(&pipeline, "20ms");
    let cmds = commands(&r);
    assert_eq!(cmds.len(), 3, "{cmds:?}");
    assert!(cmds[0].starts_with("head") && cmds[1] == "cat", "{cmds:?}");
    assert_eq!(r["bottleneck"]["stage"], 2, "{}", r["bottleneck"]["reason"]);
}

#[test]
fn a_reader_holding_its_pipe_read_write_is_never_duplicated() {
    // The middle stage reopens its stdin read-write: it holds no read-only end, so the
    // fill of its input pipe is not measured (a duplicated write end would delay EOF) and
    // the verdict leans on head being blocked writing.
    let counted = "perl -e '$n = 0; while ($n < 1048576) { $n += sysread(STDIN, $b, 4096); \
                   syswrite(STDOUT, $b); select(undef, undef, undef, 0.002) }'";
    let pipeline = format!(
        "head -c 1M /dev/zero | sh -c 'exec 0<>/proc/self/fd/0; exec \"$0\" \"$@\"' {counted} \
         | cat > /dev/null"
    );
    let r = report(&pipeline, "20ms");
    let pipes = r["pipes"].as_array().unwrap();
    assert_eq!(pipes.len(), 2, "{r}");
    // The reader reopens its stdin a moment after it starts: a sample that lands in that
    // moment measures a read-only end, as it may. Once the end is read-write no sample
    // may measure it, and the run lasts about 25 intervals, so at most one is measured.
    let measured = pipes[0]["samples"].as_u64().unwrap();
    assert!(measured <= 1, "{}", pipes[0]);
    assert!(
        measured == 1 || pipes[0]["fill_avg"].is_null(),
        "{}",
        pipes[0]
    );
    let why = pipes[0]["missing"].as_str().unwrap();
    assert!(why.contains("no read-only end"), "{why}");
    assert!(pipes[1]["fill_avg"].is_u64(), "{}", pipes[1]);
    assert_eq!(r["bottleneck"]["stage"], 1, "{}", r["bottleneck"]["reason"]);
    let reason = r["bottleneck"]["reason"].as_str().unwrap();
    assert!(reason.contains("stage 1 blocked writing to it"), "{reason}");
}

#[test]
fn output_is_byte_identical_with_and_without_pipescope() {
    // 3 MB of seeded pseudo-random bytes through four stages.
    let pipeline = "perl -e 'srand(42); print pack(\"L*\", map { int(rand(2**32)) } 1..750000)' \
                    | cat | gzip -1 | gzip -dc | cat";
    let plain = StdCommand::new("sh")
        .args(["-c", pipeline])
        .output()
        .unwrap();
    assert!(plain.status.success());
    assert_eq!(plain.stdout.len(), 3_000_000);
    let watched = pipescope()
        .args(["run", "--plain", "--interval", "10ms", "--", pipeline])
        .output()
        .unwrap();
    assert!(watched.status.success());
    assert_eq!(sha256(&watched.stdout), sha256(&plain.stdout));
    assert!(watched.stdout == plain.stdout);
    // The view went to stderr, and ended with the verdict.
    let err = String::from_utf8_lossy(&watched.stderr);
    assert!(err.lines().any(|l| l.starts_with("bottleneck: ")), "{err}");
}

fn sha256(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = StdCommand::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn exit_status_stdin_and_stdout_pass_through() {
    pipescope()
        .args(["run", "--plain", "--", "tr a-z A-Z | cat; exit 3"])
        .write_stdin("hello pipes\n")
        .assert()
        .code(3)
        .stdout("HELLO PIPES\n");
    pipescope()
        .args(["run", "--json", "--", "printf 'x\\0y' | cat"])
        .assert()
        .success()
        .stdout("x\0y");
    // Killed by a signal: reported as a shell would, 128 + 15.
    pipescope()
        .args(["run", "--plain", "--", "kill -TERM $$"])
        .assert()
        .code(143);
}

#[test]
fn the_report_carries_the_exit_status() {
    let out = pipescope()
        .args(["run", "--json", "--interval", "10ms", "--"])
        .arg("head -c 1M /dev/zero | cat > /dev/null; exit 5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8(out.stderr).unwrap();
    let last: Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
    assert_eq!(last["exit_status"], 5);
}

#[test]
fn plain_mode_prints_one_line_per_interval_then_the_report() {
    let pipeline = format!("head -c 1M /dev/zero | {SLOW} > /dev/null");
    let out = pipescope()
        .args(["run", "--interval", "50ms", "--", &pipeline])
        .output()
        .unwrap(); // no terminal here: plain without asking
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    let samples = err.lines().filter(|l| l.contains("=(")).count();
    assert!(samples >= 3, "{err}");
    assert!(err.contains("pipe capacity"), "{err}");
    assert!(err.contains("bottleneck: stage 2 `perl"), "{err}");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    for args in [
        &["run", "--interval", "5ms", "--", "true"][..],
        &["run", "--interval", "soon", "--", "true"][..],
        &["run", "--", ""][..],
    ] {
        let out = pipescope().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.trim().lines().count() <= 3, "{err}");
    }
}

#[test]
fn every_stage_keeps_its_place_and_label_when_the_first_exits_early() {
    // head reads 400 lines at once and exits, likely before the first look; the loop is
    // the slow stage. It must be stage 2 (index 1) under its own text, not index 0
    // under a command line.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lines");
    std::fs::write(
        &file,
        (1..=400).map(|i| format!("{i}\n")).collect::<String>(),
    )
    .unwrap();
    let head = format!("head -n 400 {}", file.display());
    let each = "while read -r l; do sleep 0.002; echo \"$l\"; done";
    let r = report(&format!("{head} | {each} | cat"), "20ms");
    assert_eq!(commands(&r), [head.as_str(), each, "cat"], "{r}");
    let st = r["stages"].as_array().unwrap();
    // Seen or not, the first stage is there; the others were seen.
    assert!(st[0]["pid"].is_null() || st[0]["pid"].is_u64(), "{r}");
    assert!(st[1]["pid"].is_u64() && st[2]["pid"].is_u64(), "{r}");
    assert_eq!(r["bottleneck"]["stage"], 1, "{}", r["bottleneck"]["reason"]);
    assert!(
        r["bottleneck"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("stage 2 `while read"),
        "{}",
        r["bottleneck"]["reason"]
    );
    // The pipe from head to the loop is the first pipe, 1→2, wherever head went.
    let pipes = r["pipes"].as_array().unwrap();
    assert_eq!(
        (pipes[0]["writer"].as_u64(), pipes[0]["reader"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn a_stage_gone_before_the_first_look_keeps_its_place_unseen() {
    // A forked `printf` lives for microseconds: gone before any look, as a rule.
    let r = report("printf 'a\\nb\\n' | (sleep 0.4; cat) | wc -l", "20ms");
    assert_eq!(
        commands(&r),
        ["printf 'a\\nb\\n'", "(sleep 0.4; cat)", "wc -l"],
        "{r}"
    );
    let st = r["stages"].as_array().unwrap();
    if st[0]["pid"].is_null() {
        assert_eq!(st[0]["samples"], 0, "{r}");
    }
    assert!(st[2]["pid"].is_u64(), "{r}");
}

#[test]
fn a_deadlocked_run_says_so_in_its_report_after_ctrl_c() {
    let script = "import subprocess\n\
p = subprocess.Popen([\"cat\"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n\
p.stdin.write(b\"x\" * 10_000_000)\n";
    let mut cmd = common::pipescope_process();
    cmd.args(["run", "--json", "--interval", "50ms", "--", "python3", "-c"])
        // Python's traceback on Ctrl-C would mix with the JSON on stderr.
        .arg(format!("'{script}' 2>/dev/null"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    // Its own process group, so that Ctrl-C (SIGINT to the group) reaches every stage.
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    let mut child = cmd.spawn().unwrap();
    // Read the samples until one says deadlock (at most 60 s: the machine may be busy).
    use std::io::{BufRead, BufReader};
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut text = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        let said = line.contains("\"verdict\":{\"kind\":\"deadlock\"");
        text.push_str(&line);
        line.clear();
        if said || std::time::Instant::now() > deadline {
            break;
        }
    }
    let group = format!("-{}", child.id());
    let status = StdCommand::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap();
    assert!(status.success());
    std::io::Read::read_to_string(&mut reader, &mut text).unwrap();
    child.wait().unwrap();
    let lines = json_lines(text.as_bytes());
    let r = lines.last().unwrap();
    assert_eq!(r["type"], "report", "{r}");
    assert_eq!(
        r["stages"].as_array().unwrap().len(),
        2,
        "python and cat: {r}"
    );
    assert_eq!(r["bottleneck"]["kind"], "deadlock", "{r}");
}

/// Sampling (no probe): a stage whose main thread only joins the worker thread that
/// reads its input is blocked reading, not asleep for reasons of its own.
#[test]
fn a_stage_reading_in_a_worker_thread_is_blocked_reading_when_sampled() {
    // The interpreter itself, not a launcher script (pyenv's shims are bash).
    let python = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let python = String::from_utf8(python.stdout).unwrap();
    let pipeline = format!(
        "{{ echo a; sleep 1.2; echo b; }} | {} -c 'import sys, threading; \
         t = threading.Thread(target=sys.stdin.buffer.read); t.start(); t.join()'",
        python.trim()
    );
    let r = report_with(&["--no-probe"], &pipeline, "30ms");
    let st = r["stages"].as_array().unwrap();
    let reader = st.last().unwrap();
    assert!(
        reader["command"].as_str().unwrap().contains("threading"),
        "{reader}"
    );
    assert!(reader["blocked_read"].as_f64().unwrap() > 0.6, "{reader}");
    assert!(reader["waiting"].as_f64().unwrap() < 0.3, "{reader}");
}
