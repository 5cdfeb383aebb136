//! Which handles share an open file description: kcmp(2) with `KCMP_FILE`, the only
//! proof the kernel offers (fdinfo shows no id of the description). Needs ptrace read
//! access to both processes; where it is refused, nothing is claimed.
#![allow(unsafe_code)]

use std::collections::HashMap;

use crate::model::{HandleRef, ObjectId, Pid, Snapshot};

/// `KCMP_FILE` of `enum kcmp_type` in `<linux/kcmp.h>`.
const KCMP_FILE: libc::c_int = 0;

/// `O_CLOEXEC`, which fdinfo's `flags:` shows for a close-on-exec fd.
const O_CLOEXEC: u32 = 0o2000000;

/// Distinct descriptions one object may have before the search gives up on it: a file
/// opened separately by every process (`/dev/null`) would cost a call per pair.
const MAX_CLASSES: usize = 8;

/// A handle by its place in the snapshot: (process index, handle index).
type Slot = (usize, usize);

/// What handles on one description have in common: object, flags, position.
type Candidate<'a> = (&'a ObjectId, Option<u32>, Option<u64>);

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

/// Fills `details.shared_with` of every handle (that has details) whose open file
/// description another listed handle shares.
pub(crate) fn find_shared(snap: &mut Snapshot) {
    // Candidates: same object, same open flags, same position. fdinfo adds O_CLOEXEC,
    // which belongs to the fd, not the description: leave it out.
    let mut groups: HashMap<Candidate<'_>, Vec<Slot>> = HashMap::new();
    for (pi, p) in snap.processes.iter().enumerate() {
        for (hi, h) in p.handles.iter().enumerate() {
            if let (Some(obj), Some(d)) = (&h.object, &h.details) {
                let flags = h.flags.map(|f| f & !O_CLOEXEC);
                groups
                    .entry((obj, flags, d.pos))
                    .or_default()
                    .push((pi, hi));
            }
        }
    }
    let mut links: Vec<Vec<Slot>> = Vec::new();
    for members in groups.into_values().filter(|m| m.len() > 1) {
        // Each class is one description: its members, the first one its representative.
        let mut classes: Vec<Vec<Slot>> = Vec::new();
        let mut gave_up = false;
        for &(pi, hi) in &members {
            let (pid, fd) = (
                snap.processes[pi].pid,
                snap.processes[pi].handles[hi].handle,
            );
            let found = classes.iter().position(|c| {
                let (rp, rh) = c[0];
                let (rpid, rfd) = (
                    snap.processes[rp].pid,
                    snap.processes[rp].handles[rh].handle,
                );
                same_file(rpid, rfd, pid, fd) == Some(true)
            });
            match found {
                Some(c) => classes[c].push((pi, hi)),
                None if classes.len() < MAX_CLASSES => classes.push(vec![(pi, hi)]),
                None => {
                    gave_up = true;
                    break;
                }
            }
        }
        if !gave_up {
            links.extend(classes.into_iter().filter(|c| c.len() > 1));
        }
    }
    for class in links {
        let refs: Vec<HandleRef> = class
            .iter()
            .map(|&(pi, hi)| HandleRef {
                pid: snap.processes[pi].pid,
                handle: snap.processes[pi].handles[hi].handle,
            })
            .collect();
        for (i, &(pi, hi)) in class.iter().enumerate() {
            if let Some(d) = snap.processes[pi].handles[hi].details.as_mut() {
                d.shared_with = refs
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, r)| *r)
                    .collect();
            }
        }
    }
}
