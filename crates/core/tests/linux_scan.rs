//! The Linux backend against processes this test starts, holding pipes it knows.
#![cfg(target_os = "linux")]

use std::process::{Command, Stdio};

use pipescope_core::{Mode, ObjectId, PipeKind, ProcessSelector, ScanOptions, scan};

#[test]
fn a_child_holding_a_pipe_end_is_seen_with_its_mode_and_inode() {
    let mut demo = pipescope_core::create_pipe().unwrap();
    let mut child = Command::new("sleep")
        .arg("30")
        .stdin(demo.read_handle.take().unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let snap = scan(&ScanOptions {
        processes: vec![ProcessSelector::Pid(pid)],
        ..ScanOptions::default()
    })
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(snap.processes.len(), 1, "{snap:?}");
    let p = &snap.processes[0];
    assert_eq!(p.pid, pid);
    assert_eq!(p.name, "sleep");
    assert_eq!(p.ppid, Some(std::process::id()));
    assert!(p.start_time_ms.is_some());
    let fd0 = p.handles.iter().find(|h| h.handle == 0).unwrap();
    assert_eq!(fd0.object_type.as_str(), "pipe");
    assert_eq!(fd0.mode, Mode::Read);
    assert_eq!(fd0.pipe, Some(PipeKind::Anonymous));
    assert_eq!(fd0.object, demo.read.object);
    let fd1 = p.handles.iter().find(|h| h.handle == 1).unwrap();
    assert_eq!(fd1.object_type.as_str(), "char");
    assert_eq!(fd1.name.as_bytes(), b"/dev/null");
    // std opens /dev/null write-only for a null stdout.
    assert_eq!(fd1.mode, Mode::Write);
}

#[test]
fn whole_machine_scan_finds_this_process_and_a_missing_pid_is_reported() {
    let snap = scan(&ScanOptions::default()).unwrap();
    let me = std::process::id();
    assert!(snap.processes.iter().any(|p| p.pid == me));
    assert!(snap.processes.windows(2).all(|w| w[0].pid < w[1].pid));
    let snap = scan(&ScanOptions {
        processes: vec![ProcessSelector::Pid(u32::MAX - 1)],
        ..ScanOptions::default()
    })
    .unwrap();
    assert!(snap.processes.is_empty());
    assert_eq!(snap.errors.len(), 1);
    assert_eq!(snap.errors[0].kind, pipescope_core::ErrorKind::Gone);
}

#[test]
fn long_scan_reads_flags_and_details() {
    let demo = pipescope_core::create_pipe().unwrap();
    let snap = scan(&ScanOptions {
        processes: vec![ProcessSelector::Pid(std::process::id())],
        long: true,
        ..ScanOptions::default()
    })
    .unwrap();
    let p = &snap.processes[0];
    let w = p
        .handles
        .iter()
        .find(|h| h.object == demo.write.object && h.mode == Mode::Write)
        .unwrap();
    assert_eq!(w.flags, Some(0o2000001));
    let d = w.details.as_ref().unwrap();
    let Some(ObjectId::Inode { ino, .. }) = w.object else {
        panic!()
    };
    assert_eq!(d.ino, Some(ino));
    assert_eq!(d.pos, Some(0));
    assert!(d.mnt_id.is_some());
}

#[test]
fn long_scan_finds_handles_sharing_an_open_file_description() {
    let demo = pipescope_core::create_pipe().unwrap();
    let read = demo.read_handle.as_ref().unwrap();
    // A dup shares the description; the child's stdin is a dup of that dup.
    let dup = read.try_clone().unwrap();
    let mut child = Command::new("sleep")
        .arg("30")
        .stdin(dup)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let me = std::process::id();
    let snap = scan(&ScanOptions {
        processes: vec![ProcessSelector::Pid(me), ProcessSelector::Pid(child.id())],
        long: true,
        ..ScanOptions::default()
    })
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let mine = snap.processes.iter().find(|p| p.pid == me).unwrap();
    let r = mine
        .handles
        .iter()
        .find(|h| h.handle == demo.read.handle)
        .unwrap();
    let shared = &r.details.as_ref().unwrap().shared_with;
    assert!(
        shared.contains(&pipescope_core::HandleRef {
            pid: child.id(),
            handle: 0
        }),
        "{shared:?}"
    );
    // The write end was never duplicated.
    let w = mine
        .handles
        .iter()
        .find(|h| h.handle == demo.write.handle)
        .unwrap();
    assert!(w.details.as_ref().unwrap().shared_with.is_empty());
}

#[test]
fn descendants_are_children_and_their_children_never_the_root_or_strangers() {
    // sh → { sleep, sh → sleep }: the nested shell keeps its child (`; :` stops an exec).
    let mut sh = Command::new("sh")
        .args(["-c", "sleep 30 | sh -c 'sleep 30; :'"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let root = sh.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let found = loop {
        let d = pipescope_core::sample::descendants(root).unwrap();
        if d.len() == 3 || std::time::Instant::now() > deadline {
            break d;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let _ = Command::new("kill")
        .args(found.iter().map(ToString::to_string))
        .status();
    let _ = sh.kill();
    let _ = sh.wait();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(!found.contains(&root));
    assert!(!found.contains(&std::process::id()));
    assert!(
        pipescope_core::sample::descendants(u32::MAX - 1)
            .unwrap()
            .is_empty()
    );
}
