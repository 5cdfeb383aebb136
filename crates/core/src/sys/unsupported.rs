//! Systems without a backend: every call says so.

use crate::Pid;
use crate::activity::{IoCounters, PipeFill, ProcessState};
use crate::model::HandleRef;
use crate::sample::FillMissing;
#[cfg(not(windows))]
use crate::sample::{Backend, Discovery, Pipe, PipeSample, Pipeline, Stage, StageSample, Target};
#[cfg(not(windows))]
use crate::{Error, Result};

/// Scanning handles, where no backend does it.
#[cfg(not(windows))]
pub(crate) fn scan(_opts: &crate::ScanOptions) -> Result<crate::Snapshot> {
    Err(Error::Unsupported("scanning handles"))
}

/// A sampling backend that cannot be made: [`Backend::new`] says sampling is not
/// supported here, so no other method is ever called. (Windows has a backend.)
#[cfg(not(windows))]
#[derive(Debug)]
pub(crate) enum Sampler {}

#[cfg(not(windows))]
impl Backend for Sampler {
    fn new() -> Result<Self> {
        Err(Error::Unsupported("live pipeline sampling"))
    }

    fn discover(&mut self, _target: &Target) -> Result<Discovery> {
        match *self {}
    }

    fn track(&mut self, _pipeline: &Pipeline) {
        match *self {}
    }

    fn stage(&mut self, _stage: &Stage, _pid: Pid) -> StageSample {
        match *self {}
    }

    fn pipe(&mut self, _pipe: &Pipe) -> PipeSample {
        match *self {}
    }

    fn exited(&self, _pid: Pid) -> bool {
        match *self {}
    }
}

/// No live process state here yet: every process is unknown and no pipe's fill is
/// measured, so the wait-for graph draws no conclusion.
#[derive(Debug, Default)]
pub(crate) struct Prober;

impl Prober {
    pub(crate) fn new() -> Self {
        Prober
    }

    pub(crate) fn process(&mut self, _pid: Pid) -> Option<ProcessState> {
        Some(ProcessState::unknown())
    }

    pub(crate) fn io(&mut self, _pid: Pid) -> Option<IoCounters> {
        None
    }

    pub(crate) fn fill(&mut self, _end: HandleRef, _ino: u64) -> PipeFill {
        PipeFill {
            fill: Err(FillMissing::Failed(
                "not measured on this system".to_string(),
            )),
            capacity: None,
        }
    }
}

/// Whether the scan cannot see the whole machine: not known here, so no.
pub(crate) fn partial_view() -> bool {
    false
}
