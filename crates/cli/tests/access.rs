//! `pipescope access` driven through the real binary: the JSON is parsed back and
//! compared, exit statuses are checked for bad input, and batch mode keeps going past a
//! bad line.

mod common;

use serde_json::Value;

use common::{fails_with_2, json_lines, pipescope, pipescope_process};

/// `pipescope ARGS --json`, parsed.
fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    common::json(&all)
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn read_end_of_a_pipe_as_json() {
    let v = json(&["access", "0x120189", "file"]);
    assert_eq!(v["mask"], 0x120189);
    assert_eq!(v["hex"], "0x120189");
    assert_eq!(v["type"], "File");
    assert_eq!(
        strings(&v["rights"]),
        [
            "FILE_READ_DATA",
            "FILE_READ_EA",
            "FILE_READ_ATTRIBUTES",
            "FILE_WRITE_ATTRIBUTES",
            "READ_CONTROL",
            "SYNCHRONIZE"
        ]
    );
    assert_eq!(
        strings(&v["compact"]),
        ["FILE_GENERIC_READ", "FILE_WRITE_ATTRIBUTES"]
    );
    assert_eq!(v["unknown"], 0);
    assert_eq!(
        v["summary"],
        "read data, read extended attributes, read attributes, write attributes, read control, synchronize"
    );
    assert_eq!(v["details"][4]["group"], "standard");
    assert_eq!(v["details"][0]["bits"], 1);
}

#[test]
fn write_end_of_a_pipe_as_json() {
    let v = json(&["access", "0x120196", "FILE"]);
    assert_eq!(
        strings(&v["rights"]),
        [
            "FILE_WRITE_DATA",
            "FILE_APPEND_DATA",
            "FILE_WRITE_EA",
            "FILE_READ_ATTRIBUTES",
            "FILE_WRITE_ATTRIBUTES",
            "READ_CONTROL",
            "SYNCHRONIZE"
        ]
    );
    assert_eq!(
        strings(&v["compact"]),
        ["FILE_GENERIC_WRITE", "FILE_READ_ATTRIBUTES"]
    );
}

#[test]
fn human_output_names_every_bit_and_the_compact_form() {
    let out = pipescope()
        .args(["access", "0x120189", "file"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("0x00120189 (1180041)"), "{text}");
    assert!(text.contains("FILE_READ_EA"), "{text}");
    assert!(text.contains("specific"), "{text}");
    assert!(
        text.contains("compact  FILE_GENERIC_READ | FILE_WRITE_ATTRIBUTES"),
        "{text}"
    );
    assert!(
        text.contains("summary  read data, read extended attributes"),
        "{text}"
    );
}

#[test]
fn lsass_style_masks() {
    let v = json(&["access", "0x1fffff", "process"]);
    assert_eq!(strings(&v["compact"]), ["PROCESS_ALL_ACCESS"]);
    let v = json(&["access", "0x1010", "Process"]);
    assert_eq!(
        strings(&v["rights"]),
        ["PROCESS_VM_READ", "PROCESS_QUERY_LIMITED_INFORMATION"]
    );
    let v = json(&["access", "131097", "registry"]);
    assert_eq!(strings(&v["compact"]), ["KEY_READ"]);
}

#[test]
fn without_a_type_specific_bits_need_one() {
    let v = json(&["access", "0x1410"]);
    assert_eq!(v["type"], Value::Null);
    assert_eq!(v["unknown"], 0x1410);
    assert_eq!(v["needs_type"], true);
    let out = pipescope().args(["access", "0x1410"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("need a type"), "{text}");
}

#[test]
fn fdinfo_flags_with_a_leading_zero_are_octal() {
    let v = json(&["access", "02000001", "fd"]);
    assert_eq!(v["mask"], 0o2000001);
    assert_eq!(v["octal"], "02000001");
    assert_eq!(strings(&v["rights"]), ["O_WRONLY", "O_CLOEXEC"]);
}

#[test]
fn encode_and_map_generic() {
    let v = json(&[
        "access",
        "--encode",
        "FILE_GENERIC_READ|SYNCHRONIZE",
        "file",
    ]);
    assert_eq!(v["mask"], 0x120089);
    assert_eq!(strings(&v["compact"]), ["FILE_GENERIC_READ"]);
    let v = json(&[
        "access",
        "--encode",
        "CCDCLCSWRPWPDTLOCRSDRCWDWO",
        "service",
    ]);
    assert_eq!(strings(&v["compact"]), ["SERVICE_ALL_ACCESS"]);
    let v = json(&["access", "0x10000000", "file", "--map-generic"]);
    assert_eq!(v["mask"], 0x1f01ff);
    assert_eq!(v["mapped_from"], 0x1000_0000);
    assert_eq!(strings(&v["compact"]), ["FILE_ALL_ACCESS"]);
    let v = json(&["access", "--encode", "GA", "file", "--map-generic"]);
    assert_eq!(v["hex"], "0x1f01ff");
}

#[test]
fn types_lists_every_type_with_mapping() {
    let v = json(&["access", "--types"]);
    let list = v.as_array().unwrap();
    assert!(list.len() >= 39);
    let mutant = list.iter().find(|t| t["name"] == "Mutant").unwrap();
    assert!(strings(&mutant["aliases"]).contains(&"mutex"));
    assert_eq!(mutant["generic_mapping"]["all"], 0x1f0001);
    let out = pipescope().args(["access", "--types"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("WindowStation"), "{text}");
    assert!(text.contains("winsta"), "{text}");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    fails_with_2(&["access", "banana", "file"], "not a number");
    fails_with_2(&["access", "0x100000000", "file"], "32 bits");
    fails_with_2(&["access", "1", "gizmo"], "known types: File");
    fails_with_2(
        &["access", "--encode", "FILE_RAED_DATA", "file"],
        "did you mean FILE_READ_DATA?",
    );
    fails_with_2(&["access", "0x10000000", "--map-generic"], "needs a TYPE");
}

#[test]
fn batch_goes_on_past_a_bad_line_and_exits_1() {
    let out = pipescope()
        .args(["access", "-", "--json"])
        .write_stdin("0x120189 file\nnot-a-mask\n0x1fffff process\n\n0x3 ALPC Port\n7 nosuchtype\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 5);
    assert_eq!(
        strings(&lines[0]["compact"]),
        ["FILE_GENERIC_READ", "FILE_WRITE_ATTRIBUTES"]
    );
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["input"], "not-a-mask");
    assert!(lines[1]["error"].as_str().unwrap().contains("not a number"));
    assert_eq!(strings(&lines[2]["compact"]), ["PROCESS_ALL_ACCESS"]);
    assert_eq!(lines[3]["type"], "AlpcPort");
    assert_eq!(lines[3]["unknown"], 2);
    assert!(lines[4]["error"].as_str().unwrap().contains("unknown type"));
}

#[test]
fn batch_uses_the_default_type_and_prints_one_line_each() {
    let out = pipescope()
        .args(["access", "-", "file"])
        .write_stdin("0x120189\n0x120196\n0x1fffff process\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    let fields: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(
        fields[..3],
        [
            "0x00120196",
            "File",
            "FILE_GENERIC_WRITE | FILE_READ_ATTRIBUTES"
        ]
    );
    assert!(lines[2].starts_with("0x001fffff\tProcess\tPROCESS_ALL_ACCESS\t"));
}

#[test]
fn a_closed_stdout_ends_batch_quietly() {
    use std::io::{Read, Write};
    use std::process::Stdio;

    for json in [false, true] {
        let mut cmd = pipescope_process();
        cmd.args(["access", "-"]);
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let lines = "0x120189 file\n0x1fffff process\n".repeat(100_000);
            // The reader goes away early, so this write may fail: that is the point.
            let _ = stdin.write_all(lines.as_bytes());
        });
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 64];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(out.status.code(), Some(0), "json={json}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn batch_goes_on_past_bytes_that_are_not_utf8_and_escapes_what_it_echoes() {
    let input: &[u8] = b"0x1 file\n\xff\xfe file\n0x2 file\n\x1b[2J\x07\n0x3 file\n";
    let out = pipescope()
        .args(["access", "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("0x00000001\tFile"));
    assert_eq!(
        lines[1],
        "error\tline 2: not UTF-8 text (an invalid byte at column 1)"
    );
    assert!(lines[2].starts_with("0x00000002\tFile"));
    assert!(lines[3].starts_with("error\tline 4: not a number: `\\x1b[2J\\x07`"));
    assert!(lines[4].starts_with("0x00000003\tFile"));
    assert!(
        !text
            .bytes()
            .any(|b| b != b'\t' && b != b'\n' && common::is_control(b)),
        "no raw control byte: {text:?}"
    );

    let out = pipescope()
        .args(["access", "-", "--json"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["input"], "\u{fffd}\u{fffd} file");
    assert_eq!(lines[3]["input"], "\x1b[2J\x07");
    assert_eq!(lines[4]["mask"], 3);
}

/// A line far longer than any mask is an error for that line alone, read in constant
/// memory: the process stays small while the line streams through it (peak memory is
/// read from /proc: Linux only).
#[test]
#[cfg(target_os = "linux")]
fn batch_caps_the_line_length_in_constant_memory() {
    use std::io::Write;
    use std::process::Stdio;

    let mut child = pipescope_process()
        .args(["access", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let block = vec![b'a'; 1 << 20];
    for _ in 0..200 {
        stdin.write_all(&block).unwrap();
    }
    stdin.write_all(b"\n0x1 file\n").unwrap();
    stdin.flush().unwrap();
    // Still running (its stdin is open): its peak memory so far covers the whole line.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        peak_kib < 32 * 1024,
        "peak RSS {peak_kib} KiB for a 200 MiB line"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "error\tline 1: longer than 65536 bytes");
    assert!(lines[1].starts_with("0x00000001\tFile"), "{text}");
    assert_eq!(lines.len(), 2);
}
