//! Faults during a scan: a process that may not be inspected is listed under `errors`
//! (one stderr line in table mode) with exit status 0; processes that exit mid-scan are
//! skipped quietly and counted.
#![cfg(target_os = "linux")]

mod common;

use std::process::{Command, Stdio};

use serde_json::Value;

use common::{is_root, pipescope, pipescope_as_nobody};

#[test]
fn another_users_process_is_an_error_entry_not_a_failure() {
    // As root: a root process inspected by `nobody`. Otherwise: pid 1, which is root's.
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let target = if is_root() { child.id() } else { 1 };
    let dir = tempfile::tempdir().unwrap();
    let json = pipescope_as_nobody(&dir)
        .args(["handles", "--json", "-p", &target.to_string()])
        .output()
        .unwrap();
    let table = pipescope_as_nobody(&dir)
        .args(["handles", "-p", &target.to_string()])
        .output()
        .unwrap();
    let all = pipescope_as_nobody(&dir)
        .args(["handles", "--summary", "--json"])
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(
        json.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&json.stderr), "");
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["processes"], Value::Array(vec![]));
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["pid"], target);
    assert_eq!(errors[0]["kind"], "permission_denied");
    assert_eq!(errors[0]["error"], "permission denied");
    if is_root() {
        assert_eq!(errors[0]["process"], "sleep");
    }

    assert_eq!(table.status.code(), Some(0));
    let stderr = String::from_utf8(table.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("pid {target}")), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");

    // Scanning everything: still status 0, the process among the errors.
    assert_eq!(all.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&all.stdout).unwrap();
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["pid"] == target)
    );
    assert!(v["total_processes"].as_u64().unwrap() >= 1, "{v}");
}

#[test]
fn processes_exiting_mid_scan_are_counted_not_fatal() {
    // A shell starting short-lived processes as fast as it can.
    let mut churn = Command::new("sh")
        .args(["-c", "while :; do /bin/true; /bin/true; /bin/true; done"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut vanished = 0;
    let mut scans = 0;
    while vanished == 0 && scans < 300 {
        scans += 1;
        let out = pipescope()
            .args(["handles", "--summary", "--json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        // A vanished process is not an error.
        assert!(
            v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["kind"] != "gone"),
            "{v}"
        );
        vanished = v["vanished"].as_u64().unwrap();
    }
    churn.kill().unwrap();
    churn.wait().unwrap();
    assert!(vanished > 0, "no process vanished in {scans} scans");
}

/// Denied is not absent: `pipes -p` of a process the scan may not read says so, by pid
/// and by name, instead of "no process matches".
#[test]
fn pipes_of_a_process_that_may_not_be_read_says_permission_denied() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    common::wait_for_exec(child.id(), "sleep");
    let target = if is_root() { child.id() } else { 1 };
    let dir = tempfile::tempdir().unwrap();
    let by_pid = pipescope_as_nobody(&dir)
        .args(["pipes", "-p", &target.to_string()])
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let line = common::one_error_line(&by_pid, 2);
    assert!(
        line.starts_with(&format!("pipescope: cannot inspect pid {target}")),
        "{line}"
    );
    assert!(line.ends_with("permission denied"), "{line}");
}
