//! Which handles share an open file description: kcmp(2) with `KCMP_FILE`, the only
//! proof the kernel offers (fdinfo shows no id of the description). Needs ptrace read
//! access to both processes; where it is refused, nothing is claimed.
//!
//! Handles are gathered as a scan passes ([`Candidates::add`], a few bytes each, so a
//! streaming scan stays small) and compared once it has ended ([`Candidates::classes`]).
#![allow(unsafe_code)]

use std::collections::HashMap;

use crate::model::{HandleRef, ObjectId, Pid, Process, Snapshot};

/// `KCMP_FILE` of `enum kcmp_type` in `<linux/kcmp.h>`.
const KCMP_FILE: libc::c_int = 0;

/// `O_CLOEXEC`, which fdinfo's `flags:` shows for a close-on-exec fd.
const O_CLOEXEC: u32 = 0o2000000;

/// Distinct descriptions one object may have before the search gives up on it: a file
/// opened separately by every process (`/dev/null`) would cost a call per pair.
const MAX_CLASSES: usize = 8;

/// Whether fd `a` of `pa` and fd `b` of `pb` are the same open file description.
/// `None` when the kernel will not say (permission, a process or fd gone).
pub(super) fn same_file(pa: Pid, a: u64, pb: Pid, b: u64) -> Option<bool> {
    // SAFETY: kcmp takes five integers and touches no memory of ours; every argument is
    // passed by value with the width the syscall expects.
    let r = unsafe {
        libc::syscall(
            libc::SYS_kcmp,
            pa as libc::pid_t,
            pb as libc::pid_t,
            KCMP_FILE,
            a as libc::c_ulong,
            b as libc::c_ulong,
        )
    };
    match r {
        0 => Some(true),
        1..=3 => Some(false),
        _ => None,
    }
}

/// What handles on one description have in common: object, flags (less `O_CLOEXEC`,
/// which belongs to the fd), position.
type Key = (ObjectId, Option<u32>, Option<u64>);

/// Handles that might share a description with another, grouped by [`Key`].
#[derive(Debug, Default)]
pub(crate) struct Candidates {
    groups: HashMap<Key, Vec<HandleRef>>,
}

impl Candidates {
    /// Notes every handle of `p` that has details (a `long` scan).
    pub(crate) fn add(&mut self, p: &Process) {
        for h in &p.handles {
            if let (Some(obj), Some(d)) = (&h.object, &h.details) {
                let key = (obj.clone(), h.flags.map(|f| f & !O_CLOEXEC), d.pos);
                self.groups.entry(key).or_default().push(HandleRef {
                    pid: p.pid,
                    handle: h.handle,
                });
            }
        }
    }

    /// The open file descriptions held by more than one handle, each as its handles.
    pub(crate) fn classes(self) -> Vec<Vec<HandleRef>> {
        let mut found = Vec::new();
        for members in self.groups.into_values().filter(|m| m.len() > 1) {
            // Each class is one description; its first member represents it.
            let mut classes: Vec<Vec<HandleRef>> = Vec::new();
            let mut gave_up = false;
            for r in members {
                let class = classes
                    .iter()
                    .position(|c| same_file(c[0].pid, c[0].handle, r.pid, r.handle) == Some(true));
                match class {
                    Some(c) => classes[c].push(r),
                    None if classes.len() < MAX_CLASSES => classes.push(vec![r]),
                    None => {
                        gave_up = true;
                        break;
                    }
                }
            }
            if !gave_up {
                found.extend(classes.into_iter().filter(|c| c.len() > 1));
            }
        }
        found.sort();
        found
    }
}

/// Fills `details.shared_with` of every handle (that has details) whose open file
/// description another listed handle shares.
pub(crate) fn find_shared(snap: &mut Snapshot) {
    let mut candidates = Candidates::default();
    for p in &snap.processes {
        candidates.add(p);
    }
    let classes = candidates.classes();
    if classes.is_empty() {
        return;
    }
    let mut place: HashMap<HandleRef, (usize, usize)> = HashMap::new();
    for (pi, p) in snap.processes.iter().enumerate() {
        for (hi, h) in p.handles.iter().enumerate() {
            place.insert(
                HandleRef {
                    pid: p.pid,
                    handle: h.handle,
                },
                (pi, hi),
            );
        }
    }
    for class in classes {
        for r in &class {
            let Some(&(pi, hi)) = place.get(r) else {
                continue;
            };
            if let Some(d) = snap.processes[pi].handles[hi].details.as_mut() {
                d.shared_with = class.iter().filter(|o| *o != r).copied().collect();
            }
        }
    }
}
