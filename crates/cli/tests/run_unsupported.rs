//! Where they have no backend, `run` and `watch` refuse cleanly — one line, status 2 —
//! before starting anything (Windows has `run`, which starts the stages itself).
#![cfg(not(target_os = "linux"))]

mod common;

use common::pipescope;

#[test]
fn run_and_watch_say_they_are_unsupported() {
    let all = [&["run", "--", "echo hi"][..], &["watch", "1"][..]];
    let unsupported = if cfg!(windows) { &all[1..] } else { &all[..] };
    for &args in unsupported {
        let out = pipescope().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "nothing ran: {args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim_end(),
            "pipescope: live pipeline sampling is not supported on this system"
        );
    }
}
