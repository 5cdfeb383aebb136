//! Tests of the Windows backend against the real OS (run under Wine in CI).

use std::io::Read;
use std::os::windows::io::AsRawHandle;
use std::time::{Duration, Instant};

use super::ffi;
use crate::model::{ProcessSelector, ScanOptions};

#[test]
fn probe() {
    let (r, w) = ffi::create_pipe(false).unwrap();
    let rv = r.as_raw_handle() as u64;
    let mut rf = std::fs::File::from(r);
    std::thread::spawn(move || { let mut b = [0u8; 1]; let n = rf.read(&mut b); eprintln!("read {n:?}"); });
    std::thread::sleep(Duration::from_millis(300));
    let me = ffi::current_pid();
    let t = Instant::now();
    let snap = super::scan(&ScanOptions {
        processes: vec![ProcessSelector::Pid(me)],
        long: true,
        ..ScanOptions::default()
    })
    .unwrap();
    eprintln!("scan took {:?}", t.elapsed());
    for p in &snap.processes {
        for h in &p.handles {
            if h.handle == rv {
            eprintln!("  {:#x} {} {:?} {:?} {:#x?} {:?} {:?}", h.handle, h.object_type, h.mode, h.name.to_string_lossy(), h.access, h.pipe, h.details);
            }
        }
    }
    drop(w);
    panic!("probe");
}
