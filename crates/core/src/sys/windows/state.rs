//! Windows: no live process state yet: every process is [`Activity::Unknown`] and
//! no pipe's fill is measured, so the wait-for graph draws no conclusion.

use crate::activity::{IoCounters, PipeFill, ProcessState};
use crate::model::{HandleRef, Pid};
use crate::sample::FillMissing;

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

pub(crate) fn partial_view() -> bool {
    false
}
