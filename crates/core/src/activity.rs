//! What a process is doing right now, as far as the OS lets us see — running, blocked
//! reading or writing a pipe, waiting for a child, stopped — and what that means for each
//! pipe end it holds. OS-neutral: the Linux backend fills these in from /proc; a backend
//! that cannot tell says [`Activity::Unknown`].

use std::fmt;

use crate::model::Pid;

/// What a process is doing, as far as the OS lets us see.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Activity {
    /// On a CPU, or ready to run.
    Running,
    /// Asleep in a read of `handle` (`None`: a pipe read whose handle the OS did not
    /// tell).
    Reading {
        /// The handle being read, when known.
        handle: Option<u64>,
    },
    /// Asleep in a write to `handle` (`None`: a pipe write whose handle the OS did not
    /// tell).
    Writing {
        /// The handle being written, when known.
        handle: Option<u64>,
    },
    /// Asleep waiting for a child to exit (`wait4`, `waitid`).
    WaitingForChild {
        /// The child waited for, when the call names one (`None`: any child, or the
        /// call's argument could not be read).
        child: Option<Pid>,
    },
    /// Asleep for another reason: several fds at once (`poll`), a timer, a lock, a
    /// disk, a terminal.
    Sleeping {
        /// A short word for why, when known: the system call (`poll`, `nanosleep`) or
        /// the kernel's wait channel.
        reason: Option<String>,
    },
    /// Stopped by a signal (Ctrl-Z, SIGSTOP) or held by a tracer.
    Stopped,
    /// Exited, not yet reaped by its parent.
    Zombie,
    /// Not known: the OS would not say (another user's process, no privilege, or no
    /// backend for it).
    Unknown,
}

impl Activity {
    /// A word for the process as a whole: `running`, `reading`, `writing`,
    /// `waiting-for-child`, `idle`, `stopped`, `zombie` or `unknown`.
    pub fn word(&self) -> &'static str {
        match self {
            Activity::Running => "running",
            Activity::Reading { .. } => "reading",
            Activity::Writing { .. } => "writing",
            Activity::WaitingForChild { .. } => "waiting-for-child",
            Activity::Sleeping { .. } => "idle",
            Activity::Stopped => "stopped",
            Activity::Zombie => "zombie",
            Activity::Unknown => "unknown",
        }
    }

    /// What this process is doing with its handle `handle`, an end of a pipe.
    pub fn at_end(&self, handle: u64) -> EndState {
        match self {
            Activity::Running => EndState::Running,
            Activity::Reading { handle: Some(h) } if *h == handle => EndState::Reading,
            Activity::Writing { handle: Some(h) } if *h == handle => EndState::Writing,
            Activity::Reading { handle: Some(_) }
            | Activity::Writing { handle: Some(_) }
            | Activity::Sleeping { .. } => EndState::Idle,
            // A pipe read or write whose handle is not known may be this one.
            Activity::Reading { handle: None } | Activity::Writing { handle: None } => {
                EndState::Unknown
            }
            Activity::WaitingForChild { .. } => EndState::WaitingForChild,
            Activity::Stopped => EndState::Stopped,
            Activity::Zombie => EndState::Zombie,
            Activity::Unknown => EndState::Unknown,
        }
    }

    /// A short phrase for a person: `reading fd 0`, `asleep in poll`, `waiting for
    /// child 1234`, `stopped`…
    pub fn describe(&self) -> String {
        let fd = |h: &Option<u64>| match h {
            Some(h) => format!(" {}", crate::graph::handle_label(*h)),
            None => " a pipe".to_string(),
        };
        match self {
            Activity::Running => "running".into(),
            Activity::Reading { handle } => format!("blocked reading{}", fd(handle)),
            Activity::Writing { handle } => format!("blocked writing{}", fd(handle)),
            Activity::WaitingForChild { child: Some(c) } => format!("waiting for child {c}"),
            Activity::WaitingForChild { child: None } => "waiting for a child".into(),
            Activity::Sleeping { reason: Some(r) } => format!("asleep in {r}"),
            Activity::Sleeping { reason: None } => "asleep".into(),
            Activity::Stopped => "stopped".into(),
            Activity::Zombie => "exited (zombie)".into(),
            Activity::Unknown => "state unknown".into(),
        }
    }
}

/// What the holder of one pipe end is doing with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndState {
    /// Blocked reading this end.
    Reading,
    /// Blocked writing this end.
    Writing,
    /// The holder is running.
    Running,
    /// The holder is asleep for another reason (another fd, a timer, `poll`).
    Idle,
    /// The holder waits for a child to exit.
    WaitingForChild,
    /// The holder is stopped (signal or tracer).
    Stopped,
    /// The holder has exited and not been reaped.
    Zombie,
    /// Not known.
    Unknown,
}

impl EndState {
    /// `reading`, `writing`, `running`, `idle`, `waiting-for-child`, `stopped`,
    /// `zombie` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndState::Reading => "reading",
            EndState::Writing => "writing",
            EndState::Running => "running",
            EndState::Idle => "idle",
            EndState::WaitingForChild => "waiting-for-child",
            EndState::Stopped => "stopped",
            EndState::Zombie => "zombie",
            EndState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for EndState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one look saw of a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessState {
    /// What it is doing.
    pub activity: Activity,
    /// The system call it sleeps in, by name (`read`, `wait4`, `poll`…), when known.
    pub syscall: Option<&'static str>,
    /// Its parent has gone: it was reparented (to PID 1 or a subreaper) out of the session
    /// it was started in. `false` when unknown.
    pub orphaned: bool,
    /// Its start time in the OS's own unit, to tell a process from a later one that got
    /// its pid; `None` when unknown.
    pub start: Option<u64>,
}

impl ProcessState {
    /// A process nothing is known about.
    pub fn unknown() -> Self {
        ProcessState {
            activity: Activity::Unknown,
            syscall: None,
            orphaned: false,
            start: None,
        }
    }
}

/// How full a pipe was at one look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeFill {
    /// Bytes queued, or why that is not known.
    pub fill: std::result::Result<u64, crate::sample::FillMissing>,
    /// Bytes it can hold, when known.
    pub capacity: Option<u64>,
}

/// Bytes a process has read and written so far, through any call (Linux `rchar` and
/// `wchar`): unchanged between two looks, the process moved no data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IoCounters {
    /// Bytes read.
    pub read: u64,
    /// Bytes written.
    pub written: u64,
}
