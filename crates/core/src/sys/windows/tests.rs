//! Tests of the Windows backend against the real OS (run under Wine by `scripts/test`).

use std::fs::File;
use std::io::{Read, Write};
use std::os::windows::io::{AsHandle, AsRawHandle, OwnedHandle};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{ffi, scan};
use crate::model::{Handle, Mode, ObjectId, Pid, PipeKind, ProcessSelector, ScanOptions, Snapshot};

fn scan_pid(pid: Pid, long: bool) -> Snapshot {
    super::scan(&ScanOptions {
        processes: vec![ProcessSelector::Pid(pid)],
        long,
        ..ScanOptions::default()
    })
    .unwrap()
}

fn find(snap: &Snapshot, pid: Pid, handle: u64) -> Handle {
    let p = snap
        .processes
        .iter()
        .find(|p| p.pid == pid)
        .expect("process listed");
    p.handles
        .iter()
        .find(|h| h.handle == handle)
        .unwrap_or_else(|| panic!("handle {handle:#x} not listed in {pid}"))
        .clone()
}

fn extra<'a>(h: &'a Handle, key: &str) -> Option<&'a str> {
    let d = h.details.as_ref()?;
    d.extra
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn create_pipe_describes_both_ends() {
    let demo = crate::create_pipe().unwrap();
    let (r, w) = (&demo.read, &demo.write);
    assert_eq!(demo.pid, std::process::id());
    assert_eq!(r.access, Some(0x120189), "read end's granted access");
    assert_eq!(w.access, Some(0x120196), "write end's granted access");
    assert_eq!(r.object_type.as_str(), "File");
    assert_eq!(w.object_type.as_str(), "File");
    assert_eq!((r.mode, w.mode), (Mode::Read, Mode::Write));
    assert_eq!(r.pipe, Some(PipeKind::Anonymous));
    assert_eq!(w.pipe, Some(PipeKind::Anonymous));
    let raw = |h: &Option<OwnedHandle>| h.as_ref().unwrap().as_raw_handle() as u64;
    assert_eq!(r.handle, raw(&demo.read_handle));
    assert_eq!(w.handle, raw(&demo.write_handle));
    // CreatePipe's read end is the server end of the pipe, the write end the client.
    assert_eq!(extra(r, "pipe-end"), Some("server"));
    assert_eq!(extra(w, "pipe-end"), Some("client"));
    let d = r.details.as_ref().unwrap();
    assert!(d.handle_count >= Some(1), "{d:?}");
    assert!(
        d.attributes.is_empty(),
        "not inheritable: {:?}",
        d.attributes
    );
    assert!(demo.capacity.unwrap() > 0);
    if !r.name.is_empty() {
        // Named (Wine): both ends carry the pipe's name, which pairs them.
        assert_eq!(r.name, w.name);
        assert_eq!(
            r.object,
            Some(ObjectId::Name(r.name.to_string_lossy().into_owned()))
        );
        assert_eq!(r.object, w.object);
    }
}

#[test]
fn scan_of_own_process_lists_both_pipe_ends() {
    let (r, w) = ffi::create_pipe(false).unwrap();
    let me = ffi::current_pid();
    let snap = scan_pid(me, false);
    assert!(snap.errors.is_empty(), "{:?}", snap.errors);
    let p = snap.processes.iter().find(|p| p.pid == me).unwrap();
    assert!(p.name.to_ascii_lowercase().ends_with(".exe"), "{}", p.name);
    assert!(p.ppid.is_some());
    assert!(p.start_time_ms.is_some());
    let user = p.user.as_deref().unwrap();
    assert!(user.contains('\\') && user.len() > 2, "{user}");
    let rh = find(&snap, me, r.as_raw_handle() as u64);
    let wh = find(&snap, me, w.as_raw_handle() as u64);
    assert_eq!(rh.object_type.as_str(), "File");
    assert_eq!(wh.object_type.as_str(), "File");
    assert_eq!((rh.access, wh.access), (Some(0x120189), Some(0x120196)));
    assert_eq!((rh.mode, wh.mode), (Mode::Read, Mode::Write));
    assert_eq!(
        (rh.pipe, wh.pipe),
        (Some(PipeKind::Anonymous), Some(PipeKind::Anonymous))
    );
    // Without --long, no details (unless a name was unavailable).
    assert!(rh.details.is_none());
}

#[test]
fn scan_by_name_selects_the_process() {
    let me = ffi::current_pid();
    let all = scan_pid(me, false);
    let name = all.processes[0].name.clone();
    let by_name = super::scan(&ScanOptions {
        processes: vec![ProcessSelector::Name(name.to_uppercase())],
        ..ScanOptions::default()
    })
    .unwrap();
    assert!(by_name.processes.iter().any(|p| p.pid == me));
    assert!(
        by_name
            .processes
            .iter()
            .all(|p| p.name.eq_ignore_ascii_case(&name))
    );
}

#[test]
fn a_pid_that_does_not_exist_is_an_error_entry() {
    // Windows pids are multiples of 4; this one is not.
    let snap = scan_pid(0x7fff_fff3, false);
    assert!(snap.processes.is_empty());
    assert_eq!(snap.errors.len(), 1);
    assert_eq!(snap.errors[0].kind, crate::ErrorKind::Gone);
}

/// Kills the child when the test ends, however it ends.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Not a test: the child of `child_that_inherited_a_pipe_end_holds_it` (this test binary
/// run again), which sleeps holding what it inherited.
#[test]
#[ignore = "run as a child process by another test"]
fn child_sleeps() {
    if std::env::var_os("PIPESCOPE_TEST_CHILD").is_some() {
        std::thread::sleep(Duration::from_secs(60));
    }
}

#[test]
fn child_that_inherited_a_pipe_end_holds_it() {
    let (r, w) = ffi::create_pipe(false).unwrap();
    ffi::set_inheritable(r.as_handle(), true).unwrap();
    let value = r.as_raw_handle() as u64;
    let exe = std::env::current_exe().unwrap();
    // std's CreateProcess passes bInheritHandles = TRUE: every inheritable handle goes to
    // the child, at the same value, as `dir | findstr` hands the pipe to findstr.
    let child = Command::new(exe)
        .args([
            "--exact",
            "sys::windows::tests::child_sleeps",
            "--ignored",
            "--quiet",
        ])
        .env("PIPESCOPE_TEST_CHILD", "1")
        .spawn()
        .unwrap();
    let child = Reaper(child);
    ffi::set_inheritable(r.as_handle(), false).unwrap();
    let pid = child.0.id();
    let me = ffi::current_pid();
    let parent = scan_pid(me, true);
    let ours = find(&parent, me, value);
    let snap = scan_pid(pid, true);
    assert!(snap.errors.is_empty(), "{:?}", snap.errors);
    let p = snap.processes.iter().find(|p| p.pid == pid).unwrap();
    assert_eq!(p.ppid, Some(me));
    let theirs = find(&snap, pid, value);
    assert_eq!(theirs.object_type.as_str(), "File");
    assert_eq!(theirs.access, Some(0x120189));
    assert_eq!(theirs.mode, Mode::Read);
    assert_eq!(theirs.pipe, Some(PipeKind::Anonymous));
    assert_eq!(theirs.name, ours.name);
    assert_eq!(theirs.object, ours.object);
    let d = theirs.details.as_ref().unwrap();
    assert_eq!(d.attributes, ["inherit"]);
    // Two handles now: ours and the child's.
    assert!(d.handle_count >= Some(2), "{d:?}");
    drop(w);
}

static STUCK_NAME: OnceLock<String> = OnceLock::new();

/// The scan's own query, then — for the one pipe under test — a read on the duplicated
/// handle that blocks in the OS, as a name query on a synchronous pipe with a read
/// pending does on Windows (Wine answers such name queries at once).
fn query_that_blocks(dup: &OwnedHandle) -> scan::FileFacts {
    let facts = scan::file_facts(dup);
    if facts.name.is_some() && facts.name.as_ref() == STUCK_NAME.get() {
        let mut f = File::from(dup.try_clone().unwrap());
        let _ = f.read(&mut [0u8; 1]);
    }
    facts
}

#[test]
fn a_handle_whose_query_blocks_does_not_stall_the_scan() {
    let (r, w) = ffi::create_pipe(false).unwrap();
    let value = r.as_raw_handle() as u64;
    let me = ffi::current_pid();
    let named = find(&scan_pid(me, false), me, value);
    // A synchronous read pending on another thread, as in `findstr` waiting for input.
    let mut reader = File::from(r);
    let pending = std::thread::spawn(move || reader.read(&mut [0u8; 1]).map(|n| (n, reader)));
    std::thread::sleep(Duration::from_millis(200));

    // 1. The real scan, with the read pending: it finishes, and lists the handle with its
    // name or with the name marked unavailable (real Windows blocks here; Wine does not).
    let t = Instant::now();
    let snap = scan_pid(me, false);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let h = find(&snap, me, value);
    assert_eq!(h.object_type.as_str(), "File");
    let unavailable = h.details.as_ref().and_then(|d| d.name_unavailable.clone());
    assert!(!h.name.is_empty() || unavailable.is_some() || named.name.is_empty());

    // 2. A query that truly blocks on this handle: the guard gives up after a second,
    // the handle is reported with its name unavailable, and every other handle is still
    // described.
    if named.name.is_empty() {
        return; // real Windows 10+: the pipe has no name to single it out by
    }
    STUCK_NAME
        .set(named.name.to_string_lossy().into_owned())
        .unwrap();
    let t = Instant::now();
    let opts = ScanOptions {
        processes: vec![ProcessSelector::Pid(me)],
        ..ScanOptions::default()
    };
    let snap = scan::scan_with(&opts, query_that_blocks).unwrap();
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let stuck = find(&snap, me, value);
    assert!(stuck.name.is_empty());
    let why = stuck
        .details
        .as_ref()
        .and_then(|d| d.name_unavailable.as_deref());
    assert_eq!(why, Some("name query did not answer within 1 s"));
    assert_eq!(stuck.access, Some(0x120189));
    let wh = find(&snap, me, w.as_raw_handle() as u64);
    assert_eq!(
        wh.name, named.name,
        "the scan went on after the stuck handle"
    );
    assert!(wh.details.is_none());

    // Unblock both reads and check the data got through untouched.
    let mut w = File::from(w);
    w.write_all(b"xy").unwrap();
    let (n, _reader) = pending.join().unwrap().unwrap();
    assert_eq!(n, 1);
}

#[test]
fn scan_of_all_processes_completes() {
    let snap = super::scan(&ScanOptions::default()).unwrap();
    let me = ffi::current_pid();
    assert!(snap.processes.len() >= 2, "{}", snap.processes.len());
    let mine = snap.processes.iter().find(|p| p.pid == me).unwrap();
    assert!(
        mine.handles
            .iter()
            .any(|h| h.object_type.as_str() == "File")
    );
    // Type names come from the kernel's list, so none is left as a bare index.
    let unknown: Vec<_> = snap
        .processes
        .iter()
        .flat_map(|p| &p.handles)
        .filter(|h| h.object_type.as_str().starts_with("Type#"))
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
    let pids: Vec<Pid> = snap.processes.iter().map(|p| p.pid).collect();
    assert!(pids.windows(2).all(|w| w[0] < w[1]), "sorted by pid");
}

#[test]
fn live_object_types_map_generic_rights() {
    let types = crate::object_types().unwrap();
    let file = types.iter().find(|t| t.name == "File").expect("File type");
    // FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS.
    assert_eq!(
        file.generic_mapping,
        [0x120089, 0x120116, 0x1200a0, 0x1f01ff]
    );
    assert!(file.handles > 0);
    assert!(types.iter().any(|t| t.name == "Process"));
}

#[test]
fn unnamed_pipes_pair_by_index_only_where_the_system_proves_it() {
    // Fresh evidence from two pipes open at once: each pipe's two ends share a non-zero
    // index, and the pipes' indexes differ. Wine 8 answers no index for pipes at all.
    let (r1, w1) = ffi::create_pipe(false).unwrap();
    let (r2, w2) = ffi::create_pipe(false).unwrap();
    let index = |h: &OwnedHandle| ffi::internal_index(h.as_handle()).ok();
    let shared = |a: Option<u64>, b: Option<u64>| a.filter(|&i| i != 0 && Some(i) == b);
    let evidence = match (
        shared(index(&r1), index(&w1)),
        shared(index(&r2), index(&w2)),
    ) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    };
    assert_eq!(scan::ends_pair_by_index(), evidence);
}

#[test]
fn a_spawned_child_inherits_only_its_handle_list() {
    // An inheritable pipe of ours that a plain CreateProcess would hand to the child.
    let (leak_r, leak_w) = ffi::create_pipe(true).unwrap();
    let (stdin_r, stdin_w) = ffi::create_pipe(false).unwrap();
    let me = ffi::current_pid();
    let ours = scan_pid(me, false);
    let leak_names: Vec<_> = [&leak_r, &leak_w]
        .iter()
        .map(|h| find(&ours, me, h.as_raw_handle() as u64).name)
        .collect();
    let stdin_name = find(&ours, me, stdin_r.as_raw_handle() as u64).name;
    // `set /p` waits for a line on its standard input: the child lives until we close it.
    let child = ffi::spawn(
        "cmd.exe /d /c \"set /p x=\"",
        [
            stdin_r.as_raw_handle(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        ],
    )
    .unwrap();
    drop(stdin_r);
    std::thread::sleep(Duration::from_millis(300));
    let snap = scan_pid(child.pid, true);
    let p = snap
        .processes
        .iter()
        .find(|p| p.pid == child.pid)
        .expect("child listed");
    assert_eq!(p.ppid, Some(me));
    let input = find(&snap, child.pid, child.stdio[0]);
    assert_eq!(input.mode, Mode::Read);
    if !stdin_name.is_empty() {
        assert_eq!(input.name, stdin_name);
    }
    let pipe_ends: Vec<&Handle> = p.handles.iter().filter(|h| h.pipe.is_some()).collect();
    for name in leak_names.iter().filter(|n| !n.is_empty()) {
        assert!(
            !pipe_ends.iter().any(|h| &h.name == name),
            "the child inherited an end not in its list: {pipe_ends:#?}"
        );
    }
    // Its only pipe end is the one it was given (real Windows: unnamed ends compare by
    // count only).
    assert_eq!(pipe_ends.len(), 1, "{pipe_ends:#?}");
    drop(stdin_w); // end-of-file: `set /p` returns and cmd exits
    let code = ffi::wait_process(child.process.as_handle(), 10_000).unwrap();
    assert!(code.is_some(), "the child saw end-of-file and exited");
    drop((leak_r, leak_w));
}

#[test]
fn launch_passes_the_last_stage_exit_code_and_names_a_stage_that_cannot_start() {
    let stages = ["exit 0".to_string(), "exit 7".to_string()];
    let l = crate::launch::launch(&stages).unwrap();
    assert_eq!(l.pids().len(), 2);
    assert!(l.command_lines()[1].ends_with(r#"/d /s /c "exit 7""#));
    assert_eq!(l.wait().unwrap(), 7);

    let err = crate::launch::launch(&["exit 0".into(), "no-such-program-pipescope".into()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot start stage 2 `no-such-program-pipescope`"),
        "{err}"
    );
}

#[test]
fn interrupt_ends_a_stage_as_ctrl_c_does() {
    let (stdin_r, stdin_w) = ffi::create_pipe(false).unwrap();
    let child = ffi::spawn(
        "cmd.exe /d /c \"set /p x=\"",
        [
            stdin_r.as_raw_handle(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        ],
    )
    .unwrap();
    drop(stdin_r);
    assert_eq!(
        ffi::wait_process(child.process.as_handle(), 200).unwrap(),
        None
    );
    crate::launch::interrupt(child.pid).unwrap();
    let code = ffi::wait_process(child.process.as_handle(), 10_000).unwrap();
    assert_eq!(code, Some(0xC000_013A), "STATUS_CONTROL_C_EXIT");
    drop(stdin_w);
}
