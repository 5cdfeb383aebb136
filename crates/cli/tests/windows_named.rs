//! `pipescope pipes --named` on Windows, run for real under Wine by `scripts/test`: named
//! pipes made here with `CreateNamedPipe` (a few instances, one joined by a client held
//! in a child process, one left waiting, one whose server is closed) are listed with
//! their instance counts, their holders and the findings.

mod common;

#[cfg(not(windows))]
#[test]
fn named_pipes_are_windows_only() {
    let out = common::pipescope()
        .args(["pipes", "--named"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "pipescope: listing named pipes is not supported on this system"
    );
}

#[cfg(windows)]
mod windows {
    use std::fs::{File, OpenOptions};
    use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
    use std::process::Stdio;

    use serde_json::Value;
    use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
    use windows_sys::Win32::Storage::FileSystem::PIPE_ACCESS_DUPLEX;
    use windows_sys::Win32::System::Pipes::{CreateNamedPipeW, PIPE_TYPE_BYTE, PIPE_WAIT};

    use super::common::pipescope_process as pipescope;

    /// A server instance of `\\.\pipe\NAME` allowing `max` instances.
    fn server(name: &str, max: u32) -> OwnedHandle {
        let path: Vec<u16> = format!(r"\\.\pipe\{name}")
            .encode_utf16()
            .chain([0])
            .collect();
        // SAFETY: `path` is NUL-terminated and outlives the call; default security.
        let h = unsafe {
            CreateNamedPipeW(
                path.as_ptr(),
                PIPE_ACCESS_DUPLEX,
                PIPE_TYPE_BYTE | PIPE_WAIT,
                max,
                4096,
                4096,
                0,
                std::ptr::null(),
            )
        };
        assert!(
            h != INVALID_HANDLE_VALUE,
            "CreateNamedPipe {name}: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: a fresh handle that nothing else owns.
        unsafe { OwnedHandle::from_raw_handle(h) }
    }

    fn client(name: &str) -> File {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!(r"\\.\pipe\{name}"))
            .unwrap()
    }

    fn named_json() -> Value {
        let out = pipescope()
            .args(["pipes", "--named", "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn handles(ends: &Value) -> Vec<(u64, u64)> {
        ends.as_array()
            .unwrap()
            .iter()
            .map(|e| (e["pid"].as_u64().unwrap(), e["handle"].as_u64().unwrap()))
            .collect()
    }

    #[test]
    fn named_pipes_are_listed_with_instances_holders_and_findings() {
        let me = u64::from(std::process::id());
        let name = format!("pipescope-test-{me}");
        let joined = server(&name, 3);
        let waiting = server(&name, 3);
        // The client joins the first listening instance, then lives in a child process.
        let mut child = pipescope()
            .args(["pipe", "--hold"])
            .stdin(Stdio::from(client(&name)))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let child_pid = u64::from(child.id());
        // A client whose server closes.
        let gone_name = format!("pipescope-gone-{me}");
        let gone_server = server(&gone_name, 1);
        let orphan = client(&gone_name);
        drop(gone_server);

        let v = named_json();
        let text = pipescope().args(["pipes", "--named"]).output().unwrap();
        let _ = child.kill();
        let _ = child.wait();

        let pipes = v["pipes"].as_array().unwrap();
        let p = pipes
            .iter()
            .find(|p| p["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} not listed: {v}"));
        assert_eq!(p["path"], format!(r"\\.\pipe\{name}"));
        assert_eq!(p["instances"], 2, "{p}");
        assert_eq!(p["max_instances"], 3, "{p}");
        let h = |o: &OwnedHandle| o.as_raw_handle() as u64;
        assert_eq!(
            handles(&p["servers"]),
            [(me, h(&joined)), (me, h(&waiting))],
            "{p}"
        );
        let states: Vec<&str> = p["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["connected", "listening"], "{p}");
        let clients = p["clients"].as_array().unwrap();
        assert_eq!(clients.len(), 1, "{p}");
        assert_eq!(
            clients[0]["pid"], child_pid,
            "the child holds the client: {p}"
        );
        assert_eq!(clients[0]["state"], "connected");
        assert_eq!(clients[0]["mode"], "rw");
        assert_eq!(clients[0]["access"]["hex"], "0x12019f");
        let findings = p["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{p}");
        assert_eq!(findings[0]["kind"], "no-client");
        assert_eq!(findings[0]["handle"], h(&waiting));

        // The orphaned client: under its name (Windows) or with none left (Wine).
        let gone: Vec<&Value> = pipes
            .iter()
            .flat_map(|p| p["findings"].as_array().unwrap())
            .filter(|f| f["kind"] == "server-gone" && f["pid"] == me)
            .collect();
        assert_eq!(gone.len(), 1, "{v}");
        assert_eq!(gone[0]["handle"], orphan.as_raw_handle() as u64);

        let text = String::from_utf8(text.stdout).unwrap();
        let row = text
            .lines()
            .find(|l| l.starts_with(&name))
            .unwrap_or_else(|| panic!("{text}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&cols[1..3], ["2", "3"], "{row}");
        assert!(text.contains("waits for a client"), "{text}");
    }

    #[test]
    fn named_refuses_other_formats() {
        let out = pipescope()
            .args(["pipes", "--named", "--dot"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
    }
}
