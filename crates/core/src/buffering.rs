//! The `buffering` finding: a process that keeps reading its input pipe but writes nothing
//! to its output pipe, and is not blocked writing, is holding its output in a buffer —
//! usually stdio's block buffering, which a program gets when its standard output is a
//! pipe — so everything downstream looks stuck.
//!
//! Told apart from a stage that must consume all of its input first (`sort`, `tac`,
//! `wc`) by how it writes: a buffering filter has already written, in bursts of exactly
//! its buffer's size (1, 4 or 8 KiB: glibc and musl stdio, Python, Perl), with reads in
//! between; a consume-all stage writes nothing until its input ends, then writes without
//! reading. A stage writing lines as it goes (line buffering) never writes whole buffers.
//!
//! Needs exact per-end counts ([`crate::flow`]): fed one interval at a time with the
//! probe's deltas, [`BufferingWatch`] keeps a little history per process.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::flow::FlowReading;
use crate::{ObjectId, Pid};

/// Buffer sizes of stdio implementations: musl (1 KiB), glibc on a pipe (4 KiB, the
/// pipe's `st_blksize`), Python's `io` and Perl (8 KiB).
pub const STDIO_BUFFER_SIZES: [u64; 3] = [1024, 4096, 8192];

/// How long a stage must have read without writing before it is called buffering.
pub const QUIET: Duration = Duration::from_secs(1);

/// The usual cures, for the finding's text and for a renderer that lists them.
pub const CURES: [&str; 4] = [
    "stdbuf -oL CMD (line-buffers a C program's stdout)",
    "grep --line-buffered, sed -u, awk with fflush()",
    "python -u (or PYTHONUNBUFFERED=1)",
    "perl: $| = 1",
];

/// A process holding its output in a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffering {
    /// The process.
    pub pid: Pid,
    /// Its short name.
    pub name: String,
    /// The pipe it keeps reading.
    pub input: ObjectId,
    /// The pipe it does not write to.
    pub output: ObjectId,
    /// The size of its earlier write bursts: its buffer's size.
    pub burst: u64,
    /// Bytes it read since it last wrote.
    pub read_since_write: u64,
    /// How long it has not written while reading.
    pub quiet: Duration,
    /// The finding in one sentence, with the cures.
    pub message: String,
}

#[derive(Debug, Default)]
struct History {
    name: String,
    input: Option<ObjectId>,
    output: Option<ObjectId>,
    /// The size of the writes of the last interval that wrote, when they were whole
    /// stdio buffers.
    burst: Option<u64>,
    read_since_write: u64,
    quiet: Duration,
    /// Intervals since the process was last seen making a call.
    idle: u32,
    /// `quiet` already counts the current interval.
    counted: bool,
}

/// Watches processes interval by interval for the `buffering` finding.
#[derive(Debug, Default)]
pub struct BufferingWatch {
    seen: BTreeMap<Pid, History>,
}

impl BufferingWatch {
    /// A watch with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one interval (`delta`: the probe's counts over `elapsed`, as
    /// [`FlowReading::delta`] gives them) and returns the findings standing now, by pid.
    ///
    /// A process is considered when, in the interval, it read one pipe and wrote
    /// another (or wrote nothing but has before); its input is the pipe it read most,
    /// its output the pipe it wrote most.
    pub fn add(&mut self, delta: &FlowReading, elapsed: Duration) -> Vec<Buffering> {
        let mut per_pid: BTreeMap<Pid, Vec<&crate::flow::EndFlow>> = BTreeMap::new();
        for e in &delta.ends {
            per_pid.entry(e.pid).or_default().push(e);
        }
        for h in self.seen.values_mut() {
            h.idle += 1;
            // Holding what it read counts while it makes no call at all, too.
            h.counted = h.read_since_write > 0;
            if h.counted {
                h.quiet += elapsed;
            }
        }
        for (pid, ends) in per_pid {
            let h = self.seen.entry(pid).or_default();
            h.idle = 0;
            h.name.clone_from(&ends[0].comm);
            let input = ends
                .iter()
                .filter(|e| e.read.bytes > 0)
                .max_by_key(|e| e.read.bytes);
            let output = ends
                .iter()
                .filter(|e| e.write.active())
                .max_by_key(|e| e.write.bytes);
            if let Some(i) = input {
                h.input = Some(i.pipe.clone());
            }
            let read: u64 = ends
                .iter()
                .filter(|e| Some(&e.pipe) == h.input.as_ref())
                .map(|e| e.read.bytes)
                .sum();
            match output {
                Some(o) if o.write.bytes > 0 && Some(&o.pipe) != h.input.as_ref() => {
                    h.output = Some(o.pipe.clone());
                    let (bytes, calls) = (o.write.bytes, o.write.calls);
                    h.burst = (bytes % calls == 0)
                        .then_some(bytes / calls)
                        .filter(|size| STDIO_BUFFER_SIZES.contains(size));
                    h.read_since_write = 0;
                    h.quiet = Duration::ZERO;
                }
                // A write that slept or failed: blocked writing or a closed reader, not
                // a buffer.
                Some(_) => {
                    h.burst = None;
                    h.read_since_write = 0;
                    h.quiet = Duration::ZERO;
                }
                None => {
                    h.read_since_write += read;
                    if h.read_since_write > 0 && !h.counted {
                        h.quiet += elapsed;
                    }
                }
            }
        }
        // Processes gone for a while are forgotten.
        self.seen.retain(|_, h| h.idle < 60);
        self.seen
            .iter()
            .filter_map(|(&pid, h)| {
                let burst = h.burst?;
                if h.quiet < QUIET || h.read_since_write == 0 {
                    return None;
                }
                Some(Buffering {
                    pid,
                    name: h.name.clone(),
                    input: h.input.clone()?,
                    output: h.output.clone()?,
                    burst,
                    read_since_write: h.read_since_write,
                    quiet: h.quiet,
                    message: format!(
                        "{} (pid {pid}) has read {} bytes from its input pipe over {:.1}s \
                         without writing to its output pipe, and is not blocked writing: it \
                         holds its output in a buffer (it writes in bursts of {burst} bytes, \
                         stdio's block buffering when stdout is a pipe), so everything \
                         downstream waits. Cures: {}",
                        h.name,
                        h.read_since_write,
                        h.quiet.as_secs_f64(),
                        CURES.join("; ")
                    ),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PipeKind;
    use crate::flow::{DirFlow, EndFlow};

    fn end(pid: Pid, handle: u64, ino: u64, read: (u64, u64), write: (u64, u64)) -> EndFlow {
        EndFlow {
            pid,
            handle,
            pipe: ObjectId::Inode { dev: 0, ino },
            kind: PipeKind::Anonymous,
            comm: "filter".into(),
            read: DirFlow {
                bytes: read.0,
                calls: read.1,
                ..DirFlow::default()
            },
            write: DirFlow {
                bytes: write.0,
                calls: write.1,
                ..DirFlow::default()
            },
        }
    }

    /// One interval of a stage reading `read` bytes from pipe 1 and writing `write`
    /// (bytes, calls) to pipe 2.
    fn interval(read: u64, write: (u64, u64)) -> FlowReading {
        let mut ends = vec![end(7, 0, 1, (read, u64::from(read > 0)), (0, 0))];
        if write.1 > 0 {
            ends.push(end(7, 1, 2, (0, 0), write));
        }
        FlowReading {
            at: Duration::ZERO,
            ends,
            dropped: 0,
        }
    }

    const TICK: Duration = Duration::from_millis(250);

    fn run(intervals: &[(u64, (u64, u64))]) -> Vec<Buffering> {
        let mut w = BufferingWatch::new();
        let mut last = Vec::new();
        for (read, write) in intervals {
            last = w.add(&interval(*read, *write), TICK);
        }
        last
    }

    #[test]
    fn a_filter_writing_4k_bursts_then_reading_quietly_is_buffering() {
        let mut steps = vec![(10_000, (8192, 2))];
        steps.extend([(5_000, (0, 0)); 5]);
        let found = run(&steps);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!((f.pid, f.burst, f.read_since_write), (7, 4096, 25_000));
        assert_eq!(f.quiet, TICK * 5);
        assert!(f.message.contains("stdbuf -oL"), "{}", f.message);
    }

    #[test]
    fn less_than_the_quiet_time_is_not_yet_a_finding() {
        let found = run(&[(10_000, (4096, 1)), (5_000, (0, 0)), (5_000, (0, 0))]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_consume_all_stage_that_never_wrote_is_not_buffering() {
        // sort: reads for a long time, writes nothing until its input ends.
        let found = run(&[(64_000, (0, 0)); 20]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_consume_all_stage_writing_after_eof_is_not_buffering() {
        // sort after EOF: writes 4 KiB blocks without reading any more.
        let mut steps = vec![(64_000, (0, 0)); 8];
        steps.extend([(0, (40_960, 10)); 8]);
        assert!(run(&steps).is_empty());
    }

    #[test]
    fn a_line_buffered_filter_is_not_buffering() {
        // Writes lines of 37 bytes: never a whole buffer.
        let mut steps = vec![(1_000, (370, 10))];
        steps.extend([(5_000, (0, 0)); 8]);
        assert!(run(&steps).is_empty());
    }

    #[test]
    fn intervals_without_any_call_count_as_holding() {
        // tail -f | grep: a line now and then, nothing in between.
        let mut w = BufferingWatch::new();
        w.add(&interval(10_000, (4096, 1)), TICK);
        w.add(&interval(40, (0, 0)), TICK);
        let idle = FlowReading::default();
        let mut found = Vec::new();
        for _ in 0..4 {
            found = w.add(&idle, TICK);
        }
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].quiet, found[0].read_since_write), (TICK * 5, 40));
    }

    #[test]
    fn a_filter_that_writes_again_clears_the_finding() {
        let mut steps = vec![(10_000, (4096, 1))];
        steps.extend([(5_000, (0, 0)); 6]);
        steps.push((5_000, (4096, 1)));
        assert!(run(&steps).is_empty());
    }
}
