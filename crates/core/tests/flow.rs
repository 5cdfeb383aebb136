//! The eBPF pipe probe against known transfers (root, a kernel with BTF; built with the
//! `ebpf` feature). Without the feature it checks that attaching says it is unsupported.
#![cfg(target_os = "linux")]

use std::process::{Command, Stdio};

use pipescope_core::flow::{FlowProbe, FlowReading};
use pipescope_core::{ErrorKind, ObjectId};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Attaches the probe, or says why this run cannot (`None`): not built in, or not root.
fn probe() -> Option<FlowProbe> {
    match FlowProbe::attach() {
        Ok(p) => Some(p),
        Err(e) if e.kind() == ErrorKind::Unsupported => {
            assert!(
                pipescope_core::flow::unavailable().is_some(),
                "built with the probe, yet: {e}"
            );
            eprintln!("skipped: {e}");
            None
        }
        Err(e) if !is_root() => {
            assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
            eprintln!("skipped (not root): {e}");
            None
        }
        Err(e) => panic!("the probe must attach as root on this kernel: {e}"),
    }
}

/// `sh -c SCRIPT | cat > /dev/null`, started: (sh, cat).
fn sh_into_cat(script: &str) -> (std::process::Child, std::process::Child) {
    let mut writer = Command::new("sh")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = Command::new("cat")
        .stdin(writer.stdout.take().unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    (writer, reader)
}

fn pipe_of(reading: &FlowReading, pid: u32, handle: u64) -> Option<ObjectId> {
    reading
        .ends
        .iter()
        .find(|e| e.pid == pid && e.handle == handle)
        .map(|e| e.pipe.clone())
}

#[test]
fn counts_a_known_transfer_to_the_byte_while_others_write_files() {
    let Some(mut probe) = probe() else { return };
    const N: u64 = 123_456_789;
    let dir = tempfile::tempdir().unwrap();
    // Noise: a process writing files (and reading /dev/zero) all along.
    let mut noise = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "count=2000"])
        .arg(format!("of={}", dir.path().join("noise").display()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut writer = Command::new("head")
        .args(["-c", &N.to_string(), "/dev/zero"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::fs::File::create(dir.path().join("copy")).unwrap();
    let mut reader = Command::new("cat")
        .stdin(writer.stdout.take().unwrap())
        .stdout(out)
        .spawn()
        .unwrap();
    assert!(writer.wait().unwrap().success());
    assert!(reader.wait().unwrap().success());
    assert!(noise.wait().unwrap().success());
    let reading = probe.read().unwrap();
    assert_eq!(reading.dropped, 0);
    let (w, r) = (writer.id(), reader.id());
    let pipe = pipe_of(&reading, w, 1).expect("the writer's fd 1 is seen");
    assert!(matches!(pipe, ObjectId::Inode { dev: 0, .. }), "{pipe:?}");
    assert_eq!(pipe_of(&reading, r, 0), Some(pipe.clone()));
    let (_, written) = reading.of(w, &pipe);
    let (read, _) = reading.of(r, &pipe);
    assert_eq!(written.bytes, N, "bytes head wrote into the pipe");
    assert_eq!(read.bytes, N, "bytes cat read from the pipe");
    assert!(written.calls >= N / (1 << 20), "{written:?}");
    // cat's file writes and dd's are not pipe I/O.
    assert!(reading.ends.iter().all(|e| e.pid != noise.id()));
    let (_, cat_out) = reading.of(r, &pipe);
    assert_eq!(cat_out.bytes, 0);
    let pipes = reading.pipes();
    let p = pipes.iter().find(|p| p.pipe == pipe).unwrap();
    assert_eq!((p.written, p.read), (N, N));
    // Exited processes are reported once, then forgotten.
    let again = probe.read().unwrap();
    assert!(again.ends.iter().all(|e| e.pid != w && e.pid != r));
}

#[test]
fn a_reader_waiting_on_an_empty_pipe_is_counted_as_waiting() {
    let Some(mut probe) = probe() else { return };
    // The writer sleeps 300 ms between two short lines; the reader waits for each. Its
    // waits cannot add up to more than its life, which starts after `started`.
    let started = std::time::Instant::now();
    let (mut writer, mut reader) = sh_into_cat("echo a; sleep 0.3; echo b; sleep 0.3; echo c");
    assert!(writer.wait().unwrap().success());
    assert!(reader.wait().unwrap().success());
    let lived = started.elapsed();
    let reading = probe.read().unwrap();
    let pipe = pipe_of(&reading, reader.id(), 0).expect("cat's fd 0 is seen");
    let (read, _) = reading.of(reader.id(), &pipe);
    assert_eq!(read.bytes, 6);
    assert!(
        read.wait_time.as_millis() >= 450,
        "cat waited ~600 ms for data: {read:?}"
    );
    assert!(read.wait_time <= lived, "waited {read:?}, lived {lived:?}");
}

#[test]
fn a_read_still_asleep_shows_its_wait_so_far() {
    let Some(mut probe) = probe() else { return };
    // The writer says one line, then keeps the pipe open and silent for 3 s.
    let (mut writer, mut reader) = sh_into_cat("echo a; exec sleep 3");
    let waited = |probe: &mut FlowProbe| {
        let reading = probe.read().unwrap();
        let pipe = pipe_of(&reading, reader.id(), 0)?;
        Some(reading.of(reader.id(), &pipe).0)
    };
    std::thread::sleep(std::time::Duration::from_millis(800));
    let first = waited(&mut probe).expect("cat's read is seen while it sleeps");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let second = waited(&mut probe).expect("and again");
    // Its second read has not returned: the sleep so far counts, and grows.
    assert_eq!(second.bytes, 2, "{second:?}");
    assert!(first.wait_time.as_millis() >= 500, "{first:?}");
    let grew = second.wait_time.saturating_sub(first.wait_time);
    assert!(
        (550..=900).contains(&grew.as_millis()),
        "asleep 700 ms between the readings: {first:?} then {second:?}"
    );
    writer.kill().unwrap();
    writer.wait().unwrap();
    reader.wait().unwrap();
}

#[test]
fn fifos_are_counted_with_their_device() {
    let Some(mut probe) = probe() else { return };
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // The writer opens the FIFO by name; the reader gets it on fd 0 from the shell.
    let mut reader = Command::new("sh")
        .arg("-c")
        .arg(format!("exec cat < '{}'", fifo.display()))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut writer = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec head -c 1000000 /dev/zero > '{}'",
            fifo.display()
        ))
        .spawn()
        .unwrap();
    assert!(writer.wait().unwrap().success());
    assert!(reader.wait().unwrap().success());
    let reading = probe.read().unwrap();
    let pipe = pipe_of(&reading, writer.id(), 1).expect("the FIFO writer is seen");
    assert!(
        matches!(pipe, ObjectId::Inode { dev, .. } if dev != 0),
        "{pipe:?}"
    );
    // The same id as a scan gives it: the FIFO's own device and inode.
    let st = rustix::fs::stat(&fifo).unwrap();
    assert_eq!(
        pipe,
        ObjectId::Inode {
            dev: st.st_dev,
            ino: st.st_ino
        }
    );
    let end = reading.ends.iter().find(|e| e.pid == writer.id()).unwrap();
    assert_eq!(end.kind, pipescope_core::PipeKind::Fifo);
    assert_eq!(end.comm, "head");
    assert_eq!(reading.of(writer.id(), &pipe).1.bytes, 1_000_000);
    assert_eq!(reading.of(reader.id(), &pipe).0.bytes, 1_000_000);
}

#[test]
fn splice_and_sendfile_count_both_of_their_ends() {
    let Some(mut probe) = probe() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, vec![b'x'; 4096]).unwrap();
    // Moves stdin to stdout with splice(2) (pipe to pipe), then sends a file with
    // sendfile(2) (file to pipe).
    let script = format!(
        "import os\n\
         while os.splice(0, 1, 65536): pass\n\
         f = os.open('{}', os.O_RDONLY)\n\
         assert os.sendfile(1, f, 0, 4096) == 4096\n",
        file.display()
    );
    let mut writer = Command::new("head")
        .args(["-c", "3000000", "/dev/zero"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut middle = Command::new("python3")
        .args(["-c", &script])
        .stdin(writer.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = Command::new("cat")
        .stdin(middle.stdout.take().unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(writer.wait().unwrap().success());
    assert!(middle.wait().unwrap().success());
    assert!(reader.wait().unwrap().success());
    let reading = probe.read().unwrap();
    let input = pipe_of(&reading, middle.id(), 0).expect("splice's input end is seen");
    let output = pipe_of(&reading, middle.id(), 1).expect("splice's output end is seen");
    assert_eq!(reading.of(middle.id(), &input).0.bytes, 3_000_000);
    assert_eq!(reading.of(middle.id(), &output).1.bytes, 3_004_096);
    assert_eq!(reading.of(reader.id(), &output).0.bytes, 3_004_096);
}
