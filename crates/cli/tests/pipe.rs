//! `pipescope pipe`: a new anonymous pipe, both ends shown; with `--inherit` the same pipe
//! seen from the child that inherited the read end.
#![cfg(target_os = "linux")]

mod common;

use serde_json::Value;

use common::pipescope;

fn pipe(args: &[&str]) -> (Value, String) {
    let out = pipescope().arg("pipe").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let v = if args.contains(&"--json") {
        serde_json::from_str(&text).unwrap()
    } else {
        Value::Null
    };
    (v, text)
}

fn names(h: &Value) -> Vec<&str> {
    h["flags"]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect()
}

#[test]
fn both_ends_of_one_new_pipe() {
    let (v, _) = pipe(&["--json"]);
    let ends = v["ends"].as_array().unwrap();
    assert_eq!(ends.len(), 2);
    let (r, w) = (&ends[0], &ends[1]);
    assert_eq!(r["end"], "read");
    assert_eq!(w["end"], "write");
    assert_eq!(r["type"], "pipe");
    assert_eq!(r["pipe"], "anonymous");
    assert_eq!(
        (r["mode"].as_str(), w["mode"].as_str()),
        (Some("r"), Some("w"))
    );
    assert_eq!(names(r), ["O_RDONLY", "O_CLOEXEC"]);
    assert_eq!(names(w), ["O_WRONLY", "O_CLOEXEC"]);
    let ino = r["inode"].as_u64().unwrap();
    assert_eq!(w["inode"], ino);
    assert_eq!(r["dev"], 0);
    assert_eq!(r["name"], format!("pipe:[{ino}]"));
    assert_ne!(r["handle"], w["handle"]);
    // F_GETPIPE_SZ: at least a page, a power of two.
    let cap = v["capacity"].as_u64().unwrap();
    assert!(cap >= 4096 && cap.is_power_of_two(), "{cap}");
    assert!(v.get("seen_from").is_none());
}

#[test]
fn inherit_shows_the_pipe_from_creator_and_child() {
    let (v, _) = pipe(&["--inherit", "--json"]);
    let ino = v["ends"][0]["inode"].as_u64().unwrap();
    let seen = v["seen_from"].as_array().unwrap();
    assert_eq!(seen.len(), 2, "{v}");
    let creator = seen.iter().find(|s| s["role"] == "creator").unwrap();
    let child = seen.iter().find(|s| s["role"] == "child").unwrap();
    assert_eq!(creator["pid"], v["pid"]);
    assert_ne!(child["pid"], v["pid"]);
    // The creator kept only the write end; the child holds the read end as its stdin,
    // without O_CLOEXEC (it was inherited across exec).
    let ch = creator["handles"].as_array().unwrap();
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0]["mode"], "w");
    assert_eq!(ch[0]["inode"], ino);
    let kh = child["handles"].as_array().unwrap();
    assert_eq!(kh.len(), 1);
    assert_eq!(kh[0]["handle"], 0);
    assert_eq!(kh[0]["mode"], "r");
    assert_eq!(kh[0]["inode"], ino);
    assert_eq!(names(&kh[0]), ["O_RDONLY"]);
    // The child is gone once we return: the creator closed the write end.
    let child_pid = child["pid"].as_u64().unwrap();
    assert!(!std::path::Path::new(&format!("/proc/{child_pid}/fd")).exists());
}

#[test]
fn the_table_names_each_end() {
    let (_, text) = pipe(&["--inherit"]);
    assert!(text.contains("capacity"));
    let rows: Vec<&str> = text.lines().filter(|l| l.ends_with(']')).collect();
    let read_rows = rows.iter().filter(|l| l.contains("read end")).count();
    let write_rows = rows.iter().filter(|l| l.contains("write end")).count();
    // Once in the creator's table, once more in the "seen from both" table.
    assert_eq!((read_rows, write_rows), (2, 2), "{text}");
    assert!(text.contains("O_WRONLY|O_CLOEXEC"));
}
