//! Systems without a backend: every call says so.

use crate::sample::{Backend, Discovery, Pipe, PipeSample, Pipeline, Stage, StageSample, Target};
use crate::{Error, Pid, Result};

/// Scanning handles, where no backend does it.
#[cfg(not(windows))]
pub(crate) fn scan(_opts: &crate::ScanOptions) -> Result<crate::Snapshot> {
    Err(Error::Unsupported("scanning handles"))
}

/// A sampling backend that cannot be made: [`Backend::new`] says sampling is not
/// supported here, so no other method is ever called.
#[derive(Debug)]
pub(crate) enum Sampler {}

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
