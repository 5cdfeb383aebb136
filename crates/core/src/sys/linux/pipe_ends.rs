//! Which ends of a pipe share one open file description, for a pipes-only scan (a long
//! scan has fdinfo to narrow the candidates and uses `shared`). Ends made from one
//! `pipe`/`open` by `dup` or `fork` are one kernel `struct file`; kcmp(2) tells. Only
//! ends of one pipe with the same mode can share a description, so each such group is
//! split into classes by comparing every end with one member of each class so far.

use super::shared::same_file;
use crate::model::{HandleDetails, HandleRef, Mode, ObjectId, Snapshot};

/// Groups larger than this are left unmarked (each end costs one call per class).
const MAX_GROUP: usize = 512;

/// A handle by its place in the snapshot: (process index, handle index).
type Slot = (usize, usize);

/// Fills [`HandleDetails::shared_with`] of every pipe end that shares its open file
/// description with another pipe end in the snapshot.
pub(super) fn find_shared(snap: &mut Snapshot) {
    // Pipe ends sorted by (pipe, mode): each run of equal keys is one group. A sorted
    // list costs far less memory than a map of lists on a machine of many pipes.
    let mut slots: Vec<(&ObjectId, Mode, Slot)> = Vec::new();
    for (pi, p) in snap.processes.iter().enumerate() {
        for (hi, h) in p.handles.iter().enumerate() {
            if let (Some(_), Some(obj)) = (h.pipe, &h.object) {
                slots.push((obj, h.mode, (pi, hi)));
            }
        }
    }
    slots.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let at = |&(pi, hi): &Slot| {
        let p = &snap.processes[pi];
        (p.pid, p.handles[hi].handle)
    };
    let mut updates: Vec<(Slot, Vec<HandleRef>)> = Vec::new();
    for run in slots.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        if run.len() < 2 || run.len() > MAX_GROUP {
            continue;
        }
        let mut classes: Vec<Vec<Slot>> = Vec::new();
        for &(_, _, m) in run {
            let (pid, fd) = at(&m);
            let found = classes.iter().position(|c| {
                let (cpid, cfd) = at(&c[0]);
                same_file(cpid, cfd, pid, fd) == Some(true)
            });
            match found {
                Some(c) => classes[c].push(m),
                None => classes.push(vec![m]),
            }
        }
        for class in classes.into_iter().filter(|c| c.len() > 1) {
            for m in &class {
                let others = class
                    .iter()
                    .filter(|o| *o != m)
                    .map(|o| {
                        let (pid, handle) = at(o);
                        HandleRef { pid, handle }
                    })
                    .collect();
                updates.push((*m, others));
            }
        }
    }
    drop(slots);
    for ((pi, hi), others) in updates {
        snap.processes[pi].handles[hi]
            .details
            .get_or_insert_with(|| Box::new(HandleDetails::default()))
            .shared_with = others;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Handle, Name, ObjectType, PipeKind, Process};
    use std::os::fd::{AsRawFd, OwnedFd};

    fn end(fd: &OwnedFd, ino: u64, mode: Mode) -> Handle {
        Handle {
            handle: fd.as_raw_fd() as u64,
            object_type: ObjectType::new("pipe"),
            mode,
            name: Name::from("pipe:[1]"),
            object: Some(ObjectId::Inode { dev: 0, ino }),
            pipe: Some(PipeKind::Anonymous),
            flags: None,
            access: None,
            details: None,
        }
    }

    #[test]
    fn a_dup_shares_and_a_second_pipe_does_not() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let w2 = rustix::io::dup(&w).unwrap();
        let (_r3, w3) = rustix::pipe::pipe().unwrap();
        let ino = rustix::fs::fstat(&w).unwrap().st_ino;
        let mut snap = Snapshot {
            processes: vec![Process {
                pid: std::process::id(),
                ppid: None,
                name: "test".into(),
                name_bytes: None,
                user: None,
                uid: None,
                start_time_ms: None,
                // w3 is posed as an end of the same pipe: kcmp must tell them apart.
                handles: vec![
                    end(&r, ino, Mode::Read),
                    end(&w, ino, Mode::Write),
                    end(&w2, ino, Mode::Write),
                    end(&w3, ino, Mode::Write),
                ],
            }],
            ..Snapshot::default()
        };
        find_shared(&mut snap);
        let h = &snap.processes[0].handles;
        let shared = |i: usize| -> Vec<u64> {
            h[i].details
                .as_ref()
                .map(|d| d.shared_with.iter().map(|r| r.handle).collect())
                .unwrap_or_default()
        };
        assert_eq!(shared(1), vec![w2.as_raw_fd() as u64]);
        assert_eq!(shared(2), vec![w.as_raw_fd() as u64]);
        assert!(shared(0).is_empty());
        assert!(shared(3).is_empty());
    }
}
