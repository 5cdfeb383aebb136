//! `pipescope pipe`, `handles` and `pipes` on Windows, run for real under Wine by
//! `scripts/test` (the test binary runs inside Wine, so it starts `pipescope.exe` as an
//! ordinary Windows process). A pipe is made with `CreatePipe` (through the library) and
//! its read end handed to a child, as `dir | findstr` does.
#![cfg(windows)]

mod common;

use std::process::{Child, Stdio};

use serde_json::Value;

use common::{json, pipescope, pipescope_process};

/// A child holding the read end of a CreatePipe pipe as its stdin (`pipescope pipe
/// --hold` reads it until end-of-file); this test process keeps the write end.
struct Reader {
    child: Child,
    write: Option<std::os::windows::io::OwnedHandle>,
    name: String,
}

impl Reader {
    fn start() -> Reader {
        let mut demo = pipescope_core::create_pipe().unwrap();
        let child = pipescope_process()
            .args(["pipe", "--hold"])
            .stdin(Stdio::from(demo.read_handle.take().unwrap()))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Reader {
            child,
            write: demo.write_handle.take(),
            name: demo.read.name.to_string_lossy().into_owned(),
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // End-of-file ends the child; kill it in case it did not start reading.
        drop(self.write.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn handles_of(v: &Value, pid: u32) -> Vec<Value> {
    let p = v["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("pid {pid} not listed: {v}"));
    p["handles"].as_array().unwrap().clone()
}

#[test]
fn pipe_shows_both_ends_with_the_seed_access_masks() {
    let v = json(&["pipe", "--json"]);
    let ends = v["ends"].as_array().unwrap();
    assert_eq!(ends.len(), 2);
    let (r, w) = (&ends[0], &ends[1]);
    assert_eq!(
        (r["end"].as_str(), w["end"].as_str()),
        (Some("read"), Some("write"))
    );
    assert_eq!(r["access"], 0x120189);
    assert_eq!(w["access"], 0x120196);
    assert_eq!(r["type"], "File");
    assert_eq!(r["mode"], "r");
    assert_eq!(w["mode"], "w");
    assert_eq!(r["pipe"], "anonymous");
    assert_eq!(
        r["access_decoded"]["compact"],
        serde_json::json!(["FILE_GENERIC_READ", "FILE_WRITE_ATTRIBUTES"])
    );
    assert_eq!(
        w["access_decoded"]["compact"],
        serde_json::json!(["FILE_GENERIC_WRITE", "FILE_READ_ATTRIBUTES"])
    );
    let d = &r["details"];
    assert!(d["handle_count"].as_u64().unwrap() >= 1, "{d}");
    assert!(d["pointer_count"].as_u64().unwrap() >= 1, "{d}");
    assert!(
        d["paged_quota"].is_u64() && d["nonpaged_quota"].is_u64(),
        "{d}"
    );
    // Never 0x0: an address, or "hidden" (Wine hides them all).
    let addr = d["object_address"].as_str().unwrap();
    assert!(
        addr == "hidden" || (addr.starts_with("0x") && addr != "0x0"),
        "{addr}"
    );
    let extra: Vec<(&str, &str)> = d["extra"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| (kv["key"].as_str().unwrap(), kv["value"].as_str().unwrap()))
        .collect();
    assert!(extra.contains(&("pipe-end", "server")), "{extra:?}");
    assert!(v["capacity"].as_u64().unwrap() > 0);
}

#[test]
fn pipe_table_names_the_access_and_hides_no_address_as_zero() {
    let out = pipescope().arg("pipe").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("0x120189 FILE_GENERIC_READ|FILE_WRITE_ATTRIBUTES"),
        "{text}"
    );
    assert!(
        text.contains("0x120196 FILE_GENERIC_WRITE|FILE_READ_ATTRIBUTES"),
        "{text}"
    );
    assert!(text.contains("pipe-end: server"), "{text}");
    assert!(!text.contains(" 0x0 "), "{text}");
}

#[test]
fn pipe_inherit_shows_the_pipe_from_both_processes() {
    let v = json(&["pipe", "--inherit", "--json"]);
    let seen = v["seen_from"].as_array().unwrap();
    let creator = seen.iter().find(|s| s["role"] == "creator").unwrap();
    let child = seen.iter().find(|s| s["role"] == "child").unwrap();
    let ch = child["handles"].as_array().unwrap();
    assert!(
        ch.iter().any(|h| h["access"] == 0x120189
            && h["mode"] == "r"
            && h["details"]["attributes"] == serde_json::json!(["inherit"])),
        "{child}"
    );
    let cr = creator["handles"].as_array().unwrap();
    assert!(cr.iter().any(|h| h["access"] == 0x120196), "{creator}");
}

#[test]
fn handles_of_a_child_list_the_end_it_inherited() {
    let reader = Reader::start();
    let pid = reader.child.id();
    let v = json(&["handles", "-p", &pid.to_string(), "--json"]);
    let hs = handles_of(&v, pid);
    let end = hs
        .iter()
        .find(|h| h["access"] == 0x120189 && h["pipe"] == "anonymous")
        .unwrap_or_else(|| panic!("no read end in {hs:?}"));
    assert_eq!(end["type"], "File");
    assert_eq!(end["mode"], "r");
    assert_eq!(end["name"].as_str().unwrap(), reader.name);
}

#[test]
fn handles_of_our_own_process_list_both_ends_as_file() {
    let demo = pipescope_core::create_pipe().unwrap();
    let me = std::process::id();
    let v = json(&["handles", "-p", &me.to_string(), "-t", "file", "--json"]);
    let hs = handles_of(&v, me);
    for (h, access) in [(&demo.read, 0x120189), (&demo.write, 0x120196)] {
        let listed = hs
            .iter()
            .find(|x| x["handle"] == h.handle)
            .unwrap_or_else(|| panic!("{:#x} not in {hs:?}", h.handle));
        assert_eq!(listed["type"], "File");
        assert_eq!(listed["access"], access);
    }
}

#[test]
fn pipes_pairs_the_writer_here_with_the_reader_in_the_child() {
    let reader = Reader::start();
    let pid = reader.child.id();
    if reader.name.is_empty() {
        return; // Windows 10+: unnamed ends cannot be paired (see the README, "pipescope on Windows")
    }
    let v = json(&["pipes", "-p", &pid.to_string(), "--json"]);
    let pipe = v["pipes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == reader.name.as_str())
        .unwrap_or_else(|| panic!("{} not in {v}", reader.name));
    assert_eq!(pipe["kind"], "anonymous");
    let pids = |side: &str| -> Vec<u64> {
        pipe[side]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pid"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(pids("readers"), [u64::from(pid)]);
    assert_eq!(pids("writers"), [u64::from(std::process::id())]);

    // `--why` takes the child's read end as Windows writes handles, in hex.
    let handle = pipe["readers"][0]["handle"].as_u64().unwrap();
    let why = pipescope()
        .args(["pipes", "--why", &format!("{pid}:{handle:#x}")])
        .output()
        .unwrap();
    assert!(
        why.status.success(),
        "{}",
        String::from_utf8_lossy(&why.stderr)
    );
    let text = String::from_utf8(why.stdout).unwrap();
    assert!(text.contains(&format!("handle {handle:#x}")), "{text}");
    assert!(text.contains(&format!("{} ", std::process::id())), "{text}");
}

#[test]
fn handles_of_every_process_completes() {
    let v = json(&["handles", "--json"]);
    let procs = v["processes"].as_array().unwrap();
    assert!(procs.len() >= 2, "{}", procs.len());
    assert!(procs.iter().any(|p| p["pid"] == std::process::id()));
    let summary = pipescope().args(["handles", "--summary"]).output().unwrap();
    assert!(summary.status.success());
    assert!(String::from_utf8_lossy(&summary.stdout).contains("File"));
}

#[test]
fn handles_filters_by_type_case_insensitively() {
    let v = json(&["handles", "-t", "FILE", "--json"]);
    let types: std::collections::BTreeSet<String> = v["processes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["handles"].as_array().unwrap().iter())
        .map(|h| h["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types.into_iter().collect::<Vec<_>>(), ["File"]);
}

#[test]
fn access_types_shows_the_live_mappings_beside_the_built_in_ones() {
    let out = pipescope().args(["access", "--types"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let live = text
        .split_once("Live generic mappings")
        .unwrap_or_else(|| panic!("no live section:\n{text}"))
        .1;
    let file = live.lines().find(|l| l.starts_with("File ")).unwrap();
    assert!(
        file.contains("0x00120089 0x00120116 0x001200a0 0x001f01ff"),
        "{file}"
    );
    let v = json(&["access", "--types", "--json"]);
    let file = v
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "File")
        .unwrap();
    assert_eq!(
        file["live_generic_mapping"],
        serde_json::json!([0x120089, 0x120116, 0x1200a0, 0x1f01ff])
    );
}

#[test]
fn csv_carries_the_granted_access() {
    let demo = pipescope_core::create_pipe().unwrap();
    let me = std::process::id().to_string();
    let out = pipescope()
        .args(["handles", "-p", &me, "--csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",flags,access"));
    let read = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[3] == demo.read.handle.to_string())
        .unwrap_or_else(|| panic!("no row for the read end:\n{csv}"));
    assert_eq!((read[4], read[5], read[11]), ("File", "r", "0x120189"));
}

#[test]
fn processes_are_selected_by_image_name_in_any_case_without_exe() {
    let exe = std::env::current_exe().unwrap();
    let stem = exe.file_stem().unwrap().to_string_lossy().to_uppercase();
    let me = std::process::id();
    let v = json(&["handles", "-p", &stem, "--json"]);
    assert!(
        v["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == me),
        "{stem}: {v}"
    );
    let reader = Reader::start();
    if !reader.name.is_empty() {
        let v = json(&["pipes", "-p", &stem, "--json"]);
        assert!(
            v["pipes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["id"] == reader.name.as_str()),
            "{v}"
        );
    }
}
