//! The Windows scan: one snapshot of the system handle table, the kernel's object types,
//! the process list from Toolhelp; then, per selected process, each handle is duplicated
//! into pipescope to read its object's name (through the hang guard for `File` objects),
//! and, with `long`, its ObjectBasicInformation.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, OwnedHandle};

use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER};
use windows_sys::Win32::System::Threading::{
    PROCESS_DUP_HANDLE, PROCESS_QUERY_LIMITED_INFORMATION,
};

use super::ffi;
use super::guard::{HangGuard, NAME_QUERY_TIMEOUT};
use crate::error::kind_of;
use crate::model::{
    Handle, HandleDetails, Mode, Name, ObjectId, ObjectType, Pid, PipeKind, Process,
    ProcessSelector, ScanError, ScanOptions, Snapshot,
};
use crate::parse_windows::{self as parse, HandleEntry, PipeLocalInfo};
use crate::{Error, ErrorKind, Result};

/// What the guarded queries of one `File` handle found.
#[derive(Debug, Default)]
pub(crate) struct FileFacts {
    /// The object's name; `None` when the query failed.
    pub(crate) name: Option<String>,
    /// FilePipeLocalInformation, for pipe ends.
    pub(crate) pipe: Option<PipeLocalInfo>,
    /// FileInternalInformation of an unnamed pipe end (see [`ends_pair_by_index`]).
    pub(crate) index: Option<u64>,
}

/// Whether this system gives both ends of a pipe one FileInternalInformation index, so
/// unnamed pipe ends can be paired by it. Old NPFS answered with its per-instance block,
/// which both ends share; ReactOS answers 0 and Wine 8 not at all. Decided once, on a
/// pipe of our own: two ends must agree on a non-zero index that a second pipe does not
/// share.
pub(crate) fn ends_pair_by_index() -> bool {
    static PAIRS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PAIRS.get_or_init(|| {
        let index_of = || -> Option<u64> {
            let (r, w) = ffi::create_pipe(false).ok()?;
            let a = ffi::internal_index(r.as_handle()).ok()?;
            let b = ffi::internal_index(w.as_handle()).ok()?;
            (a == b && a != 0).then_some(a)
        };
        // Both pipes stay open together, so their indexes cannot be reused.
        let (r1, w1) = match ffi::create_pipe(false) {
            Ok(p) => p,
            Err(_) => return false,
        };
        let first = ffi::internal_index(r1.as_handle()).ok();
        let first_w = ffi::internal_index(w1.as_handle()).ok();
        let second = index_of();
        matches!((first, first_w, second), (Some(a), Some(b), Some(c)) if a == b && a != 0 && c != a)
    })
}

/// Queries a `File` handle's name and, when it may be a pipe, its pipe information. Both
/// calls can block forever on a synchronous file with I/O pending: run it guarded.
pub(crate) fn file_facts(dup: &OwnedHandle) -> FileFacts {
    let name = ffi::object_name(dup.as_handle()).ok();
    let maybe_pipe = match &name {
        Some(n) => n.is_empty() || n.starts_with(parse::NAMED_PIPE_DEVICE),
        None => true,
    };
    let pipe = if maybe_pipe {
        ffi::pipe_local(dup.as_handle()).ok()
    } else {
        None
    };
    let unnamed = name
        .as_deref()
        .is_none_or(|n| n.is_empty() || n == parse::NAMED_PIPE_DEVICE);
    let index = if pipe.is_some() && unnamed && ends_pair_by_index() {
        ffi::internal_index(dup.as_handle())
            .ok()
            .filter(|&i| i != 0)
    } else {
        None
    };
    FileFacts { name, pipe, index }
}

/// The guarded query run on each `File` handle.
pub(crate) type FileQuery = fn(&OwnedHandle) -> FileFacts;

/// The state shared by one scan.
pub(crate) struct Scanner<'a> {
    opts: &'a ScanOptions,
    types: HashMap<u16, String>,
    guard: HangGuard,
    query: FileQuery,
    /// FilePipeLocalInformation of every pipe end described, by pid and handle.
    pub(crate) pipe_infos: PipeInfos,
}

/// FilePipeLocalInformation of pipe ends, by pid and handle.
pub(crate) type PipeInfos = HashMap<(Pid, u64), PipeLocalInfo>;

impl<'a> Scanner<'a> {
    /// `calibration` is a handle table row known to be a `Process` handle, when there is
    /// one: it tells how the table's type indexes line up with the type list's.
    pub(crate) fn new(opts: &'a ScanOptions, calibration: Option<&HandleEntry>) -> Self {
        // Without the type list every handle still shows, as "Type#N".
        let list = ffi::object_types().unwrap_or_default();
        // Windows numbers both the same way; Wine 8's table counts from 0 where its type
        // list counts from 2. A handle of known type settles it on any system.
        let shift = calibration
            .and_then(|row| {
                let listed = list.iter().find(|t| t.name == "Process")?.index;
                Some(i32::from(listed) - i32::from(row.type_index))
            })
            .unwrap_or(0);
        let types = list
            .into_iter()
            .filter_map(|t| Some((u16::try_from(i32::from(t.index) - shift).ok()?, t.name)))
            .collect();
        Scanner {
            opts,
            types,
            guard: HangGuard::new(NAME_QUERY_TIMEOUT),
            query: file_facts,
            pipe_infos: HashMap::new(),
        }
    }

    fn type_name(&self, index: u16) -> ObjectType {
        match self.types.get(&index) {
            Some(name) => ObjectType(name.clone().into()),
            None => ObjectType(format!("Type#{index}").into()),
        }
    }

    /// Describes one handle table row; `owner` is the holding process opened with
    /// PROCESS_DUP_HANDLE, when it could be.
    pub(crate) fn describe(
        &mut self,
        e: &HandleEntry,
        owner: Option<BorrowedHandle<'_>>,
    ) -> Option<Handle> {
        let mut object_type = self.type_name(e.type_index);
        let doubtful = object_type.as_str() == "Type" || object_type.as_str().starts_with("Type#");
        if self.opts.pipes_only && !doubtful && object_type.as_str() != "File" {
            return None; // before duplicating anything
        }
        let dup = owner.and_then(|o| ffi::duplicate(o, e.handle).ok());
        if doubtful {
            // Handles to type objects are rare; Wine also files objects of types it does
            // not list under index 0. Ask the handle itself.
            if let Some(name) = dup
                .as_ref()
                .and_then(|d| ffi::object_type_name(d.as_handle()).ok())
            {
                if !name.is_empty() {
                    object_type = ObjectType(name.into());
                }
            }
        }
        let is_file = object_type.as_str() == "File";
        if self.opts.pipes_only && !is_file {
            return None;
        }
        let mut h = Handle {
            handle: e.handle,
            mode: if is_file {
                parse::file_mode(e.access)
            } else {
                Mode::None
            },
            object_type,
            name: Name::default(),
            object: (e.object != 0).then_some(ObjectId::Address(e.object)),
            pipe: None,
            flags: None,
            access: Some(e.access),
            details: None,
        };
        let mut details = HandleDetails {
            object_address: (e.object != 0).then_some(e.object),
            attributes: parse::attribute_names(e.attributes),
            ..HandleDetails::default()
        };
        let mut pipe_info = None;
        let mut pipe_index = None;
        let mut name_unavailable = None;
        if let Some(dup) = dup {
            if self.opts.long {
                if let Ok(b) = ffi::object_basic(dup.as_handle()) {
                    // Not counting the duplicate pipescope holds to ask.
                    details.handle_count = Some(b.handle_count.saturating_sub(1));
                    details.pointer_count = Some(b.pointer_count.saturating_sub(1));
                    details.paged_quota = Some(b.paged_quota);
                    details.nonpaged_quota = Some(b.nonpaged_quota);
                }
            }
            if is_file {
                // The duplicate goes with the call: if the call never returns, neither
                // does the handle (closing it could block as well).
                let query = self.query;
                match self.guard.run(move || query(&dup)) {
                    Some(f) => {
                        h.name = Name(f.name.unwrap_or_default().into_bytes());
                        pipe_info = f.pipe;
                        pipe_index = f.index;
                    }
                    None => {
                        name_unavailable = Some(format!(
                            "name query did not answer within {} s",
                            NAME_QUERY_TIMEOUT.as_secs()
                        ))
                    }
                }
            } else if let Ok(name) = ffi::object_name(dup.as_handle()) {
                h.name = Name(name.into_bytes());
            }
        }
        if is_file {
            let name = h.name.to_string_lossy();
            let by_name = parse::pipe_kind_from_name(&name);
            // A pipe without a name of its own (Windows 10 and later make anonymous pipes
            // so; their name is empty or the bare device) still answers as a pipe.
            h.pipe = by_name.or_else(|| pipe_info.is_some().then_some(PipeKind::Anonymous));
            if h.pipe.is_some() {
                // Both ends of a pipe share its name (Wine, named pipes); each end is its
                // own file object, so an address would not pair them. Unnamed ends pair
                // by their shared index where the system proves it gives one, else not.
                h.object = match by_name {
                    Some(_) => Some(ObjectId::Name(name.into_owned())),
                    None => pipe_index.map(ObjectId::Address),
                };
            }
        }
        if self.opts.pipes_only && h.pipe.is_none() && name_unavailable.is_none() {
            return None;
        }
        if let Some(p) = &pipe_info {
            details.extra.extend(pipe_lines(p));
            self.pipe_infos.insert((e.pid, e.handle), *p);
        }
        if let Some(why) = name_unavailable {
            details.name_unavailable = Some(why);
            h.details = Some(Box::new(details));
        } else if self.opts.long {
            h.details = Some(Box::new(details));
        }
        Some(h)
    }
}

/// FilePipeLocalInformation as the `extra` lines of the Handle Properties.
pub(crate) fn pipe_lines(p: &PipeLocalInfo) -> Vec<(String, String)> {
    let mut v = vec![
        ("pipe-end".to_owned(), p.end.as_str().to_owned()),
        ("pipe-state".to_owned(), p.state_str().to_owned()),
        ("in-quota".to_owned(), p.inbound_quota.to_string()),
        ("out-quota".to_owned(), p.outbound_quota.to_string()),
        (
            "read-available".to_owned(),
            p.read_data_available.to_string(),
        ),
        (
            "write-quota-available".to_owned(),
            p.write_quota_available.to_string(),
        ),
    ];
    if p.message_type {
        v.push(("pipe-type".to_owned(), "message".to_owned()));
    }
    v
}

fn selected(sel: &[ProcessSelector], pid: Pid, name: &str) -> bool {
    sel.is_empty() || sel.iter().any(|s| s.matches(pid, name.as_bytes()))
}

fn message(e: &io::Error) -> String {
    match kind_of(e) {
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

pub(crate) fn scan(opts: &ScanOptions) -> Result<Snapshot> {
    enable_debug_once();
    scan_with(opts, file_facts)
}

/// Enables SeDebugPrivilege once per process, where the token holds it.
pub(crate) fn enable_debug_once() {
    // Only an elevated administrator holds it; for anyone else this changes nothing.
    static DEBUG: std::sync::Once = std::sync::Once::new();
    DEBUG.call_once(|| {
        ffi::enable_debug_privilege();
    });
}

/// Reads the system handle table, and a scanner whose type names line up with it.
pub(crate) fn read_table(opts: &ScanOptions) -> Result<(Vec<HandleEntry>, Scanner<'_>)> {
    let me = ffi::current_pid();
    // A handle of known type (Process) in the table, to line type indexes up by.
    let probe = ffi::open_process(me, PROCESS_QUERY_LIMITED_INFORMATION).ok();
    let table = ffi::system_handles()
        .map_err(|e| Error::io("reading the system handle table", None, None, e))?;
    let calibration = probe.as_ref().and_then(|p| {
        let value = p.as_raw_handle() as u64;
        table
            .iter()
            .find(|e| e.pid == me && e.handle == value)
            .copied()
    });
    let scanner = Scanner::new(opts, calibration.as_ref());
    // The probe was pipescope's own, for this scan only: it is not worth listing.
    let table = match calibration {
        Some(c) => table.into_iter().filter(|e| *e != c).collect(),
        None => table,
    };
    Ok((table, scanner))
}

/// [`scan`] with the guarded query for `File` handles given (tests give one that blocks).
pub(crate) fn scan_with(opts: &ScanOptions, query: FileQuery) -> Result<Snapshot> {
    scan_recording(opts, query).map(|(snap, _)| snap)
}

/// [`scan_with`], also returning FilePipeLocalInformation of every pipe end described,
/// by pid and handle.
pub(crate) fn scan_recording(
    opts: &ScanOptions,
    query: FileQuery,
) -> Result<(Snapshot, PipeInfos)> {
    // Decided before the handle table is read, so its probe pipes are closed by then.
    ends_pair_by_index();
    let (table, mut scanner) = read_table(opts)?;
    scanner.query = query;
    let me = ffi::current_pid();
    let procs = ffi::processes().map_err(|e| Error::io("listing processes", None, None, e))?;
    let mut by_pid: BTreeMap<Pid, Vec<HandleEntry>> = BTreeMap::new();
    for e in table {
        by_pid.entry(e.pid).or_default().push(e);
    }
    let mut snap = Snapshot::default();
    let mut seen = Vec::new();
    let mut procs = procs;
    procs.sort_by_key(|p| p.pid);
    for p in procs {
        if !selected(&opts.processes, p.pid, &p.name) {
            continue;
        }
        seen.push(p.pid);
        let opened: std::result::Result<Option<OwnedHandle>, ()> = if p.pid == me {
            Ok(None)
        } else if p.pid == 0 {
            Err(()) // the idle process: no handles, and no process to open
        } else {
            let access = PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION;
            match ffi::open_process(p.pid, access) {
                Ok(h) => Ok(Some(h)),
                Err(e) if e.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) => {
                    snap.vanished += 1; // it exited after the process list was taken
                    continue;
                }
                Err(e) => {
                    let kind = if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) {
                        ErrorKind::PermissionDenied
                    } else {
                        kind_of(&e)
                    };
                    // Its handles still show, from the table, without names.
                    snap.errors.push(ScanError {
                        pid: p.pid,
                        process: Some(p.name.clone()),
                        kind,
                        message: format!("handle names unavailable: {}", message(&e)),
                    });
                    Err(())
                }
            }
        };
        let owner: Option<BorrowedHandle<'_>> = match &opened {
            Ok(None) => Some(ffi::current_process()),
            Ok(Some(h)) => Some(h.as_handle()),
            Err(()) => None,
        };
        let start_time_ms = owner.and_then(|o| ffi::process_start_ms(o).ok());
        let user = owner.and_then(|o| ffi::process_user(o).ok());
        let mut handles = Vec::new();
        for e in by_pid.get(&p.pid).map(Vec::as_slice).unwrap_or(&[]) {
            handles.extend(scanner.describe(e, owner));
        }
        handles.sort_by_key(|h| h.handle);
        snap.processes.push(Process {
            pid: p.pid,
            ppid: (p.pid != 0).then_some(p.ppid),
            name: p.name,
            name_bytes: None,
            user,
            uid: None,
            start_time_ms,
            handles,
        });
    }
    // A process asked for by id that does not exist is worth saying.
    for s in &opts.processes {
        if let ProcessSelector::Pid(pid) = s {
            if !seen.contains(pid) {
                snap.errors.push(ScanError {
                    pid: *pid,
                    process: None,
                    kind: ErrorKind::Gone,
                    message: "no such process".into(),
                });
            }
        }
    }
    Ok((snap, scanner.pipe_infos))
}
