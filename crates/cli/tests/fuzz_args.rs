//! Random command lines against the real binary: every subcommand (as `--help` lists
//! them, so new ones are covered), its own flags (as its `--help` lists them) and values
//! a hostile user would try — escape sequences, bytes that are not UTF-8, huge numbers,
//! overflowing durations, empty and very long strings. Whatever the arguments, pipescope
//! must never panic or abort: status 101 and 134, a death by signal, or "panicked" on
//! stderr fail the test. (Set PROPTEST_CASES for a longer run.)
#![cfg(target_os = "linux")]

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use common::{BIN, pipescope};

/// The subcommands `pipescope --help` lists (but `help`).
fn subcommands() -> Vec<String> {
    let out = pipescope().arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

/// The flags `pipescope SUB --help` lists (`-p`, `--process`, …), but --help/--version.
fn flags(sub: &str) -> Vec<String> {
    let out = pipescope().args([sub, "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut flags = Vec::new();
    for line in text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
    {
        for word in line.split([',', ' ']).take(3) {
            let word = word.trim();
            if word.starts_with('-') && word.len() > 1 && !word.contains(['<', '[']) {
                flags.push(word.to_owned());
            }
        }
    }
    flags.retain(|f| !matches!(f.as_str(), "-h" | "--help" | "-V" | "--version"));
    flags
}

/// Values a hostile user would try. Nothing here is a command a shell would run to harm
/// (`run` is given them as pipelines too).
const VALUES: &[&[u8]] = &[
    b"",
    b"-",
    b"--",
    b"0",
    b"1",
    b"-1",
    b"4294967295",
    b"4294967296",
    b"18446744073709551616",
    b"99999999999999999999999999",
    b"0x",
    b"0x1__0",
    b"1_",
    b"0o8",
    b"1e20s",
    b"1.8e19s",
    b"18446744073709551616s",
    b"0s",
    b"0.000001ms",
    b"-5ms",
    b"NaNs",
    b"infs",
    b"1:0",
    b"1:-1",
    b"0x1:0x2",
    b"a:b",
    b"::",
    b"file",
    b"fd",
    b"O_RDWR|O_WRONLY",
    b"|||",
    b"FILE_GENERIC_READ|",
    b"bash",
    b"nobody",
    b"no-such-user-xyz",
    b"\x1b[2J",
    b"\x1b]0;x\x07",
    b"\xff\xfe",
    b"\x01\x7f",
    b"a\nb",
    b"%s%n%x",
    b"true",
    b"sleep 0.1 | cat",
    b"exit 3",
];

#[derive(Debug, Clone)]
enum Arg {
    Flag(usize),
    Value(usize),
    Bytes(Vec<u8>),
    Long(usize),
}

fn args() -> impl Strategy<Value = (usize, Vec<Arg>)> {
    let arg = prop_oneof![
        4 => any::<usize>().prop_map(Arg::Flag),
        4 => (0..VALUES.len()).prop_map(Arg::Value),
        2 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(Arg::Bytes),
        1 => (1usize..100_000).prop_map(Arg::Long),
    ];
    (any::<usize>(), proptest::collection::vec(arg, 0..6))
}

/// Runs pipescope with `argv` for at most `limit` (a live view of a real pipeline may
/// run on: it is then stopped, which is not a failure), in its own process group so that
/// whatever it started ends with it. Returns the status (None when stopped) and stderr.
fn run(argv: &[OsString], limit: Duration) -> (Option<std::process::ExitStatus>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let err_path = dir.path().join("stderr");
    let mut child = std::process::Command::new(BIN)
        .args(argv)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let pgid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
    let _ = child.wait();
    (status, std::fs::read(&err_path).unwrap_or_default())
}

#[test]
fn no_command_line_makes_pipescope_panic() {
    let subs = subcommands();
    assert!(subs.len() >= 8, "subcommands from --help: {subs:?}");
    let flags: Vec<Vec<String>> = subs.iter().map(|s| flags(s)).collect();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(160);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&args(), |(sub, list)| {
            let sub = sub % subs.len();
            let mut argv: Vec<OsString> = vec![subs[sub].clone().into()];
            for a in &list {
                argv.push(match a {
                    Arg::Flag(i) if !flags[sub].is_empty() => {
                        flags[sub][i % flags[sub].len()].clone().into()
                    }
                    Arg::Flag(i) | Arg::Value(i) => {
                        OsString::from_vec(VALUES[i % VALUES.len()].to_vec())
                    }
                    // An argument cannot hold a NUL byte.
                    Arg::Bytes(b) => OsString::from_vec(b.iter().map(|&c| c.max(1)).collect()),
                    Arg::Long(n) => "7".repeat(*n).into(),
                });
            }
            let (status, stderr) = run(&argv, Duration::from_secs(5));
            let text = String::from_utf8_lossy(&stderr);
            prop_assert!(!text.contains("panicked"), "{argv:?}: panicked: {text}");
            if let Some(st) = status {
                prop_assert!(
                    !matches!(st.code(), Some(101 | 134)),
                    "{argv:?}: status {st:?}: {text}"
                );
                prop_assert!(st.signal().is_none(), "{argv:?}: killed by {st:?}: {text}");
            }
            Ok(())
        })
        .unwrap();
}
