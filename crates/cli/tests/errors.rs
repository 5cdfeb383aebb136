//! The error contract, as a user meets it: bad input is one clean line on stderr (no raw
//! control byte, a pointer to `--help` for usage errors) and status 2; output that cannot
//! be written ends quietly (a closed pipe) or with one line (a full disk), never a panic.
#![cfg(target_os = "linux")]

mod common;

use std::os::fd::OwnedFd;
use std::process::Stdio;

use common::{fails_with_2, one_error_line, pipescope, pipescope_process};

/// The write end of a pipe whose read end is already closed: every write fails (EPIPE).
fn closed_pipe() -> OwnedFd {
    let (read, write) = rustix::pipe::pipe().unwrap();
    drop(read);
    write
}

#[test]
fn completions_to_a_full_disk_is_one_line_and_status_2() {
    for shell in ["bash", "zsh", "fish"] {
        let full = std::fs::File::create("/dev/full").unwrap();
        let out = pipescope_process()
            .args(["completions", shell])
            .stdout(full)
            .output()
            .unwrap();
        let line = one_error_line(&out, 2);
        assert!(line.contains("No space left on device"), "{line}");
    }
}

#[test]
fn output_to_a_closed_pipe_ends_quietly_with_status_0() {
    let commands: [&[&str]; 5] = [
        &["completions", "zsh"],
        &["completions", "bash"],
        &["man"],
        &["access", "0x120189", "file"],
        &["--help"],
    ];
    for args in commands {
        let out = pipescope_process()
            .args(args)
            .stdout(closed_pipe())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    }
}

#[test]
fn an_error_with_stderr_closed_still_exits_2_without_a_panic() {
    let cases: [&[&str]; 4] = [
        &["access", "0x1", "bogus"],
        &["handles", "-p", "no-such-process-xyz"],
        &["handles", "--no-such-flag"],
        &["bogus"],
    ];
    for args in cases {
        let status = pipescope_process()
            .args(args)
            .stdout(Stdio::null())
            .stderr(closed_pipe())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn usage_errors_are_one_line_with_a_pointer_to_help() {
    let line = fails_with_2(&["handles", "--jsn"], "unexpected argument '--jsn'");
    assert!(
        line.contains("'--json'"),
        "clap's suggestion is kept: {line}"
    );
    assert!(line.ends_with("see `pipescope handles --help`"), "{line}");
    let line = fails_with_2(&["completions"], "<SHELL>");
    assert!(
        line.ends_with("see `pipescope completions --help`"),
        "{line}"
    );
    let line = fails_with_2(&["completions", "tcsh"], "invalid value 'tcsh'");
    assert!(line.contains("zsh"), "{line}");
    fails_with_2(&["bogus"], "unrecognized subcommand 'bogus'");
    let line = fails_with_2(&[], "give a command: access, handles");
    assert!(line.ends_with("see `pipescope --help`"), "{line}");
    fails_with_2(
        &["access", "--encode", "x", "--types"],
        "cannot be used with",
    );
    fails_with_2(&["handles", "-p"], "a value is required");
}

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    let out = pipescope().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: pipescope"));
    let out = pipescope().args(["handles", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--summary"));
    let out = pipescope().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("pipescope "));
}

#[test]
fn arguments_echoed_in_errors_are_escaped() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["access", "0x1", "\x1b]0;x\x07"],
            "unknown type `\\x1b]0;x\\x07`",
        ),
        (&["access", "\x1b[2J", "file"], "\\x1b[2J"),
        (&["handles", "-p", "\x1b[2J"], "\\x1b[2J"),
        (&["watch", "\x1b[2J"], "\\x1b[2J"),
        // clap drops what looks like a style sequence from its own messages.
        (&["handles", "--\x1b[2J\x07"], "unexpected argument"),
    ];
    for (args, shown) in cases {
        fails_with_2(args, shown);
    }
}

/// Input that used to be taken silently: a filter that can match nothing, a format
/// that was ignored, open flags with two access modes, malformed digit separators.
#[test]
fn input_that_cannot_mean_anything_is_refused() {
    let line = fails_with_2(&["handles", "-t", "bogus"], "unknown handle type `bogus`");
    assert!(line.contains("known types: file, dir, pipe"), "{line}");
    fails_with_2(
        &["handles", "-u", "no-such-user-pipescope"],
        "no user named `no-such-user-pipescope`",
    );
    fails_with_2(&["handles", "--summary", "--csv"], "cannot be used with");
    fails_with_2(
        &["access", "--encode", "O_RDWR|O_WRONLY", "fd"],
        "conflicting access modes `O_RDWR` and `O_WRONLY`",
    );
    for mask in ["1_", "0x1__0", "0x_1", "_1"] {
        fails_with_2(&["access", mask, "file"], "not a number");
    }
    // Still accepted: a known type in any case, a single separator between digits.
    let out = pipescope()
        .args([
            "handles",
            "-t",
            "PIPE",
            "-p",
            &std::process::id().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = pipescope()
        .args(["access", "0x12_0189", "file"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
