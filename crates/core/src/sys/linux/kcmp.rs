//! Which pipe ends share one open file description. Ends made from one `open`/`pipe` by
//! `dup` or `fork` are the same kernel `struct file`; kcmp(2) with `KCMP_FILE` tells,
//! where the caller may inspect both processes (ptrace read access, as for /proc/PID/fd).
//! Only ends of one pipe with the same mode can share a description, so each such group
//! is split into classes by comparing every end with one member of each class so far.
#![allow(unsafe_code)]

use std::collections::HashMap;

use crate::model::{HandleDetails, HandleRef, Mode, ObjectId, Pid, Snapshot};

/// `KCMP_FILE` of `<linux/kcmp.h>`.
const KCMP_FILE: libc::c_int = 0;

/// Groups larger than this are left unmarked (the classes cost one call per class).
const MAX_GROUP: usize = 512;

/// Whether `fd1` of `pid1` and `fd2` of `pid2` are one open file description; the errno
/// when the kernel will not say (no kcmp, no permission, a process or fd gone).
fn same_file(pid1: Pid, fd1: u64, pid2: Pid, fd2: u64) -> Result<bool, i32> {
    // SAFETY: kcmp takes five integer arguments and touches no memory of ours.
    let r = unsafe {
        libc::syscall(
            libc::SYS_kcmp,
            pid1 as libc::pid_t,
            pid2 as libc::pid_t,
            KCMP_FILE,
            fd1 as libc::c_ulong,
            fd2 as libc::c_ulong,
        )
    };
    match r {
        0 => Ok(true),
        1..=3 => Ok(false),
        _ => Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)),
    }
}

/// Fills [`HandleDetails::shared_with`] of every pipe end that shares its open file
/// description with another pipe end in the snapshot.
pub(super) fn mark_shared(snap: &mut Snapshot) {
    // (object, mode) → [(process index, handle index)]
    let mut groups: HashMap<(ObjectId, Mode), Vec<(usize, usize)>> = HashMap::new();
    for (pi, p) in snap.processes.iter().enumerate() {
        for (hi, h) in p.handles.iter().enumerate() {
            if let (Some(_), Some(obj)) = (h.pipe, &h.object) {
                groups
                    .entry((obj.clone(), h.mode))
                    .or_default()
                    .push((pi, hi));
            }
        }
    }
    let mut unavailable = false;
    let mut updates: Vec<(usize, usize, Vec<HandleRef>)> = Vec::new();
    for members in groups.values() {
        if members.len() < 2 || members.len() > MAX_GROUP || unavailable {
            continue;
        }
        let at = |&(pi, hi): &(usize, usize)| {
            (
                snap.processes[pi].pid,
                snap.processes[pi].handles[hi].handle,
            )
        };
        let mut classes: Vec<Vec<(usize, usize)>> = Vec::new();
        for m in members {
            let (pid, fd) = at(m);
            let mut placed = false;
            for class in &mut classes {
                let (cpid, cfd) = at(&class[0]);
                match same_file(pid, fd, cpid, cfd) {
                    Ok(true) => {
                        class.push(*m);
                        placed = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(libc::ENOSYS) => unavailable = true,
                    Err(_) => {}
                }
            }
            if !placed {
                classes.push(vec![*m]);
            }
        }
        for class in classes.into_iter().filter(|c| c.len() > 1) {
            let refs: Vec<HandleRef> = class
                .iter()
                .map(|m| {
                    let (pid, handle) = at(m);
                    HandleRef { pid, handle }
                })
                .collect();
            for &(pi, hi) in &class {
                let me = at(&(pi, hi));
                let others = refs
                    .iter()
                    .copied()
                    .filter(|r| (r.pid, r.handle) != me)
                    .collect();
                updates.push((pi, hi, others));
            }
        }
    }
    for (pi, hi, others) in updates {
        let h = &mut snap.processes[pi].handles[hi];
        h.details
            .get_or_insert_with(|| Box::new(HandleDetails::default()))
            .shared_with = others;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn dup_shares_and_a_new_pipe_does_not() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let w2 = rustix::io::dup(&w).unwrap();
        let me = std::process::id();
        let fd = |f: &std::os::fd::OwnedFd| f.as_raw_fd() as u64;
        assert_eq!(same_file(me, fd(&w), me, fd(&w2)), Ok(true));
        assert_eq!(same_file(me, fd(&w), me, fd(&r)), Ok(false));
        assert!(same_file(me, fd(&w), me, 1_000_000).is_err());
    }
}
