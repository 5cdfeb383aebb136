//! Exact pipe traffic from the kernel: a [`FlowProbe`] counts, per pipe end (a process's
//! handle on a pipe), the bytes read and written, the calls, and the time they slept
//! waiting for data or for room.
//!
//! On Linux the probe is an eBPF program on the syscall-exit and scheduler tracepoints (built with the `ebpf`
//! feature; needs root or CAP_BPF + CAP_PERFMON, and the kernel's BTF). The counters live
//! in kernel maps and are read with [`FlowProbe::read`]; nothing is sent per call. Where
//! the probe cannot run, [`FlowProbe::attach`] fails with an error whose kind says why
//! ([`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) when it is not built for
//! this system, `PermissionDenied` without the privilege); callers then fall back to
//! sampling ([`crate::sample`]).
//!
//! The arithmetic over readings ([`FlowReading::delta`], [`FlowReading::pipes`]) is pure.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::buffering::{Buffering, BufferingWatch};
use crate::{ObjectId, Pid, PipeKind, ProcessSelector, Result, sys};

/// What went through one end in one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirFlow {
    /// Bytes moved (the sum of the calls' positive results).
    pub bytes: u64,
    /// Calls made, failed ones included.
    pub calls: u64,
    /// Time the calls slept (switched out, not preempted): waiting for data to read or
    /// for room to write. A call still asleep counts its sleep so far.
    pub wait_time: Duration,
}

impl DirFlow {
    /// Whether a call was made, or one slept.
    pub fn active(&self) -> bool {
        self.calls > 0 || !self.wait_time.is_zero()
    }

    fn minus(&self, earlier: &DirFlow) -> DirFlow {
        DirFlow {
            bytes: self.bytes.saturating_sub(earlier.bytes),
            calls: self.calls.saturating_sub(earlier.calls),
            wait_time: self.wait_time.saturating_sub(earlier.wait_time),
        }
    }

    fn plus(&mut self, other: &DirFlow) {
        self.bytes += other.bytes;
        self.calls += other.calls;
        self.wait_time += other.wait_time;
    }
}

/// One end of a pipe as the probe saw it: a process's handle on the pipe, and what
/// went through it since the probe was attached (or over an interval, after
/// [`FlowReading::delta`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndFlow {
    /// The process holding the end.
    pub pid: Pid,
    /// The handle (fd) the calls were made on.
    pub handle: u64,
    /// The pipe (for anonymous pipes `dev` is 0, as in a scan).
    pub pipe: ObjectId,
    /// Anonymous pipe or FIFO.
    pub kind: PipeKind,
    /// The process's short name (of the thread that made the end's first call, when the
    /// process is gone).
    pub comm: String,
    /// Reads from the pipe through this end.
    pub read: DirFlow,
    /// Writes into the pipe through this end.
    pub write: DirFlow,
}

/// The counters of every end the probe has seen, at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowReading {
    /// When the reading was taken, on the probe's clock (the monotonic clock).
    pub at: Duration,
    /// Ends, ordered by pid, then handle.
    pub ends: Vec<EndFlow>,
    /// Calls on pipes the probe could not count since it was attached (its tables were
    /// full); while this is 0 the counts are exact.
    pub dropped: u64,
}

/// One pipe's traffic: its ends, and their sums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeFlow {
    /// The pipe.
    pub pipe: ObjectId,
    /// Anonymous pipe or FIFO.
    pub kind: PipeKind,
    /// Bytes written into it, over all ends.
    pub written: u64,
    /// Bytes read out of it, over all ends.
    pub read: u64,
    /// The ends that wrote or read it, by pid then handle.
    pub ends: Vec<EndFlow>,
}

impl FlowReading {
    /// What happened between `earlier` and this reading, end by end: ends present in
    /// both are differenced, new ones are taken whole (their counters started at 0 within
    /// the interval, or at the probe's attach), and ends without a call in between are
    /// dropped.
    pub fn delta(&self, earlier: &FlowReading) -> FlowReading {
        let before: BTreeMap<(Pid, u64, &ObjectId), &EndFlow> = earlier
            .ends
            .iter()
            .map(|e| ((e.pid, e.handle, &e.pipe), e))
            .collect();
        let ends = self
            .ends
            .iter()
            .filter_map(|e| {
                let mut d = e.clone();
                if let Some(b) = before.get(&(e.pid, e.handle, &e.pipe)) {
                    d.read = e.read.minus(&b.read);
                    d.write = e.write.minus(&b.write);
                }
                (d.read.active() || d.write.active()).then_some(d)
            })
            .collect();
        FlowReading {
            at: self.at,
            ends,
            dropped: self.dropped.saturating_sub(earlier.dropped),
        }
    }

    /// The ends grouped by pipe, busiest (most bytes moved) first.
    pub fn pipes(&self) -> Vec<PipeFlow> {
        let mut by_pipe: BTreeMap<&ObjectId, PipeFlow> = BTreeMap::new();
        for e in &self.ends {
            let p = by_pipe.entry(&e.pipe).or_insert_with(|| PipeFlow {
                pipe: e.pipe.clone(),
                kind: e.kind,
                written: 0,
                read: 0,
                ends: Vec::new(),
            });
            p.written += e.write.bytes;
            p.read += e.read.bytes;
            p.ends.push(e.clone());
        }
        let mut pipes: Vec<PipeFlow> = by_pipe.into_values().collect();
        pipes.sort_by(|a, b| {
            (b.written + b.read)
                .cmp(&(a.written + a.read))
                .then_with(|| a.pipe.cmp(&b.pipe))
        });
        pipes
    }

    /// The sum of `pid`'s ends on `pipe` (a process may hold a pipe at several handles).
    pub fn of(&self, pid: Pid, pipe: &ObjectId) -> (DirFlow, DirFlow) {
        let mut read = DirFlow::default();
        let mut write = DirFlow::default();
        for e in self.ends.iter().filter(|e| e.pid == pid && &e.pipe == pipe) {
            read.plus(&e.read);
            write.plus(&e.write);
        }
        (read, write)
    }
}

/// The kernel-side probe of pipe I/O, attached for as long as the value lives: dropping
/// it (or the process ending, however it ends) detaches it and frees its tables.
#[derive(Debug)]
pub struct FlowProbe {
    inner: sys::flow::Probe,
}

impl FlowProbe {
    /// Loads and attaches the probe. Counting starts now: calls already in progress
    /// (a read sleeping on an empty pipe) are not counted.
    ///
    /// Fails with kind `Unsupported` where the probe is not built in (no `ebpf` feature,
    /// not Linux on x86-64), `PermissionDenied` without CAP_BPF + CAP_PERFMON (or root),
    /// and `Os` when the kernel refuses it (no BTF, an old kernel); the message says which.
    pub fn attach() -> Result<FlowProbe> {
        Ok(FlowProbe {
            inner: sys::flow::Probe::attach()?,
        })
    }

    /// Reads every end's counters since the probe was attached. Ends of processes that
    /// have exited are returned one last time, then forgotten.
    pub fn read(&mut self) -> Result<FlowReading> {
        self.inner.read()
    }
}

/// Why the probe cannot run here, in one line, or `None` when it is built for this
/// system (whether it may attach is only known by trying).
pub fn unavailable() -> Option<&'static str> {
    sys::flow::UNAVAILABLE
}

/// Where traffic figures come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowSource {
    /// The kernel probe: bytes counted on each pipe end, waits measured. Exact.
    Probe,
    /// Sampling: the pipes and their holders from a scan, each holder's I/O counters
    /// (every byte it read or wrote, pipes or not). Estimates.
    Sampling,
}

impl FlowSource {
    /// `probe` or `sampling`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowSource::Probe => "probe",
            FlowSource::Sampling => "sampling",
        }
    }
}

/// One end's traffic over an interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndTraffic {
    /// The process holding the end.
    pub pid: Pid,
    /// Its short name.
    pub name: String,
    /// The handle (fd).
    pub handle: u64,
    /// The pipe.
    pub pipe: ObjectId,
    /// Anonymous pipe or FIFO.
    pub kind: PipeKind,
    /// Whether this end writes into the pipe (else it reads from it).
    pub writes: bool,
    /// Bytes moved through this end ([`FlowSource::Probe`]); with
    /// [`FlowSource::Sampling`], every byte the process read through any call when this
    /// end is its standard input, or wrote when it is its standard output, else 0.
    pub bytes: u64,
    /// Calls on this end (probe only).
    pub calls: Option<u64>,
    /// Time the calls slept waiting for data or room (probe only).
    pub wait: Option<Duration>,
}

/// One pipe's traffic over an interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeTraffic {
    /// The pipe.
    pub pipe: ObjectId,
    /// Anonymous pipe or FIFO.
    pub kind: PipeKind,
    /// Bytes written into it (sampling: its writers' write counters, summed).
    pub written: u64,
    /// Bytes read from it (sampling: its readers' read counters, summed).
    pub read: u64,
    /// The ends that wrote (probe: in the interval; sampling: every write end).
    pub writers: Vec<EndTraffic>,
    /// The ends that read (probe: in the interval; sampling: every read end).
    pub readers: Vec<EndTraffic>,
    /// Bytes queued in it now, once measured ([`Traffic::measure_fill`]).
    pub fill: Option<u64>,
    /// Its capacity, once measured.
    pub capacity: Option<u64>,
}

/// A pipe's text id, as [`crate::graph::Pipe::id`] gives it: `pipe:[8844]` for an
/// anonymous pipe, `fifo:[DEV:INO]` for a FIFO.
pub fn pipe_id(pipe: &ObjectId, kind: PipeKind) -> String {
    match (pipe, kind) {
        (ObjectId::Inode { ino, .. }, PipeKind::Anonymous) => format!("pipe:[{ino}]"),
        (ObjectId::Inode { dev, ino }, _) => format!("fifo:[{dev}:{ino}]"),
        (ObjectId::Address(a), _) => format!("pipe@{a:#x}"),
        (ObjectId::Name(n), _) => n.clone(),
    }
}

impl EndTraffic {
    /// Its pipe's text id (see [`pipe_id`]).
    pub fn pipe_id(&self) -> String {
        pipe_id(&self.pipe, self.kind)
    }
}

impl PipeTraffic {
    /// Its text id (see [`pipe_id`]).
    pub fn id(&self) -> String {
        pipe_id(&self.pipe, self.kind)
    }

    /// What went through, the larger of written and read.
    pub fn bytes(&self) -> u64 {
        self.written.max(self.read)
    }

    /// The longest wait of any of its ends.
    pub fn wait(&self) -> Duration {
        self.writers
            .iter()
            .chain(&self.readers)
            .filter_map(|e| e.wait)
            .max()
            .unwrap_or_default()
    }

    /// Calls on its ends, summed (probe only).
    pub fn calls(&self) -> Option<u64> {
        self.writers
            .iter()
            .chain(&self.readers)
            .map(|e| e.calls)
            .sum()
    }
}

/// The machine's pipe traffic over one interval, busiest pipe first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traffic {
    /// Where the figures come from.
    pub source: FlowSource,
    /// The interval's length.
    pub elapsed: Duration,
    /// Pipes with traffic (sampling: every pipe), busiest first.
    pub pipes: Vec<PipeTraffic>,
    /// Ends that waited in the interval, longest first (probe only).
    pub waiting: Vec<EndTraffic>,
    /// Calls the probe could not count in the interval (its tables were full).
    pub dropped: u64,
    /// Processes holding their output in a buffer (probe only; see
    /// [`crate::buffering`]).
    pub buffering: Vec<Buffering>,
}

impl Traffic {
    /// The traffic in a probe's `delta` over `elapsed`.
    pub fn from_delta(delta: &FlowReading, elapsed: Duration) -> Traffic {
        let end = |e: &EndFlow, writes: bool| {
            let d = if writes { &e.write } else { &e.read };
            EndTraffic {
                pid: e.pid,
                name: e.comm.clone(),
                handle: e.handle,
                pipe: e.pipe.clone(),
                kind: e.kind,
                writes,
                bytes: d.bytes,
                calls: Some(d.calls),
                wait: Some(d.wait_time),
            }
        };
        let pipes = delta
            .pipes()
            .into_iter()
            .map(|p| PipeTraffic {
                writers: p
                    .ends
                    .iter()
                    .filter(|e| e.write.active())
                    .map(|e| end(e, true))
                    .collect(),
                readers: p
                    .ends
                    .iter()
                    .filter(|e| e.read.active())
                    .map(|e| end(e, false))
                    .collect(),
                pipe: p.pipe,
                kind: p.kind,
                written: p.written,
                read: p.read,
                fill: None,
                capacity: None,
            })
            .collect();
        let mut waiting: Vec<EndTraffic> = delta
            .ends
            .iter()
            .flat_map(|e| [end(e, false), end(e, true)])
            .filter(|e| e.wait.is_some_and(|w| !w.is_zero()))
            .collect();
        waiting.sort_by(|a, b| b.wait.cmp(&a.wait).then(a.pid.cmp(&b.pid)));
        Traffic {
            source: FlowSource::Probe,
            elapsed,
            pipes,
            waiting,
            dropped: delta.dropped,
            buffering: Vec::new(),
        }
    }

    /// Measures the fill of the first `n` pipes (the ones shown), through a read-only
    /// end of a reader (a duplicate closed at once: nothing is read). Where no reader's
    /// end may be duplicated (no ptrace access), the fill stays unknown.
    pub fn measure_fill(&mut self, n: usize) {
        for p in self.pipes.iter_mut().take(n) {
            let ObjectId::Inode { ino, .. } = p.pipe else {
                continue;
            };
            if let Some((fill, capacity)) = p
                .readers
                .iter()
                .find_map(|r| sys::pipe_fill(r.pid, r.handle, ino))
            {
                p.fill = Some(fill);
                p.capacity = capacity;
            }
        }
    }

    /// Keeps the pipes with an end held by a process `selectors` name (by pid, or by
    /// exact short name), and those processes' waiting ends.
    pub fn retain(&mut self, selectors: &[ProcessSelector]) {
        let held = |e: &EndTraffic| {
            selectors.iter().any(|s| match s {
                ProcessSelector::Pid(p) => *p == e.pid,
                ProcessSelector::Name(n) => *n == e.name,
            })
        };
        self.pipes
            .retain(|p| p.writers.iter().chain(&p.readers).any(held));
        self.waiting.retain(held);
        self.buffering.retain(|b| {
            selectors.iter().any(|s| match s {
                ProcessSelector::Pid(p) => *p == b.pid,
                ProcessSelector::Name(n) => *n == b.name,
            })
        });
    }
}

/// Watches the machine's pipe traffic interval by interval, with the probe when it can
/// attach, else by sampling.
#[derive(Debug)]
pub struct TrafficMonitor {
    source: Source,
    last: std::time::Instant,
}

#[derive(Debug)]
enum Source {
    Probe(Box<FlowProbe>, FlowReading, BufferingWatch),
    /// The I/O counters of each holder at the last interval.
    Sampling(BTreeMap<Pid, (u64, u64)>),
}

impl TrafficMonitor {
    /// Starts watching: with the probe when `probe` is true and it attaches, else by
    /// sampling, and then also returns why the probe is not used (`None` when it was not
    /// asked for).
    pub fn start(probe: bool) -> (TrafficMonitor, Option<crate::Error>) {
        let (source, why) = if probe {
            match FlowProbe::attach().and_then(|mut p| {
                let first = p.read()?;
                Ok((p, first))
            }) {
                Ok((p, first)) => (
                    Source::Probe(Box::new(p), first, BufferingWatch::new()),
                    None,
                ),
                Err(e) => (Source::Sampling(BTreeMap::new()), Some(e)),
            }
        } else {
            (Source::Sampling(BTreeMap::new()), None)
        };
        let mut monitor = TrafficMonitor {
            source,
            last: std::time::Instant::now(),
        };
        if let Source::Sampling(_) = monitor.source {
            // The first interval then differences against a real starting point.
            let _ = monitor.interval();
        }
        (monitor, why)
    }

    /// Where the figures come from.
    pub fn source(&self) -> FlowSource {
        match self.source {
            Source::Probe(..) => FlowSource::Probe,
            Source::Sampling(_) => FlowSource::Sampling,
        }
    }

    /// The traffic since the last call (or the start).
    pub fn interval(&mut self) -> Result<Traffic> {
        let now = std::time::Instant::now();
        let elapsed = now - self.last;
        self.last = now;
        match &mut self.source {
            Source::Probe(probe, last, watch) => {
                let reading = probe.read()?;
                let delta = reading.delta(last);
                *last = reading;
                let mut traffic = Traffic::from_delta(&delta, elapsed);
                traffic.buffering = watch.add(&delta, elapsed);
                Ok(traffic)
            }
            Source::Sampling(counters) => sampled(counters, elapsed),
        }
    }
}

/// Traffic estimated from a scan of every pipe and its holders' I/O counters.
fn sampled(counters: &mut BTreeMap<Pid, (u64, u64)>, elapsed: Duration) -> Result<Traffic> {
    let snapshot = crate::scan(&crate::ScanOptions {
        pipes_only: true,
        ..crate::ScanOptions::default()
    })?;
    let graph = crate::graph::PipeGraph::build(&snapshot, &Default::default());
    let mut now = BTreeMap::new();
    for p in &snapshot.processes {
        if let Some(c) = sys::io_counters(p.pid) {
            now.insert(p.pid, c);
        }
    }
    let delta = |pid: Pid, writes: bool| -> u64 {
        match (now.get(&pid), counters.get(&pid)) {
            (Some(n), Some(b)) if writes => n.1.saturating_sub(b.1),
            (Some(n), Some(b)) => n.0.saturating_sub(b.0),
            _ => 0,
        }
    };
    let mut pipes: Vec<PipeTraffic> = graph
        .pipes
        .iter()
        .filter(|p| !p.is_self_pipe())
        .map(|p| {
            let end = |e: &crate::graph::PipeEnd, writes: bool| EndTraffic {
                pid: e.pid,
                name: graph.process_name(e.pid).to_string(),
                handle: e.handle,
                pipe: p.object.clone(),
                kind: p.kind,
                writes,
                // A process's reads are charged to the pipe at its standard input, its
                // writes to the one at its standard output: other ends are mostly
                // inherited and idle, and the counters cannot tell them apart.
                bytes: if e.handle == u64::from(writes) {
                    delta(e.pid, writes)
                } else {
                    0
                },
                calls: None,
                wait: None,
            };
            let writers: Vec<EndTraffic> = p.writers.iter().map(|e| end(e, true)).collect();
            let readers: Vec<EndTraffic> = p.readers.iter().map(|e| end(e, false)).collect();
            // A process counted once per pipe, however many handles it holds on it.
            let sum = |ends: &[EndTraffic]| {
                let mut seen = std::collections::BTreeSet::new();
                ends.iter()
                    .filter(|e| seen.insert(e.pid))
                    .map(|e| e.bytes)
                    .sum()
            };
            PipeTraffic {
                pipe: p.object.clone(),
                kind: p.kind,
                written: sum(&writers),
                read: sum(&readers),
                writers,
                readers,
                fill: None,
                capacity: None,
            }
        })
        .collect();
    pipes.sort_by(|a, b| b.bytes().cmp(&a.bytes()).then_with(|| a.pipe.cmp(&b.pipe)));
    *counters = now;
    Ok(Traffic {
        source: FlowSource::Sampling,
        elapsed,
        pipes,
        waiting: Vec::new(),
        dropped: 0,
        buffering: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(pid: Pid, handle: u64, ino: u64, read: u64, write: u64) -> EndFlow {
        EndFlow {
            pid,
            handle,
            pipe: ObjectId::Inode { dev: 0, ino },
            kind: PipeKind::Anonymous,
            comm: format!("p{pid}"),
            read: DirFlow {
                bytes: read,
                calls: u64::from(read > 0),
                ..DirFlow::default()
            },
            write: DirFlow {
                bytes: write,
                calls: u64::from(write > 0),
                ..DirFlow::default()
            },
        }
    }

    #[test]
    fn delta_differences_known_ends_and_keeps_new_ones() {
        let a = FlowReading {
            at: Duration::from_secs(1),
            ends: vec![end(10, 1, 7, 0, 100), end(11, 0, 7, 60, 0)],
            dropped: 0,
        };
        let mut b = a.clone();
        b.at = Duration::from_secs(2);
        b.ends[0].write.bytes = 250;
        b.ends[0].write.calls = 3;
        b.ends.push(end(12, 0, 9, 5, 0));
        let d = b.delta(&a);
        assert_eq!(d.ends.len(), 2, "the idle reader is dropped: {d:?}");
        assert_eq!((d.ends[0].pid, d.ends[0].write.bytes), (10, 150));
        assert_eq!(d.ends[0].write.calls, 2);
        assert_eq!((d.ends[1].pid, d.ends[1].read.bytes), (12, 5));
    }

    #[test]
    fn pipes_sum_their_ends_busiest_first() {
        let r = FlowReading {
            at: Duration::ZERO,
            ends: vec![
                end(1, 1, 5, 0, 10),
                end(2, 0, 5, 10, 0),
                end(3, 1, 6, 0, 1000),
                end(4, 0, 6, 900, 0),
                end(4, 3, 6, 50, 0),
            ],
            dropped: 0,
        };
        let pipes = r.pipes();
        assert_eq!(pipes.len(), 2);
        assert_eq!(pipes[0].pipe, ObjectId::Inode { dev: 0, ino: 6 });
        assert_eq!((pipes[0].written, pipes[0].read), (1000, 950));
        assert_eq!(pipes[0].ends.len(), 3);
        let (read, _) = r.of(4, &ObjectId::Inode { dev: 0, ino: 6 });
        assert_eq!(read.bytes, 950);
    }
}
