//! `run` on Windows: each stage started with `CreateProcess` and an explicit handle list
//! (see `ffi::spawn`), joined by pipes pipescope makes (see `ffi::create_named_pair`).
//! pipescope keeps no pipe end: each is closed as soon as the stage holding it has its
//! own copy, so end-of-file and broken pipes reach the stages as they would from a
//! shell.

use std::os::windows::io::{AsHandle, AsRawHandle, OwnedHandle, RawHandle};
use std::sync::atomic::{AtomicU32, Ordering};

use std::sync::Mutex;

use super::ffi;
use crate::launch::command_line;
use crate::model::{Mode, ObjectId};
use crate::sample::{PipeEnd, ProcEnds};
use crate::{Error, Pid, Result};

/// Every stage this process started, with the ends it was given: the sampler counts them
/// as stages even if they exit before it looks.
static STARTED: Mutex<Vec<ProcEnds>> = Mutex::new(Vec::new());

/// The stages this process started, with their pipe ends.
pub(crate) fn started() -> Vec<ProcEnds> {
    STARTED.lock().map(|s| s.clone()).unwrap_or_default()
}

/// The identity the handle scan gives the ends of our pipe `name`.
fn our_pipe(name: &str) -> u64 {
    super::sample::pipe_id(&ObjectId::Name(format!(
        "{}{name}",
        crate::parse_windows::NAMED_PIPE_DEVICE
    )))
}

/// The pipe buffer of each joint, in bytes (a Linux pipe's default).
pub(crate) const PIPE_SIZE: u32 = 64 << 10;

#[derive(Debug)]
pub(crate) struct Launched {
    stages: Vec<(ffi::Spawned, String)>,
}

/// A name for a pipe of ours that no other pipe has.
fn pipe_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("pipescope.run.{}.{n}.{nanos:08x}", ffi::current_pid())
}

pub(crate) fn launch(stages: &[String]) -> Result<Launched> {
    if stages.is_empty() || stages.iter().any(|s| s.trim().is_empty()) {
        return Err(Error::InvalidInput(
            "the pipeline has an empty stage".into(),
        ));
    }
    let comspec = std::env::var("ComSpec").unwrap_or_else(|_| "cmd.exe".into());
    let ours: [RawHandle; 3] = [
        std::io::stdin().as_raw_handle(),
        std::io::stdout().as_raw_handle(),
        std::io::stderr().as_raw_handle(),
    ];
    let mut started = Launched { stages: Vec::new() };
    // The read end of the pipe before the stage being started, and that pipe's name.
    let mut input: Option<OwnedHandle> = None;
    let mut input_name: Option<String> = None;
    for (i, text) in stages.iter().enumerate() {
        let last = i + 1 == stages.len();
        let name = (!last).then(pipe_name);
        let pipe = if last {
            None
        } else {
            match ffi::create_named_pair(name.as_deref().unwrap_or_default(), PIPE_SIZE) {
                Ok(p) => Some(p),
                Err(e) => {
                    started.terminate(1);
                    return Err(Error::io("creating a pipe", None, None, e));
                }
            }
        };
        let stdin = input.as_ref().map_or(ours[0], |h| h.as_raw_handle());
        let stdout = pipe.as_ref().map_or(ours[1], |(_, w)| w.as_raw_handle());
        let line = command_line(text, &comspec);
        match ffi::spawn(&line, [stdin, stdout, ours[2]]) {
            Ok(child) => {
                let end = |name: &Option<String>, handle: u64, mode| {
                    name.as_deref().map(|n| PipeEnd {
                        pipe: our_pipe(n),
                        handle,
                        mode,
                        stderr: false,
                    })
                };
                let ends = [
                    end(&input_name, child.stdio[0], Mode::Read),
                    end(&name, child.stdio[1], Mode::Write),
                ];
                if let Ok(mut s) = STARTED.lock() {
                    s.push(ProcEnds {
                        pid: child.pid,
                        ppid: Some(ffi::current_pid()),
                        session: None,
                        command: line.clone(),
                        ends: ends.into_iter().flatten().collect(),
                    });
                }
                started.stages.push((child, line));
            }
            Err(e) => {
                started.terminate(1);
                return Err(Error::InvalidInput(format!(
                    "cannot start stage {} `{}`: {e}",
                    i + 1,
                    text.trim()
                )));
            }
        }
        // The stage has its copies: ours of its input's read end and its output's write
        // end go now; the output's read end waits for the next stage.
        input = pipe.map(|(r, _w)| r);
        input_name = name;
    }
    Ok(started)
}

impl Launched {
    pub(crate) fn pids(&self) -> Vec<Pid> {
        self.stages.iter().map(|(s, _)| s.pid).collect()
    }

    pub(crate) fn command_lines(&self) -> Vec<String> {
        self.stages.iter().map(|(_, l)| l.clone()).collect()
    }

    pub(crate) fn wait(&self) -> Result<u32> {
        let mut code = 0;
        for (s, _) in &self.stages {
            code = ffi::wait_process(s.process.as_handle(), u32::MAX)
                .map_err(|e| Error::io("waiting for a stage", Some(s.pid), None, e))?
                .unwrap_or(0);
        }
        Ok(code)
    }

    pub(crate) fn terminate(&self, code: u32) {
        for (s, _) in &self.stages {
            if let Ok(None) = ffi::wait_process(s.process.as_handle(), 0) {
                let _ = ffi::terminate(s.process.as_handle(), code);
            }
        }
    }
}

/// `STATUS_CONTROL_C_EXIT`: how a console program ends on Ctrl-C.
const CONTROL_C_EXIT: u32 = 0xC000_013A;

/// Ends `pid` as Ctrl-C would (see `crate::launch::interrupt`).
pub(crate) fn interrupt(pid: Pid) -> Result<()> {
    use windows_sys::Win32::System::Threading::PROCESS_TERMINATE;
    let h = ffi::open_process(pid, PROCESS_TERMINATE)
        .map_err(|e| Error::io("opening a stage to end it", Some(pid), None, e))?;
    ffi::terminate(h.as_handle(), CONTROL_C_EXIT)
        .map_err(|e| Error::io("ending a stage", Some(pid), None, e))
}
