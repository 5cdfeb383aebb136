//! `pipescope handles` against the process farm: every fd of every farm process is
//! listed with the right type, mode and name, in every output format.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use serde_json::Value;

use common::farm::Farm;
use common::{BIN, pipescope, pipescope_process};

/// Runs pipescope with `args` plus `-p PID` for every farm member; returns stdout.
fn run_on_farm(farm: &Farm, args: &[&str]) -> Vec<u8> {
    let mut cmd = pipescope();
    cmd.arg("handles").args(args);
    for pid in farm.pids() {
        cmd.args(["-p", &pid.to_string()]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn json_on_farm(farm: &Farm, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&run_on_farm(farm, &all)).unwrap()
}

/// The type pipescope must report for a farm fd, from its link target.
fn expected_type(target: &str) -> &'static str {
    if target.starts_with("pipe:[") {
        "pipe"
    } else if target.starts_with("socket:[") {
        "socket"
    } else if target == "anon_inode:[eventfd]" {
        "eventfd"
    } else if target == "/dev/null" {
        "char"
    } else {
        assert!(target.starts_with('/'), "unexpected farm fd {target}");
        "file"
    }
}

/// `(pid, fd) -> handle` from pipescope's JSON.
fn handles_by_fd(report: &Value) -> BTreeMap<(u64, u64), Value> {
    let mut map = BTreeMap::new();
    for p in report["processes"].as_array().unwrap() {
        for h in p["handles"].as_array().unwrap() {
            map.insert(
                (p["pid"].as_u64().unwrap(), h["handle"].as_u64().unwrap()),
                h.clone(),
            );
        }
    }
    map
}

#[test]
fn every_farm_fd_is_listed_with_its_type_mode_and_name() {
    let farm = Farm::start(&[
        "--pipelines",
        "4",
        "--stages",
        "3",
        "--extra",
        "14",
        "--leak",
        "2",
    ]);
    let report = json_on_farm(&farm, &[]);
    assert_eq!(report["errors"], Value::Array(vec![]));
    let seen = handles_by_fd(&report);
    let mut checked = 0;
    for p in farm.processes() {
        let pid = p["pid"].as_u64().unwrap();
        let reported = report["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["pid"] == pid)
            .unwrap_or_else(|| panic!("farm pid {pid} not listed"));
        assert_eq!(reported["name"], "python3");
        assert_eq!(reported["user"], whoami());
        let fds = p["fds"].as_object().unwrap();
        // Exactly the fds the member holds: none missing, none invented.
        assert_eq!(
            reported["handles"].as_array().unwrap().len(),
            fds.len(),
            "pid {pid}"
        );
        for (fd, target) in fds {
            let target = target.as_str().unwrap();
            let h = &seen[&(pid, fd.parse().unwrap())];
            assert_eq!(h["name"], target, "pid {pid} fd {fd}");
            assert_eq!(
                h["type"],
                expected_type(target),
                "pid {pid} fd {fd} {target}"
            );
            assert_eq!(h["mode"], p["modes"][fd], "pid {pid} fd {fd} {target}");
            if let Some(ino) = target
                .strip_prefix("pipe:[")
                .and_then(|t| t.strip_suffix(']'))
            {
                assert_eq!(h["inode"], ino.parse::<u64>().unwrap());
                assert_eq!(h["dev"], 0);
                assert_eq!(h["pipe"], "anonymous");
            } else {
                assert!(h.get("pipe").is_none());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, farm.manifest["total_fds"].as_u64().unwrap());
    // The leaky pipes: the stray write end is seen on fd 7 of the bystander.
    for pipe in farm.manifest["pipes"].as_array().unwrap() {
        for (side, mode) in [("readers", "r"), ("writers", "w")] {
            for end in pipe[side].as_array().unwrap() {
                let key = (end[0].as_u64().unwrap(), end[1].as_u64().unwrap());
                assert_eq!(seen[&key]["mode"], mode);
                assert_eq!(seen[&key]["inode"], pipe["inode"]);
            }
        }
    }
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn long_adds_flags_position_and_fdinfo_lines() {
    let farm = Farm::start(&["--pipelines", "1", "--stages", "2", "--extra", "8"]);
    let report = json_on_farm(&farm, &["-l"]);
    let seen = handles_by_fd(&report);
    let mut eventfds = 0;
    for ((pid, fd), h) in &seen {
        let names: Vec<&str> = h["flags"]["names"]
            .as_array()
            .unwrap_or_else(|| panic!("no flags for {pid}/{fd}: {h}"))
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        let want = match h["mode"].as_str().unwrap() {
            "r" => "O_RDONLY",
            "w" => "O_WRONLY",
            "rw" => "O_RDWR",
            m => panic!("farm fd {pid}/{fd} has mode {m}"),
        };
        assert_eq!(names[0], want, "{pid}/{fd}: {h}");
        assert!(h["details"]["pos"].is_u64(), "{h}");
        assert!(h["details"]["mnt_id"].is_u64(), "{h}");
        if h["type"] == "eventfd" {
            let extra = h["details"]["extra"].as_array().unwrap();
            assert!(extra.iter().any(|kv| kv["key"] == "eventfd-count"), "{h}");
            eventfds += 1;
        }
    }
    assert!(eventfds >= 2, "the farm opens an eventfd per member");
    // The table shows the same flags and the fdinfo lines under their handle.
    let table = String::from_utf8(run_on_farm(&farm, &["-l"])).unwrap();
    assert!(table.lines().next().unwrap().contains("FLAGS"));
    assert!(table.contains("O_WRONLY"));
    assert!(table.contains("eventfd-count: 0"));
}

#[test]
fn type_name_and_user_filters_narrow_the_list() {
    let farm = Farm::start(&["--pipelines", "2", "--stages", "2", "--extra", "8"]);
    let pipes = json_on_farm(&farm, &["-t", "pipe"]);
    let seen = handles_by_fd(&pipes);
    assert!(!seen.is_empty());
    assert!(seen.values().all(|h| h["type"] == "pipe"));
    // Every farm member holds at least its private pipe.
    assert_eq!(
        pipes["processes"].as_array().unwrap().len(),
        farm.pids().len()
    );

    let sockets_or_char = handles_by_fd(&json_on_farm(&farm, &["-t", "socket", "-t", "CHAR"]));
    assert!(sockets_or_char.values().any(|h| h["type"] == "socket"));
    assert!(sockets_or_char.values().any(|h| h["type"] == "char"));
    assert!(
        sockets_or_char
            .values()
            .all(|h| h["type"] == "socket" || h["type"] == "char")
    );

    let null = handles_by_fd(&json_on_farm(&farm, &["--name", "DEV/NUL"]));
    assert!(!null.is_empty());
    assert!(null.values().all(|h| h["name"] == "/dev/null"));

    let mine = json_on_farm(&farm, &["-u", &whoami()]);
    assert_eq!(
        mine["processes"].as_array().unwrap().len(),
        farm.pids().len()
    );
    let nobody = json_on_farm(&farm, &["-u", "nobody"]);
    assert_eq!(nobody["processes"], Value::Array(vec![]));
}

#[test]
fn a_process_name_selects_by_comm() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    common::wait_for_exec(child.id(), "sleep");
    let out = pipescope()
        .args(["handles", "--json", "-p", "sleep"])
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let procs = v["processes"].as_array().unwrap();
    assert!(procs.iter().any(|p| p["pid"] == child.id()));
    assert!(procs.iter().all(|p| p["name"] == "sleep"));
}

#[test]
fn summary_counts_agree_with_the_list() {
    let farm = Farm::start(&["--pipelines", "2", "--stages", "3", "--extra", "10"]);
    let list = json_on_farm(&farm, &[]);
    let summary = json_on_farm(&farm, &["--summary"]);
    let total = farm.manifest["total_fds"].as_u64().unwrap();
    assert_eq!(summary["total_handles"], total);
    assert_eq!(summary["total_processes"], farm.pids().len());
    let by_type: u64 = summary["by_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["count"].as_u64().unwrap())
        .sum();
    assert_eq!(by_type, total);
    let pipes_listed = handles_by_fd(&list)
        .values()
        .filter(|h| h["type"] == "pipe")
        .count() as u64;
    let pipes_counted = summary["by_type"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "pipe")
        .unwrap()["count"]
        .as_u64()
        .unwrap();
    assert_eq!(pipes_counted, pipes_listed);
    let text = String::from_utf8(run_on_farm(&farm, &["--summary"])).unwrap();
    assert!(text.contains(&format!(
        "total: {total} handles in {} processes",
        farm.pids().len()
    )));
}

#[test]
fn csv_has_a_header_and_one_record_per_handle() {
    let farm = Farm::start(&["--pipelines", "1", "--stages", "2", "--extra", "6"]);
    let csv = String::from_utf8(run_on_farm(&farm, &["--csv"])).unwrap();
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next().unwrap(),
        "pid,process,user,handle,type,mode,name,inode,dev,pipe,flags"
    );
    let records: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(
        records.len() as u64,
        farm.manifest["total_fds"].as_u64().unwrap()
    );
    for p in farm.processes() {
        let pid = p["pid"].to_string();
        for (fd, target) in p["fds"].as_object().unwrap() {
            let r = records
                .iter()
                .find(|r| r[0] == pid && r[3] == fd)
                .unwrap_or_else(|| panic!("no record for {pid}/{fd}"));
            assert_eq!(r[6], target.as_str().unwrap());
            assert_eq!(r[5], p["modes"][fd].as_str().unwrap());
        }
    }
}

#[test]
fn table_lists_every_farm_fd_once() {
    let farm = Farm::start(&["--pipelines", "1", "--stages", "2", "--extra", "6"]);
    let table = String::from_utf8(run_on_farm(&farm, &[])).unwrap();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["PID", "PROCESS", "HANDLE", "TYPE", "MODE", "NAME"]);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        rows.len() as u64,
        farm.manifest["total_fds"].as_u64().unwrap()
    );
    for row in &rows {
        let p = farm
            .processes()
            .iter()
            .find(|p| p["pid"].as_u64() == row[0].parse().ok())
            .unwrap();
        assert_eq!(row[5], p["fds"][row[2]].as_str().unwrap());
        assert_eq!(row[4], p["modes"][row[2]].as_str().unwrap());
        assert_eq!(row[3], expected_type(row[5]));
    }
    // Not a terminal: no colour.
    assert!(!table.contains('\x1b'));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // Enough output to overflow the pipe, so the write really meets a closed reader.
    let _farm = Farm::start(&["--pipelines", "10", "--stages", "3", "--extra", "40"]);
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#""$0" handles | head -1; echo "status ${PIPESTATUS[0]}" >&2"#)
        .arg(BIN)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("status 0"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);

    // And when the reader is gone before anything is written.
    let mut child = pipescope_process()
        .args(["handles", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let out = pipescope()
        .args(["handles", "-p", "no-such-process-name-xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no process matches no-such-process-name-xyz"));
    let out = pipescope()
        .args(["handles", "--json", "--csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn long_shows_the_stray_write_end_sharing_the_writers_description() {
    let farm = Farm::start(&[
        "--pipelines",
        "2",
        "--stages",
        "2",
        "--extra",
        "4",
        "--leak",
        "1",
    ]);
    let leaky = farm.manifest["leaky_inodes"][0].as_u64().unwrap();
    let pipe = farm.manifest["pipes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["inode"] == leaky)
        .unwrap();
    let ends = |side: &str| -> Vec<(u64, u64)> {
        pipe[side]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w[0].as_u64().unwrap(), w[1].as_u64().unwrap()))
            .collect()
    };
    let mut writers = ends("writers");
    writers.sort();
    assert_eq!(writers.len(), 2, "the stage and the bystander");
    let reader = ends("readers")[0];
    // Streamed (every process) and collected (-p each farm member) JSON agree.
    let everything: Value = serde_json::from_slice(
        &pipescope()
            .args(["handles", "-l", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for report in [everything, json_on_farm(&farm, &["-l"])] {
        let shared: Vec<Vec<(u64, u64)>> = report["shared"]
            .as_array()
            .unwrap()
            .iter()
            .map(|class| {
                class
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| (r["pid"].as_u64().unwrap(), r["handle"].as_u64().unwrap()))
                    .collect()
            })
            .collect();
        // Both writers were made from one pipe(2) call by fork and dup2: one description.
        assert!(shared.contains(&writers), "{shared:?}");
        // The reader shares its description with no one.
        assert!(!shared.iter().flatten().any(|r| *r == reader));
    }
    // The table notes it under each writer.
    let table = String::from_utf8(run_on_farm(&farm, &["-l", "-t", "pipe"])).unwrap();
    let note = format!("shared with pid {} handle {}", writers[1].0, writers[1].1);
    assert!(table.contains(&note), "{table}");
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    // `script` gives pipescope a pseudo-terminal as stdout.
    if Command::new("script").arg("--version").output().is_err() {
        panic!("`script` (util-linux) is needed for this test");
    }
    let me = std::process::id().to_string();
    let on_tty = |no_color: Option<&str>| -> String {
        let mut cmd = Command::new("script");
        cmd.args(["-qec"])
            .arg(format!("{BIN} handles -p {me}"))
            .arg("/dev/null")
            .env_remove("NO_COLOR")
            .env("TERM", "xterm");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_tty(None);
    // A bold header on a terminal.
    assert!(coloured.starts_with("\x1b[1m"), "{coloured:?}");
    assert!(coloured.lines().next().unwrap().contains("PID  PROCESS"));
    let plain = on_tty(Some("1"));
    assert!(
        plain.lines().next().unwrap().contains("PID  PROCESS"),
        "{plain:?}"
    );
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

#[test]
fn flags_alone_adds_only_the_open_flags() {
    let farm = Farm::start(&["--pipelines", "1", "--stages", "2", "--extra", "8"]);
    let seen = handles_by_fd(&json_on_farm(&farm, &["--flags"]));
    assert_eq!(
        seen.len() as u64,
        farm.manifest["total_fds"].as_u64().unwrap()
    );
    for ((pid, fd), h) in &seen {
        assert!(h.get("details").is_none(), "{h}");
        let mask = h["flags"]["mask"]
            .as_u64()
            .unwrap_or_else(|| panic!("{pid}/{fd}: {h}"));
        let access = match mask & 3 {
            0 => "r",
            1 => "w",
            _ => "rw",
        };
        // The mode read from the fd link's permission bits agrees with fdinfo.
        assert_eq!(h["mode"], access, "{pid}/{fd}: {h}");
    }
}

/// A userfaultfd is created read-only: the table (mode from the fd link) and `-l` (mode
/// from fdinfo flags) must say the same.
#[test]
fn a_userfaultfd_has_one_mode_with_or_without_long() {
    use std::io::{BufRead, BufReader};
    // userfaultfd(2) is system call 323 on x86_64; UFFD_USER_MODE_ONLY (1) needs no
    // privilege where unprivileged userfaultfd is off.
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import ctypes, os, sys, time\n\
             libc = ctypes.CDLL(None, use_errno=True)\n\
             fd = libc.syscall(323, os.O_CLOEXEC | 1)\n\
             print(fd, flush=True)\n\
             time.sleep(30)",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let fd: i64 = line.trim().parse().unwrap();
    let pid = child.id().to_string();
    let plain = common::json(&["handles", "-p", &pid, "--json"]);
    let long = common::json(&["handles", "-p", &pid, "-l", "--json"]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(fd >= 0, "userfaultfd(2) failed here");
    let mode = |v: &Value| {
        let h = v["processes"][0]["handles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["handle"] == fd)
            .unwrap()
            .clone();
        assert_eq!(h["type"], "userfaultfd");
        h["mode"].clone()
    };
    assert_eq!(mode(&plain), "r");
    assert_eq!(mode(&long), "r");
}
