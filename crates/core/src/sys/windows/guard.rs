//! The hang guard: runs calls that may block forever — a name query on a synchronous file
//! whose handle has a read pending, some device objects — on a worker thread, and waits
//! for at most a timeout (one second, as System Informer). A worker that does not answer
//! in time is abandoned with its call (it may never return, and nothing can safely stop
//! it) and the next call starts a fresh worker, so one stuck handle never stalls a scan.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

/// Runs calls on a worker thread with a timeout.
#[derive(Debug)]
pub(crate) struct HangGuard {
    timeout: Duration,
    worker: Option<Sender<Job>>,
    /// Workers given up on, each still stuck in its call.
    pub(crate) abandoned: usize,
}

/// How long a name query may take before its handle's name is reported unavailable.
pub(crate) const NAME_QUERY_TIMEOUT: Duration = Duration::from_secs(1);

impl HangGuard {
    pub(crate) fn new(timeout: Duration) -> Self {
        HangGuard {
            timeout,
            worker: None,
            abandoned: 0,
        }
    }

    fn spawn_worker() -> Option<Sender<Job>> {
        let (tx, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("pipescope-query".into())
            .stack_size(256 << 10)
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .ok()?;
        Some(tx)
    }

    /// Runs `call` on the worker; `None` when it did not finish within the timeout (or no
    /// worker thread could be started).
    pub(crate) fn run<T: Send + 'static>(
        &mut self,
        call: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let mut job: Job = Box::new(move || {
            // The receiver is gone when we gave up on this call: nothing to do then.
            let _ = tx.send(call());
        });
        // A worker that died (a panicking call) refuses the job: start another once.
        for _ in 0..2 {
            let worker = match &self.worker {
                Some(w) => w,
                None => self.worker.insert(Self::spawn_worker()?),
            };
            match worker.send(job) {
                Ok(()) => break,
                Err(mpsc::SendError(back)) => {
                    job = back;
                    self.worker = None;
                }
            }
        }
        match rx.recv_timeout(self.timeout) {
            Ok(value) => Some(value),
            Err(RecvTimeoutError::Timeout) => {
                // Dropping the sender lets the worker end if its call ever returns.
                self.worker = None;
                self.abandoned += 1;
                None
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.worker = None;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn answers_within_the_timeout_are_returned() {
        let mut g = HangGuard::new(Duration::from_secs(5));
        assert_eq!(g.run(|| 6 * 7), Some(42));
        assert_eq!(g.run(|| "again"), Some("again"));
        assert_eq!(g.abandoned, 0);
    }

    #[test]
    fn a_stuck_call_is_abandoned_and_the_next_one_runs() {
        let mut g = HangGuard::new(Duration::from_millis(200));
        let (_keep, never) = mpsc::channel::<()>();
        let t = Instant::now();
        // Blocks until `_keep` is dropped, i.e. past the timeout.
        assert_eq!(g.run(move || never.recv().is_ok()), None);
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(g.abandoned, 1);
        assert_eq!(g.run(|| 1), Some(1));
    }

    #[test]
    fn a_panicking_call_does_not_poison_the_guard() {
        let mut g = HangGuard::new(Duration::from_secs(5));
        assert_eq!(g.run(|| -> u8 { panic!("boom") }), None);
        assert_eq!(g.run(|| 2), Some(2));
    }
}
