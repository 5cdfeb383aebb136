//! Hostile names: a file whose path holds a newline, a terminal escape sequence and
//! invalid UTF-8, about 4,000 bytes long. The table shows it escaped, JSON carries its
//! exact bytes, CSV quotes it.
#![cfg(target_os = "linux")]

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

mod common;

use common::pipescope;

const LEAF: &[u8] = b"evil\nname\x1b[31mred\xff\xfe,\"q\".txt";

/// A child holding the hostile file open on its stdin, and the file's path.
fn child_holding_hostile_file(dir: &tempfile::TempDir) -> (Child, Vec<u8>) {
    let mut path = PathBuf::from(dir.path());
    // Nested directories to make the path about 4,000 bytes (PATH_MAX is 4,096).
    while path.as_os_str().len() < 3900 {
        path.push("d".repeat(200));
    }
    std::fs::create_dir_all(&path).unwrap();
    path.push(OsStr::from_bytes(LEAF));
    std::fs::write(&path, b"x").unwrap();
    let file = File::open(&path).unwrap();
    let child = Command::new("sleep")
        .arg("30")
        .stdin(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_for_exec(child.id(), "sleep");
    (child, path.as_os_str().as_bytes().to_vec())
}

fn handles(pid: u32, format: &[&str]) -> Vec<u8> {
    let out = pipescope()
        .args(["handles", "-p", &pid.to_string()])
        .args(format)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let digits: Vec<u8> = chunk
            .iter()
            .filter(|&&c| c != b'=')
            .map(|&c| val(c))
            .collect();
        let n = digits
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        for i in 0..digits.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// Splits CSV text (RFC 4180) into records of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = vec![];
    let mut record = vec![];
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

#[test]
fn hostile_names_are_escaped_kept_and_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, path) = child_holding_hostile_file(&dir);
    let pid = child.id();
    assert!(path.len() > 3900 && path.len() < 4096);

    let table = handles(pid, &[]);
    let json = handles(pid, &["--json"]);
    let csv = handles(pid, &["--csv"]);
    child.kill().unwrap();
    child.wait().unwrap();

    // Table: no raw control byte anywhere but the line ends; one line per handle.
    assert!(
        !table.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f),
        "raw control byte in the table"
    );
    let table = String::from_utf8(table).expect("the table is valid UTF-8");
    let row = table
        .lines()
        .find(|l| l.split_whitespace().nth(2) == Some("0"))
        .unwrap();
    assert!(
        row.ends_with("/evil\\nname\\x1b[31mred\\xff\\xfe,\"q\".txt"),
        "{row}"
    );

    // JSON: valid, and the exact bytes come back from name_b64.
    let v: Value = serde_json::from_slice(&json).unwrap();
    let count = v["processes"][0]["handles"].as_array().unwrap().len();
    assert!(count >= 3);
    // The newline in the name did not split a row: a header and one line per handle.
    assert_eq!(table.lines().count(), count + 1, "{table}");
    let h = v["processes"][0]["handles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["handle"] == 0)
        .unwrap()
        .clone();
    assert_eq!(h["type"], "file");
    assert_eq!(h["mode"], "r");
    assert_eq!(b64_decode(h["name_b64"].as_str().unwrap()), path);
    assert_eq!(h["name"].as_str().unwrap(), String::from_utf8_lossy(&path));
    // Names that are valid UTF-8 carry no name_b64.
    let fd1 = v["processes"][0]["handles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["handle"] == 1)
        .unwrap();
    assert_eq!(fd1["name"], "/dev/null");
    assert!(fd1.get("name_b64").is_none());

    // CSV: escaped as the table is (no raw control byte in any cell, the exact bytes
    // recoverable), and quoted so that the comma and quotes stay inside one field.
    assert!(
        !csv.iter()
            .any(|&b| (b < 0x20 && b != b'\n' && b != b'\r') || b == 0x7f),
        "raw control byte in the CSV"
    );
    let csv = String::from_utf8(csv).unwrap();
    let records = parse_csv(&csv);
    assert_eq!(records.len(), count + 1, "{csv:?}");
    assert!(records.iter().all(|r| r.len() == 11));
    let r = records.iter().find(|r| r[3] == "0").unwrap();
    assert!(
        r[6].ends_with("/evil\\nname\\x1b[31mred\\xff\\xfe,\"q\".txt"),
        "{}",
        r[6]
    );
    assert!(r[6].starts_with(dir.path().to_str().unwrap()), "{}", r[6]);
}

/// A process holding a directory whose path is longer than the kernel will return
/// (about 5,000 bytes, over PATH_MAX) on fd 3, with its stdout a pipe to `cat`: the one
/// unreadable fd costs its name only, never the process or its pipe ends.
#[test]
fn an_fd_whose_name_cannot_be_read_costs_that_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "cd {} && (L=$(printf 'd%.0s' $(seq 250)); for i in $(seq 20); do mkdir $L && cd -P $L; done; \
         exec 3<. ; exec sleep 60) | cat",
        dir.path().display()
    );
    let sh = common::Group::shell(&script);
    let (sleep, cat) = common::until("sleep and cat", || {
        let kids = common::children(sh.pid());
        let names: Vec<String> = kids.iter().map(|&p| common::comm(p)).collect();
        let fd3 = kids
            .first()
            .is_some_and(|p| std::fs::symlink_metadata(format!("/proc/{p}/fd/3")).is_ok());
        (names == ["sleep", "cat"] && fd3).then(|| (kids[0], kids[1]))
    });

    // handles: listed, no error, fd 3 with its type and identity and why it has no name.
    let v = common::json(&["handles", "-p", &sleep.to_string(), "--json"]);
    assert_eq!(v["errors"], Value::Array(vec![]), "{v}");
    let handles = v["processes"][0]["handles"].as_array().unwrap();
    let fd = |n: u64| handles.iter().find(|h| h["handle"] == n).unwrap();
    assert_eq!(fd(1)["type"], "pipe");
    assert_eq!(fd(1)["mode"], "w");
    let h3 = fd(3);
    assert_eq!(h3["type"], "dir");
    assert_eq!(h3["name"], "");
    assert!(h3["inode"].as_u64().is_some(), "{h3}");
    let why = h3["details"]["name_unavailable"].as_str().unwrap();
    assert!(why.contains("too long"), "{why}");
    let out = pipescope()
        .args(["handles", "-p", &sleep.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("<name unavailable: "), "{table}");

    // pipes: the pipe keeps its writer, and --why names it.
    let v = common::json(&["pipes", "--why", &format!("{cat}:0"), "--json"]);
    let holders = v["holders"].as_array().unwrap();
    assert_eq!(holders.len(), 1, "{v}");
    assert_eq!(holders[0]["pid"], sleep);
    assert_eq!(holders[0]["handle"], 1);
    let out = pipescope()
        .args(["pipes", "--why", &format!("{cat}:0")])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("{sleep} sleep fd 1 (w)")), "{text}");
    assert!(!text.contains("no-writer"), "{text}");
}

/// A process whose short name is not UTF-8 and holds an escape sequence: JSON keeps the
/// exact bytes (`name_b64`), the table and CSV show them escaped.
#[test]
fn a_process_name_that_is_not_utf8_keeps_its_bytes() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import ctypes, time\n\
             ctypes.CDLL(None).prctl(15, b'ev\\xff\\x1b[2Jil', 0, 0, 0)\n\
             print('ok', flush=True)\n\
             time.sleep(30)",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = child.id();
    let json = handles(pid, &["--json"]);
    let table = handles(pid, &[]);
    let csv = handles(pid, &["--csv"]);
    child.kill().unwrap();
    child.wait().unwrap();

    let v: Value = serde_json::from_slice(&json).unwrap();
    let p = &v["processes"][0];
    assert_eq!(p["name"], "ev\u{fffd}\u{1b}[2Jil");
    assert_eq!(
        b64_decode(p["name_b64"].as_str().unwrap()),
        b"ev\xff\x1b[2Jil"
    );
    let table = String::from_utf8(table).unwrap();
    assert!(table.contains(" ev\\xff\\x1b[2Jil "), "{table}");
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains(",ev\\xff\\x1b[2Jil,"), "{csv}");
}
