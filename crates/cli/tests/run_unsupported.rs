//! Where they have no backend (neither Linux nor Windows), `run` and `watch` refuse
//! cleanly — one line, status 2 — before starting anything.
#![cfg(not(any(target_os = "linux", windows)))]

mod common;

use common::pipescope;

#[test]
fn run_and_watch_say_they_are_unsupported() {
    for args in [&["run", "--", "echo hi"][..], &["watch", "1"][..]] {
        let out = pipescope().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "nothing ran: {args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim_end(),
            "pipescope: live pipeline sampling is not supported on this system"
        );
    }
}
