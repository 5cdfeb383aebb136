//! Windows pipeline sampler: the backend behind [`crate::sample::Sampler`].
//!
//! - Discovery: processes and parents from Toolhelp, the pipe ends each holds from the
//!   handle scan (ends of one pipe share its name; see `scan`), standard handles and
//!   command line from the process's PEB.
//! - Fill: `PeekNamedPipe` on a duplicate of the reader's read end (nothing is read),
//!   closed at once; capacity from `FilePipeLocalInformation`. `PeekNamedPipe` also
//!   counts the bytes of a write still waiting for room (a 64 KiB write into a full
//!   64 KiB pipe shows 128 KiB): the fill is capped at the capacity, the buffer's size. Both run on a worker with
//!   a short timeout: on a synchronous handle with a read pending in the reader, Windows
//!   holds the call until that read completes — and a read pending means nothing is
//!   queued, so a call that does not answer in time is a fill of 0.
//! - Stage counters: `GetProcessIoCounters` (where the system keeps them: Wine reports
//!   0, so they are left unknown there), CPU from `GetProcessTimes`.
//! - State: thread states and wait reasons from `SystemProcessInformation`. A thread
//!   that waits does not say on which pipe nor which way, so a waiting stage whose input
//!   pipe is empty is blocked reading, one whose output pipe is full is blocked writing,
//!   otherwise it waits for its own reasons. Where the thread states say nothing (Wine
//!   leaves every thread `Initialized`), the same rule applies, and a stage neither
//!   starved nor held up is running when its CPU time grew since the last look.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::os::windows::io::{AsHandle, AsRawHandle, OwnedHandle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use windows_sys::Win32::System::Threading::{
    PROCESS_DUP_HANDLE, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_VM_READ,
};

use super::ffi;
use super::guard::HangGuard;
use super::scan;
use crate::error::kind_of;
use crate::model::{ObjectId, Pid, ProcessSelector, ScanOptions};
use crate::parse_windows::{Activity, PipeEnd as NpfsEnd, activity};
use crate::sample::{
    Backend, Discovery, FillMissing, Pipe, PipeEnd, PipeSample, Pipeline, ProcEnds, Stage,
    StageSample, StageState, Target, connected,
};
use crate::{Error, ErrorKind, Result};

/// How long a fill measurement may take before the pipe counts as empty (its reader is
/// inside a read).
const PEEK_TIMEOUT: Duration = Duration::from_millis(100);
/// A pipe at or above this share of its capacity holds its writer up.
const FULL: f64 = 0.875;

/// A pipe's identity from its object: both ends of a pipe share it.
pub(crate) fn pipe_id(object: &ObjectId) -> u64 {
    match object {
        ObjectId::Address(a) => *a,
        ObjectId::Inode { ino, .. } => *ino,
        ObjectId::Name(n) => {
            // FNV-1a of the name (case-folded: the file system ignores case).
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in n.to_lowercase().bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100_0000_01b3);
            }
            h
        }
    }
}

/// Whether this system counts a process's I/O bytes (Wine reports 0 for all): decided
/// once, by writing to a pipe of our own and looking at our own counter.
fn io_counted() -> bool {
    static COUNTED: OnceLock<bool> = OnceLock::new();
    *COUNTED.get_or_init(|| {
        let me = ffi::current_process();
        let before = ffi::io_counters(me).map(|c| c.1).unwrap_or(0);
        let Ok((r, w)) = ffi::create_pipe(false) else {
            return false;
        };
        let mut w = std::fs::File::from(w);
        let wrote = io::Write::write_all(&mut w, &[0u8; 512]).is_ok();
        drop(r);
        let after = ffi::io_counters(me).map(|c| c.1).unwrap_or(0);
        wrote && after > before
    })
}

#[derive(Debug)]
struct Tracked {
    process: std::result::Result<OwnedHandle, FillMissing>,
    exited: bool,
    /// CPU time at the last look, to tell running from waiting where threads say nothing.
    cpu: Option<Duration>,
}

/// One fill measurement: (fill, capacity), taken at `at`.
#[derive(Debug, Clone)]
struct Fill {
    at: Instant,
    fill: std::result::Result<u64, FillMissing>,
    capacity: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Sampler {
    tracked: HashMap<Pid, Tracked>,
    pipeline: Pipeline,
    /// What the last discovery found of each process.
    known: HashMap<Pid, ProcEnds>,
    /// The processes a [`Target::Connected`] discovery found last time.
    members: BTreeSet<Pid>,
    /// Fills measured at this look (a stage's state needs its pipes' fills, and the
    /// pipes are measured once per look).
    fills: HashMap<u64, Fill>,
    /// Thread activity of every process, at this look.
    threads: Option<(Instant, HashMap<Pid, Activity>)>,
    /// Pipes whose last measurement has not returned (the reader is inside a read).
    stuck: HashMap<u64, Arc<AtomicBool>>,
    guard: HangGuard,
    capacity: HashMap<u64, u64>,
    me: Pid,
    /// Our own image name, to know other pipescopes by.
    my_name: String,
}

impl Backend for Sampler {
    fn new() -> Result<Self> {
        Ok(Sampler {
            tracked: HashMap::new(),
            pipeline: Pipeline::default(),
            known: HashMap::new(),
            members: BTreeSet::new(),
            fills: HashMap::new(),
            threads: None,
            stuck: HashMap::new(),
            guard: HangGuard::new(PEEK_TIMEOUT),
            capacity: HashMap::new(),
            me: ffi::current_pid(),
            my_name: std::env::current_exe()
                .ok()
                .and_then(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
                .unwrap_or_default(),
        })
    }

    fn discover(&mut self, target: &Target) -> Result<Discovery> {
        let table = ffi::processes().map_err(|e| Error::io("listing processes", None, None, e))?;
        let parent: HashMap<Pid, Pid> = table.iter().map(|p| (p.pid, p.ppid)).collect();
        let alive: BTreeSet<Pid> = parent.keys().copied().collect();
        let descendants = |roots: &BTreeSet<Pid>| -> BTreeSet<Pid> {
            let mut out = roots.clone();
            loop {
                let before = out.len();
                for p in &table {
                    if out.contains(&p.ppid) && p.pid != p.ppid && p.pid != 0 {
                        out.insert(p.pid);
                    }
                }
                if out.len() == before {
                    return out;
                }
            }
        };
        let (pool, seeds): (Option<BTreeSet<Pid>>, Vec<Pid>) = match target {
            Target::Children(root) => {
                let mut kids = descendants(&BTreeSet::from([*root]));
                kids.remove(root);
                if kids.is_empty() && *root != self.me && alive.contains(root) {
                    kids.insert(*root); // it runs the one command itself
                }
                (Some(kids), Vec::new())
            }
            Target::Connected(_) if !self.members.is_empty() => {
                let pool = descendants(&self.members);
                let seeds = self.members.iter().copied().collect();
                (Some(pool), seeds)
            }
            Target::Connected(selectors) => {
                let mut seeds = Vec::new();
                for sel in selectors {
                    let found: Vec<Pid> = table
                        .iter()
                        .filter(|p| p.pid != self.me && sel.matches(p.pid, p.name.as_bytes()))
                        .map(|p| p.pid)
                        .collect();
                    if found.is_empty() && self.tracked.is_empty() {
                        return Err(Error::InvalidInput(match sel {
                            ProcessSelector::Pid(p) => format!("no process with pid {p}"),
                            ProcessSelector::Name(n) => format!("no process named `{n}`"),
                        }));
                    }
                    seeds.extend(found);
                }
                (None, seeds)
            }
        };
        let mut wanted: Vec<Pid> = match &pool {
            Some(p) => p.iter().copied().collect(),
            None => Vec::new(), // every process
        };
        let root = match target {
            Target::Children(root) => Some(*root),
            Target::Connected(_) => None,
        };
        if let (Some(r), Some(_)) = (root, &pool) {
            wanted.push(r);
        }
        if pool.as_ref().is_some_and(BTreeSet::is_empty) && root.is_none() {
            return Ok(Discovery {
                procs: Vec::new(),
                alive,
                root: None,
            });
        }
        let procs = self.ends_of(&wanted, &parent)?;
        let (root_ends, mut procs): (Vec<ProcEnds>, Vec<ProcEnds>) =
            procs.into_iter().partition(|p| Some(p.pid) == root);
        let root_ends = root_ends.into_iter().next().map(|mut r| {
            // Only its standard handles come from outside the pipeline.
            r.ends
                .retain(|e| e.stderr || self.std_of(r.pid).contains(&e.handle));
            r
        });
        if let Target::Connected(_) = target {
            procs.retain(|p| p.pid != self.me);
            procs = connected(&procs, &seeds);
            if !procs.is_empty() {
                self.members = procs.iter().map(|p| p.pid).collect();
            }
        }
        if let Target::Children(root) = target {
            if *root == self.me {
                // Stages we started ourselves are stages even when they ended before a
                // look found them (`dir` into a `findstr` that exits at once): their ends
                // are known from their start.
                for started in super::launch::started() {
                    match procs.iter_mut().find(|p| p.pid == started.pid) {
                        Some(p) if p.ends.is_empty() => p.ends = started.ends,
                        Some(_) => {}
                        None => procs.push(started),
                    }
                }
            }
        }
        self.known = procs.iter().map(|p| (p.pid, p.clone())).collect();
        Ok(Discovery {
            procs,
            alive,
            root: root_ends,
        })
    }

    fn track(&mut self, pipeline: &Pipeline) {
        for pid in pipeline.stages.iter().filter_map(|s| s.pid) {
            self.tracked.entry(pid).or_insert_with(|| Tracked {
                process: ffi::open_process(
                    pid,
                    PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE,
                )
                .map_err(missing),
                exited: false,
                cpu: None,
            });
        }
        self.pipeline = pipeline.clone();
    }

    fn stage(&mut self, stage: &Stage, pid: Pid) -> StageSample {
        let mut out = StageSample::bare(Some(pid), StageState::Exited);
        let Some(t) = self.tracked.get_mut(&pid) else {
            return out;
        };
        let Ok(process) = t.process.as_ref() else {
            t.exited = true;
            return out;
        };
        let process = process.as_handle();
        let ended = !matches!(ffi::wait_process(process, 0), Ok(None));
        out.cpu = ffi::cpu_time(process).ok();
        if io_counted() {
            if let Ok((r, w)) = ffi::io_counters(process) {
                out.bytes_in = Some(r);
                out.bytes_out = Some(w);
            }
        }
        if ended {
            t.exited = true;
            return out;
        }
        let grew = match (t.cpu, out.cpu) {
            (Some(before), Some(now)) => now > before,
            _ => false,
        };
        t.cpu = out.cpu;
        let act = self.activity(pid);
        let inputs: Vec<&PipeEnd> = stage
            .ends
            .iter()
            .filter(|e| !e.stderr && e.reads() && !e.writes())
            .collect();
        let outputs: Vec<&PipeEnd> = stage
            .ends
            .iter()
            .filter(|e| !e.stderr && e.writes() && !e.reads())
            .collect();
        let pipes = self.pipeline.pipes.clone();
        let starved = inputs.iter().find(|e| {
            pipes
                .iter()
                .find(|p| p.id == e.pipe)
                .is_some_and(|p| matches!(self.fill(p).fill, Ok(0)))
        });
        let held = outputs.iter().find(|e| {
            pipes.iter().find(|p| p.id == e.pipe).is_some_and(|p| {
                let f = self.fill(p);
                match (f.fill, f.capacity) {
                    (Ok(fill), Some(cap)) if cap > 0 => fill as f64 >= FULL * cap as f64,
                    _ => false,
                }
            })
        });
        (out.state, _) = state_of(act, starved.map(|e| e.handle), held.map(|e| e.handle), grew);
        // The wait-for graph gets only what the threads say for sure: a blocked read or
        // write inferred from the fills is a view state, not a fact to rest a finding on.
        out.activity = match act {
            Activity::Running => crate::waitfor::Activity::Running,
            Activity::Suspended => crate::waitfor::Activity::Stopped,
            Activity::Waiting | Activity::Unknown => crate::waitfor::Activity::Unknown,
        };
        out
    }

    fn pipe(&mut self, pipe: &Pipe) -> PipeSample {
        let f = self.fill(pipe);
        PipeSample {
            id: pipe.id,
            fill: f.fill,
            capacity: f.capacity,
        }
    }

    fn exited(&self, pid: Pid) -> bool {
        self.tracked.get(&pid).is_none_or(|t| t.exited)
    }
}

const SYNCHRONIZE: u32 = 0x0010_0000;

/// A stage's state, and the handle it is blocked on, from what its threads say (`act`),
/// the input end whose pipe is empty (`starved`), the output end whose pipe is full
/// (`held`), and whether its CPU time grew since the last look. A thread's wait does not
/// say on which pipe nor which way: the pipes do.
fn state_of(
    act: Activity,
    starved: Option<u64>,
    held: Option<u64>,
    grew: bool,
) -> (StageState, Option<u64>) {
    match (act, starved, held) {
        (Activity::Running, _, _) => (StageState::Running, None),
        (Activity::Suspended, _, _) => (StageState::Stopped, None),
        (_, Some(h), _) => (StageState::BlockedRead, Some(h)),
        (_, None, Some(h)) => (StageState::BlockedWrite, Some(h)),
        (Activity::Unknown, None, None) if grew => (StageState::Running, None),
        _ => (StageState::Waiting, None),
    }
}

fn missing(e: io::Error) -> FillMissing {
    match kind_of(&e) {
        ErrorKind::PermissionDenied => FillMissing::Denied(e.to_string()),
        ErrorKind::Gone => FillMissing::Gone,
        _ if e.raw_os_error() == Some(87) => FillMissing::Gone, // ERROR_INVALID_PARAMETER
        _ => FillMissing::Failed(e.to_string()),
    }
}

impl Sampler {
    /// The standard handles of process `pid` (from its PEB), when they could be read.
    fn std_of(&self, pid: Pid) -> Vec<u64> {
        if pid == self.me {
            return [
                io::stdin().as_raw_handle(),
                io::stdout().as_raw_handle(),
                io::stderr().as_raw_handle(),
            ]
            .iter()
            .map(|h| *h as u64)
            .collect();
        }
        ffi::open_process(pid, PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ)
            .and_then(|h| ffi::process_parameters(h.as_handle()))
            .map(|(std, _)| std.to_vec())
            .unwrap_or_default()
    }

    /// Every pipe end of the processes `pids` (all processes when empty), from one
    /// handle scan, each with its command line and which end is its standard error.
    fn ends_of(&mut self, pids: &[Pid], parent: &HashMap<Pid, Pid>) -> Result<Vec<ProcEnds>> {
        let opts = ScanOptions {
            processes: pids.iter().map(|&p| ProcessSelector::Pid(p)).collect(),
            pipes_only: true,
            ..ScanOptions::default()
        };
        if !pids.is_empty() && opts.processes.is_empty() {
            return Ok(Vec::new());
        }
        let snap = scan::scan(&opts)?;
        let mut out = Vec::new();
        for p in snap.processes {
            if p.pid == 0 {
                continue;
            }
            let (std, command) = if p.pid == self.me {
                (self.std_of(p.pid), String::new())
            } else {
                ffi::open_process(p.pid, PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ)
                    .and_then(|h| ffi::process_parameters(h.as_handle()))
                    .map(|(s, c)| (s.to_vec(), c))
                    .unwrap_or_default()
            };
            let stderr = std.get(2).copied();
            // Another pipescope holds a stage's end for the instant of a look (a name
            // query, a fill measurement): only its standard handles are its own.
            let only_std = p.pid != self.me && self.my_name.eq_ignore_ascii_case(&p.name);
            let ends: Vec<PipeEnd> = p
                .handles
                .iter()
                .filter(|h| h.pipe.is_some())
                .filter(|h| !only_std || std.contains(&h.handle))
                .filter_map(|h| {
                    Some(PipeEnd {
                        pipe: pipe_id(h.object.as_ref()?),
                        handle: h.handle,
                        mode: h.mode,
                        stderr: stderr == Some(h.handle),
                    })
                })
                .collect();
            // A process the scan could not open keeps the ends found before.
            let ends = if ends.is_empty() {
                self.known
                    .get(&p.pid)
                    .map(|k| k.ends.clone())
                    .unwrap_or(ends)
            } else {
                ends
            };
            out.push(ProcEnds {
                pid: p.pid,
                ppid: parent.get(&p.pid).copied().or(p.ppid),
                session: None,
                command: if command.trim().is_empty() {
                    p.name.clone()
                } else {
                    command.trim().to_string()
                },
                ends,
            });
        }
        Ok(out)
    }

    /// The thread activity of `pid` at this look.
    fn activity(&mut self, pid: Pid) -> Activity {
        let fresh = self
            .threads
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < Duration::from_millis(20));
        if !fresh {
            let map = ffi::system_processes()
                .map(|ps| {
                    ps.into_iter()
                        .map(|p| (p.pid, activity(&p.threads)))
                        .collect()
                })
                .unwrap_or_default();
            self.threads = Some((Instant::now(), map));
        }
        self.threads
            .as_ref()
            .and_then(|(_, m)| m.get(&pid).copied())
            .unwrap_or(Activity::Unknown)
    }

    /// The fill of `pipe` at this look (measured once per look).
    fn fill(&mut self, pipe: &Pipe) -> Fill {
        if let Some(f) = self
            .fills
            .get(&pipe.id)
            .filter(|f| f.at.elapsed() < Duration::from_millis(20))
        {
            return f.clone();
        }
        let f = self.measure(pipe);
        self.fills.insert(pipe.id, f.clone());
        f
    }

    fn measure(&mut self, pipe: &Pipe) -> Fill {
        let at = Instant::now();
        let capacity = self.capacity.get(&pipe.id).copied();
        let done = |fill, capacity| Fill { at, fill, capacity };
        let Some(end) = pipe.read_end else {
            return done(Err(FillMissing::NoReadEnd), capacity);
        };
        if self
            .stuck
            .get(&pipe.id)
            .is_some_and(|s| s.load(Ordering::Relaxed))
        {
            // The last measurement is still held by a read in progress: nothing queued.
            return done(Ok(0), capacity);
        }
        let Some(t) = self.tracked.get(&end.pid) else {
            return done(Err(FillMissing::Gone), capacity);
        };
        let process = match &t.process {
            Ok(p) => p.as_handle(),
            Err(why) => return done(Err(why.clone()), capacity),
        };
        if t.exited || !matches!(ffi::wait_process(process, 0), Ok(None)) {
            return done(Err(FillMissing::Gone), capacity);
        }
        let dup = match ffi::duplicate(process, end.handle) {
            Ok(d) => d,
            Err(e) => return done(Err(missing(e)), capacity),
        };
        let busy = Arc::new(AtomicBool::new(true));
        self.stuck.insert(pipe.id, Arc::clone(&busy));
        let want_capacity = capacity.is_none();
        let answer = self.guard.run(move || {
            let fill = ffi::peek_available(dup.as_handle());
            let cap = if want_capacity {
                ffi::pipe_local(dup.as_handle()).ok().map(|i| match i.end {
                    NpfsEnd::Server => u64::from(i.inbound_quota),
                    NpfsEnd::Client => u64::from(i.outbound_quota),
                })
            } else {
                None
            };
            drop(dup);
            busy.store(false, Ordering::Relaxed);
            (fill, cap)
        });
        match answer {
            Some((fill, cap)) => {
                if let Some(c) = cap {
                    self.capacity.insert(pipe.id, c);
                }
                let capacity = self.capacity.get(&pipe.id).copied();
                // Windows counts a write waiting for room as queued already: the buffer
                // holds at most its capacity, the rest is still the writer's.
                let fill = fill
                    .map(|n| capacity.map_or(u64::from(n), |c| u64::from(n).min(c)))
                    .map_err(missing);
                done(fill, capacity)
            }
            None => done(Ok(0), capacity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_from_threads_and_pipes() {
        use Activity as A;
        use StageState as S;
        // Windows: a thread on a CPU runs whatever its pipes hold; a waiting one is blocked
        // on the pipe that explains it, reading first, or waits for its own reasons.
        assert_eq!(
            state_of(A::Running, Some(0), Some(4), false),
            (S::Running, None)
        );
        assert_eq!(
            state_of(A::Suspended, Some(0), None, true),
            (S::Stopped, None)
        );
        assert_eq!(
            state_of(A::Waiting, Some(0), Some(4), false),
            (S::BlockedRead, Some(0))
        );
        assert_eq!(
            state_of(A::Waiting, None, Some(4), false),
            (S::BlockedWrite, Some(4))
        );
        assert_eq!(state_of(A::Waiting, None, None, true), (S::Waiting, None));
        // Wine (threads say nothing): the same from the pipes, else CPU growth decides.
        assert_eq!(
            state_of(A::Unknown, Some(8), None, true),
            (S::BlockedRead, Some(8))
        );
        assert_eq!(state_of(A::Unknown, None, None, true), (S::Running, None));
        assert_eq!(state_of(A::Unknown, None, None, false), (S::Waiting, None));
    }

    #[test]
    fn pipe_ids_pair_names_in_any_case_and_keep_addresses() {
        let a = pipe_id(&ObjectId::Name(r"\Device\NamedPipe\Win32.Pipes.1".into()));
        let b = pipe_id(&ObjectId::Name(r"\device\namedpipe\win32.pipes.1".into()));
        let c = pipe_id(&ObjectId::Name(r"\Device\NamedPipe\Win32.Pipes.2".into()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(pipe_id(&ObjectId::Address(0xffff_a000)), 0xffff_a000);
    }
}
