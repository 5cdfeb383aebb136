//! Parsers for the raw buffers the Windows native API returns: the system handle table
//! (`SYSTEM_HANDLE_INFORMATION_EX`), the object type list (`OBJECT_TYPES_INFORMATION`), an
//! object's name (`OBJECT_NAME_INFORMATION`) and basic information, and a pipe's
//! `FILE_PIPE_LOCAL_INFORMATION`.
//!
//! They take bytes and return values, with no I/O, so they build and are tested with inline
//! samples on every OS. Layouts are those of 64-bit Windows; the FFI module checks its
//! `#[repr(C)]` structs against the offsets below at compile time.
#![cfg_attr(not(windows), allow(dead_code))]

use std::fmt;

use crate::model::{Mode, PipeKind};

/// A buffer did not hold what its layout promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) &'static str);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ParseError {}

type Result<T> = std::result::Result<T, ParseError>;

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(buf.get(at..at + 8)?.try_into().ok()?))
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// UTF-16LE bytes to a `String`, unpaired surrogates replaced.
pub(crate) fn utf16_bytes(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

// --- SYSTEM_HANDLE_INFORMATION_EX ------------------------------------------------------

/// Size of the table's header: `NumberOfHandles` and `Reserved`, both `ULONG_PTR`.
pub(crate) const HANDLE_TABLE_HEADER: usize = 16;
/// Size of one `SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX`.
pub(crate) const HANDLE_ENTRY_SIZE: usize = 40;
/// Offsets inside `SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX`.
pub(crate) mod entry {
    pub(crate) const OBJECT: usize = 0;
    pub(crate) const PID: usize = 8;
    pub(crate) const HANDLE: usize = 16;
    pub(crate) const ACCESS: usize = 24;
    pub(crate) const TYPE_INDEX: usize = 30;
    pub(crate) const ATTRIBUTES: usize = 32;
}

/// One row of the system handle table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HandleEntry {
    /// Kernel address of the object; 0 when the OS hides it.
    pub(crate) object: u64,
    pub(crate) pid: u32,
    pub(crate) handle: u64,
    pub(crate) access: u32,
    pub(crate) type_index: u16,
    /// `OBJ_INHERIT` (0x2), `OBJ_PROTECT_CLOSE` (0x1), `OBJ_AUDIT_OBJECT_CLOSE` (0x4).
    pub(crate) attributes: u32,
}

/// Parses a `SYSTEM_HANDLE_INFORMATION_EX` buffer (SystemExtendedHandleInformation).
pub(crate) fn handle_table(buf: &[u8]) -> Result<Vec<HandleEntry>> {
    let count = u64_at(buf, 0).ok_or(ParseError("handle table shorter than its header"))?;
    let count = usize::try_from(count).map_err(|_| ParseError("handle count overflows"))?;
    let need = count
        .checked_mul(HANDLE_ENTRY_SIZE)
        .and_then(|n| n.checked_add(HANDLE_TABLE_HEADER))
        .ok_or(ParseError("handle count overflows"))?;
    if buf.len() < need {
        return Err(ParseError("handle table shorter than its handle count"));
    }
    let rows = buf[HANDLE_TABLE_HEADER..need].chunks_exact(HANDLE_ENTRY_SIZE);
    Ok(rows
        .map(|e| HandleEntry {
            object: u64_at(e, entry::OBJECT).unwrap_or(0),
            // Process ids fit in 32 bits (they are ULONG_PTR only for alignment).
            pid: u64_at(e, entry::PID).unwrap_or(0) as u32,
            handle: u64_at(e, entry::HANDLE).unwrap_or(0),
            access: u32_at(e, entry::ACCESS).unwrap_or(0),
            type_index: u16_at(e, entry::TYPE_INDEX).unwrap_or(0),
            attributes: u32_at(e, entry::ATTRIBUTES).unwrap_or(0),
        })
        .collect())
}

/// `OBJ_PROTECT_CLOSE`.
pub(crate) const OBJ_PROTECT_CLOSE: u32 = 0x1;
/// `OBJ_INHERIT`.
pub(crate) const OBJ_INHERIT: u32 = 0x2;
/// `OBJ_AUDIT_OBJECT_CLOSE`.
pub(crate) const OBJ_AUDIT_OBJECT_CLOSE: u32 = 0x4;

/// The names of the handle attribute bits set in `attributes`.
pub(crate) fn attribute_names(attributes: u32) -> Vec<&'static str> {
    let mut names = Vec::new();
    if attributes & OBJ_INHERIT != 0 {
        names.push("inherit");
    }
    if attributes & OBJ_PROTECT_CLOSE != 0 {
        names.push("protect-from-close");
    }
    if attributes & OBJ_AUDIT_OBJECT_CLOSE != 0 {
        names.push("audit");
    }
    names
}

// --- OBJECT_TYPES_INFORMATION ----------------------------------------------------------

/// Size of one `OBJECT_TYPE_INFORMATION` (its name follows it in the buffer).
pub(crate) const TYPE_INFO_SIZE: usize = 104;
/// Offsets inside `OBJECT_TYPE_INFORMATION`.
pub(crate) mod type_info {
    /// `TypeName.Length` (bytes).
    pub(crate) const NAME_LENGTH: usize = 0;
    /// `TypeName.MaximumLength` (bytes).
    pub(crate) const NAME_MAX: usize = 2;
    pub(crate) const OBJECTS: usize = 16;
    pub(crate) const HANDLES: usize = 20;
    pub(crate) const GENERIC_MAPPING: usize = 68;
    pub(crate) const VALID_ACCESS: usize = 84;
    pub(crate) const TYPE_INDEX: usize = 90;
}

/// One object type as the OS describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectTypeInfo {
    /// The index handle-table rows carry for this type.
    pub(crate) index: u16,
    pub(crate) name: String,
    pub(crate) objects: u32,
    pub(crate) handles: u32,
    /// GENERIC_READ, GENERIC_WRITE, GENERIC_EXECUTE, GENERIC_ALL mapped to specific rights.
    pub(crate) generic_mapping: [u32; 4],
    pub(crate) valid_access: u32,
}

/// Parses an `OBJECT_TYPES_INFORMATION` buffer (NtQueryObject ObjectTypesInformation).
///
/// Each entry's `TypeIndex` is used when the OS fills it in (Windows 8.1 and later); where
/// every entry says 0 the index is the position plus 2, as on older systems.
pub(crate) fn object_types(buf: &[u8]) -> Result<Vec<ObjectTypeInfo>> {
    let count = u32_at(buf, 0).ok_or(ParseError("type list shorter than its header"))?;
    let mut at = 8; // ALIGN_UP(sizeof(ULONG), ULONG_PTR)
    let mut types = Vec::new();
    for _ in 0..count {
        let e = buf
            .get(at..at + TYPE_INFO_SIZE)
            .ok_or(ParseError("type list shorter than its type count"))?;
        let len = usize::from(u16_at(e, type_info::NAME_LENGTH).unwrap_or(0));
        let max = usize::from(u16_at(e, type_info::NAME_MAX).unwrap_or(0));
        let name_at = at + TYPE_INFO_SIZE;
        let name = buf
            .get(name_at..name_at + len)
            .ok_or(ParseError("type name runs past the buffer"))?;
        let mapping = |i: usize| u32_at(e, type_info::GENERIC_MAPPING + 4 * i).unwrap_or(0);
        types.push(ObjectTypeInfo {
            index: u16::from(e[type_info::TYPE_INDEX]),
            name: utf16_bytes(name),
            objects: u32_at(e, type_info::OBJECTS).unwrap_or(0),
            handles: u32_at(e, type_info::HANDLES).unwrap_or(0),
            generic_mapping: [mapping(0), mapping(1), mapping(2), mapping(3)],
            valid_access: u32_at(e, type_info::VALID_ACCESS).unwrap_or(0),
        });
        at = name_at + align8(max.max(len));
    }
    if types.iter().all(|t| t.index == 0) {
        for (i, t) in types.iter_mut().enumerate() {
            t.index = u16::try_from(i + 2).unwrap_or(u16::MAX);
        }
    }
    Ok(types)
}

// --- OBJECT_NAME_INFORMATION -----------------------------------------------------------

/// Size of a `UNICODE_STRING` (`Length`, `MaximumLength`, padding, `Buffer`).
pub(crate) const UNICODE_STRING_SIZE: usize = 16;

/// Parses an `OBJECT_NAME_INFORMATION` buffer. `base` is the buffer's address, so that the
/// string's `Buffer` pointer can be turned into an offset; a null pointer is an empty name.
pub(crate) fn object_name(buf: &[u8], base: u64) -> Result<String> {
    let len = usize::from(u16_at(buf, 0).ok_or(ParseError("name shorter than its header"))?);
    let ptr = u64_at(buf, 8).ok_or(ParseError("name shorter than its header"))?;
    if ptr == 0 || len == 0 {
        return Ok(String::new());
    }
    let at = ptr
        .checked_sub(base)
        .and_then(|o| usize::try_from(o).ok())
        .ok_or(ParseError("name points outside its buffer"))?;
    let bytes = at
        .checked_add(len)
        .and_then(|end| buf.get(at..end))
        .ok_or(ParseError("name runs past the buffer"))?;
    Ok(utf16_bytes(bytes))
}

// --- OBJECT_BASIC_INFORMATION ----------------------------------------------------------

/// Size of `OBJECT_BASIC_INFORMATION`.
pub(crate) const BASIC_INFO_SIZE: usize = 56;

/// What ObjectBasicInformation says about a handle and its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct BasicInfo {
    pub(crate) attributes: u32,
    pub(crate) access: u32,
    pub(crate) handle_count: u32,
    pub(crate) pointer_count: u32,
    pub(crate) paged_quota: u32,
    pub(crate) nonpaged_quota: u32,
}

/// Parses an `OBJECT_BASIC_INFORMATION` buffer.
pub(crate) fn basic_info(buf: &[u8]) -> Result<BasicInfo> {
    if buf.len() < 24 {
        return Err(ParseError("basic information too short"));
    }
    let f = |i: usize| u32_at(buf, 4 * i).unwrap_or(0);
    Ok(BasicInfo {
        attributes: f(0),
        access: f(1),
        handle_count: f(2),
        pointer_count: f(3),
        paged_quota: f(4),
        nonpaged_quota: f(5),
    })
}

// --- FILE_PIPE_LOCAL_INFORMATION -------------------------------------------------------

/// Size of `FILE_PIPE_LOCAL_INFORMATION`.
pub(crate) const PIPE_LOCAL_SIZE: usize = 40;

/// Which end of a pipe a handle is, as NPFS says (`NamedPipeEnd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeEnd {
    /// `FILE_PIPE_CLIENT_END`: opened with CreateFile (CreatePipe's write end).
    Client,
    /// `FILE_PIPE_SERVER_END`: the CreateNamedPipe side (CreatePipe's read end).
    Server,
}

impl PipeEnd {
    /// `client` or `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            PipeEnd::Client => "client",
            PipeEnd::Server => "server",
        }
    }
}

/// FilePipeLocalInformation: a pipe end's own view of the pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipeLocalInfo {
    /// Message-type pipe (else byte stream).
    pub message_type: bool,
    /// Instances allowed (`u32::MAX`: unlimited).
    pub max_instances: u32,
    /// Instances that exist.
    pub current_instances: u32,
    /// Buffer size for data flowing into the server end, bytes.
    pub inbound_quota: u32,
    /// Bytes waiting to be read at this end.
    pub read_data_available: u32,
    /// Buffer size for data flowing out of the server end, bytes.
    pub outbound_quota: u32,
    /// Room left for writing at this end, bytes.
    pub write_quota_available: u32,
    /// `FILE_PIPE_DISCONNECTED_STATE` 1, `LISTENING` 2, `CONNECTED` 3, `CLOSING` 4.
    pub state: u32,
    /// Which end this is.
    pub end: PipeEnd,
}

impl PipeLocalInfo {
    /// The pipe state in words.
    pub fn state_str(&self) -> &'static str {
        match self.state {
            1 => "disconnected",
            2 => "listening",
            3 => "connected",
            4 => "closing",
            _ => "unknown",
        }
    }
}

/// Parses a `FILE_PIPE_LOCAL_INFORMATION` buffer.
pub(crate) fn pipe_local(buf: &[u8]) -> Result<PipeLocalInfo> {
    if buf.len() < PIPE_LOCAL_SIZE {
        return Err(ParseError("pipe information too short"));
    }
    let f = |i: usize| u32_at(buf, 4 * i).unwrap_or(0);
    Ok(PipeLocalInfo {
        message_type: f(0) == 1,
        max_instances: f(2),
        current_instances: f(3),
        inbound_quota: f(4),
        read_data_available: f(5),
        outbound_quota: f(6),
        write_quota_available: f(7),
        state: f(8),
        end: if f(9) == 1 {
            PipeEnd::Server
        } else {
            PipeEnd::Client
        },
    })
}

// --- FILE_DIRECTORY_INFORMATION (the named-pipe directory) -------------------------------

/// Offsets inside `FILE_DIRECTORY_INFORMATION`.
pub(crate) mod dir_info {
    pub(crate) const NEXT: usize = 0;
    pub(crate) const END_OF_FILE: usize = 40;
    pub(crate) const ALLOCATION_SIZE: usize = 48;
    pub(crate) const NAME_LENGTH: usize = 60;
    pub(crate) const NAME: usize = 64;
}

/// One entry of the named-pipe file system's root directory (`\\.\pipe\`), as
/// NtQueryDirectoryFile(FileDirectoryInformation) gives it: NPFS puts a pipe's current
/// instances in `EndOfFile` and its maximum in `AllocationSize` (-1: unlimited), which
/// is what Sysinternals PipeList shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PipeDirEntry {
    pub(crate) name: String,
    pub(crate) instances: u32,
    /// `None`: unlimited.
    pub(crate) max_instances: Option<u32>,
}

/// Parses a buffer of `FILE_DIRECTORY_INFORMATION` entries chained by `NextEntryOffset`;
/// `len` is how many bytes the call wrote (the IO_STATUS_BLOCK's `Information`).
pub(crate) fn pipe_directory(buf: &[u8], len: usize) -> Result<Vec<PipeDirEntry>> {
    let buf = buf
        .get(..len)
        .ok_or(ParseError("directory length past the buffer"))?;
    let mut out = Vec::new();
    let mut at = 0usize;
    if buf.is_empty() {
        return Ok(out);
    }
    loop {
        let next =
            u32_at(buf, at + dir_info::NEXT).ok_or(ParseError("directory entry cut short"))?;
        let eof = u64_at(buf, at + dir_info::END_OF_FILE)
            .ok_or(ParseError("directory entry cut short"))?;
        let alloc = u64_at(buf, at + dir_info::ALLOCATION_SIZE)
            .ok_or(ParseError("directory entry cut short"))?;
        let name_len = u32_at(buf, at + dir_info::NAME_LENGTH)
            .ok_or(ParseError("directory entry cut short"))? as usize;
        let name_at = at + dir_info::NAME;
        let name = name_at
            .checked_add(name_len)
            .and_then(|end| buf.get(name_at..end))
            .ok_or(ParseError("directory entry name runs past the buffer"))?;
        out.push(PipeDirEntry {
            name: utf16_bytes(name),
            instances: u32::try_from(eof).unwrap_or(u32::MAX),
            max_instances: match alloc as i64 {
                n if n < 0 || n >= i64::from(u32::MAX) => None,
                n => Some(n as u32),
            },
        });
        if next == 0 {
            return Ok(out);
        }
        at = at
            .checked_add(next as usize)
            .filter(|&a| a < buf.len())
            .ok_or(ParseError("directory entry points past the buffer"))?;
    }
}

// --- SYSTEM_PROCESS_INFORMATION (threads' states) ---------------------------------------

/// Offsets inside `SYSTEM_PROCESS_INFORMATION` (SystemProcessInformation, 64-bit).
pub(crate) mod proc_info {
    pub(crate) const NEXT: usize = 0;
    pub(crate) const THREADS: usize = 4;
    pub(crate) const PID: usize = 80;
    pub(crate) const PPID: usize = 88;
    /// Its size: the `SYSTEM_THREAD_INFORMATION` array follows.
    pub(crate) const SIZE: usize = 256;
}

/// Offsets inside `SYSTEM_THREAD_INFORMATION`.
pub(crate) mod thread_info {
    pub(crate) const STATE: usize = 68;
    pub(crate) const WAIT_REASON: usize = 72;
    pub(crate) const SIZE: usize = 80;
}

/// One thread's scheduling state (`KTHREAD_STATE`) and, when waiting, why
/// (`KWAIT_REASON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ThreadState {
    pub(crate) state: u32,
    pub(crate) wait_reason: u32,
}

/// A process and its threads, from SystemProcessInformation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessThreads {
    pub(crate) pid: u32,
    pub(crate) ppid: u32,
    pub(crate) threads: Vec<ThreadState>,
}

/// Parses a SystemProcessInformation buffer: processes chained by `NextEntryOffset`,
/// each followed by its `SYSTEM_THREAD_INFORMATION` array.
pub(crate) fn process_threads(buf: &[u8]) -> Result<Vec<ProcessThreads>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    loop {
        let short = ParseError("process entry cut short");
        let next = u32_at(buf, at + proc_info::NEXT).ok_or(short.clone())?;
        let count = u32_at(buf, at + proc_info::THREADS).ok_or(short.clone())? as usize;
        let pid = u64_at(buf, at + proc_info::PID).ok_or(short.clone())?;
        let ppid = u64_at(buf, at + proc_info::PPID).ok_or(short)?;
        let first = at + proc_info::SIZE;
        let end = count
            .checked_mul(thread_info::SIZE)
            .and_then(|n| n.checked_add(first))
            .filter(|&e| e <= buf.len())
            .ok_or(ParseError("thread list runs past the buffer"))?;
        let threads = buf[first..end]
            .chunks_exact(thread_info::SIZE)
            .map(|t| ThreadState {
                state: u32_at(t, thread_info::STATE).unwrap_or(0),
                wait_reason: u32_at(t, thread_info::WAIT_REASON).unwrap_or(0),
            })
            .collect();
        out.push(ProcessThreads {
            pid: pid as u32,
            ppid: ppid as u32,
            threads,
        });
        if next == 0 {
            return Ok(out);
        }
        at = at
            .checked_add(next as usize)
            .filter(|&a| a < buf.len())
            .ok_or(ParseError("process entry points past the buffer"))?;
    }
}

/// What a process's threads say it is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Activity {
    /// A thread runs or is ready to (Ready, Running, Standby, DeferredReady).
    Running,
    /// Every thread waits, not all of them suspended: on I/O, a timer, an object. A
    /// wait reason does not say which pipe, nor which way.
    Waiting,
    /// Every thread is suspended.
    Suspended,
    /// The states say nothing (Wine leaves every thread `Initialized`).
    Unknown,
}

/// Classifies a process from its threads' states and wait reasons.
pub(crate) fn activity(threads: &[ThreadState]) -> Activity {
    const READY: u32 = 1;
    const RUNNING: u32 = 2;
    const STANDBY: u32 = 3;
    const WAITING: u32 = 5;
    const DEFERRED_READY: u32 = 7;
    const SUSPENDED: u32 = 5;
    const WR_SUSPENDED: u32 = 12;
    if threads
        .iter()
        .any(|t| matches!(t.state, READY | RUNNING | STANDBY | DEFERRED_READY))
    {
        return Activity::Running;
    }
    let waiting: Vec<&ThreadState> = threads.iter().filter(|t| t.state == WAITING).collect();
    if waiting.is_empty() {
        return Activity::Unknown;
    }
    if waiting
        .iter()
        .all(|t| matches!(t.wait_reason, SUSPENDED | WR_SUSPENDED))
    {
        Activity::Suspended
    } else {
        Activity::Waiting
    }
}

// --- PEB and RTL_USER_PROCESS_PARAMETERS (standard handles, command line) -----------------

/// Offset of `PebBaseAddress` in `PROCESS_BASIC_INFORMATION`.
pub(crate) const BASIC_PEB: usize = 8;
/// Size of `PROCESS_BASIC_INFORMATION`.
pub(crate) const PROCESS_BASIC_SIZE: usize = 48;
/// Offset of `ProcessParameters` in the PEB.
pub(crate) const PEB_PARAMETERS: usize = 0x20;
/// Offsets inside `RTL_USER_PROCESS_PARAMETERS`.
pub(crate) mod params {
    pub(crate) const STD_INPUT: usize = 0x20;
    pub(crate) const COMMAND_LINE: usize = 0x70;
    /// Bytes read to reach past `CommandLine`.
    pub(crate) const READ: usize = 0x80;
}

/// What a process's parameters block says: its standard handles' values and where its
/// command line is (length in bytes, address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcessParams {
    pub(crate) std: [u64; 3],
    pub(crate) command_line: (usize, u64),
}

/// Parses the first [`params::READ`] bytes of `RTL_USER_PROCESS_PARAMETERS`.
pub(crate) fn process_params(buf: &[u8]) -> Result<ProcessParams> {
    let short = ParseError("process parameters cut short");
    let h = |i: usize| u64_at(buf, params::STD_INPUT + 8 * i);
    let std = [h(0), h(1), h(2)];
    let len = u16_at(buf, params::COMMAND_LINE).ok_or(short.clone())?;
    let ptr = u64_at(buf, params::COMMAND_LINE + 8).ok_or(short.clone())?;
    match std {
        [Some(a), Some(b), Some(c)] => Ok(ProcessParams {
            std: [a, b, c],
            command_line: (usize::from(len), ptr),
        }),
        _ => Err(short),
    }
}

// --- What a File handle is -------------------------------------------------------------

/// The named-pipe file system's device, as object names start.
pub(crate) const NAMED_PIPE_DEVICE: &str = r"\Device\NamedPipe\";

/// What kind of pipe a `File` object with this name is, from the name alone: anonymous
/// pipes made by `CreatePipe` are named `Win32.Pipes.*` by Wine (and `Win32Pipes.*` by
/// Windows before 10); any other name on the named-pipe device is a named pipe.
pub(crate) fn pipe_kind_from_name(name: &str) -> Option<PipeKind> {
    let rest = name.strip_prefix(NAMED_PIPE_DEVICE)?;
    if rest.is_empty() {
        return None; // the device itself
    }
    if rest.starts_with("Win32.Pipes.") || rest.starts_with("Win32Pipes.") {
        Some(PipeKind::Anonymous)
    } else {
        Some(PipeKind::Named)
    }
}

/// `FILE_READ_DATA`.
pub(crate) const FILE_READ_DATA: u32 = 0x1;
/// `FILE_WRITE_DATA`.
pub(crate) const FILE_WRITE_DATA: u32 = 0x2;

/// The mode of a handle to a `File` object, from its granted access.
pub(crate) fn file_mode(access: u32) -> Mode {
    match (access & FILE_READ_DATA != 0, access & FILE_WRITE_DATA != 0) {
        (true, true) => Mode::ReadWrite,
        (true, false) => Mode::Read,
        (false, true) => Mode::Write,
        (false, false) => Mode::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_u16(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn put_u32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn put_u64(b: &mut [u8], at: usize, v: u64) {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn handle_table_two_rows() {
        // Two rows as Windows writes them: the pipe ends of the seed article.
        let mut b = vec![0u8; HANDLE_TABLE_HEADER + 2 * HANDLE_ENTRY_SIZE];
        put_u64(&mut b, 0, 2);
        let r0 = HANDLE_TABLE_HEADER;
        put_u64(&mut b, r0, 0xffff_a50e_1b2c_3d40);
        put_u64(&mut b, r0 + 8, 5352);
        put_u64(&mut b, r0 + 16, 0xc8);
        put_u32(&mut b, r0 + 24, 0x0012_0189);
        put_u16(&mut b, r0 + 30, 37);
        put_u32(&mut b, r0 + 32, OBJ_INHERIT);
        let r1 = r0 + HANDLE_ENTRY_SIZE;
        put_u64(&mut b, r1 + 8, 5352);
        put_u64(&mut b, r1 + 16, 0xcc);
        put_u32(&mut b, r1 + 24, 0x0012_0196);
        put_u16(&mut b, r1 + 30, 37);
        let rows = handle_table(&b).unwrap();
        assert_eq!(
            rows,
            vec![
                HandleEntry {
                    object: 0xffff_a50e_1b2c_3d40,
                    pid: 5352,
                    handle: 0xc8,
                    access: 0x120189,
                    type_index: 37,
                    attributes: OBJ_INHERIT
                },
                HandleEntry {
                    object: 0,
                    pid: 5352,
                    handle: 0xcc,
                    access: 0x120196,
                    type_index: 37,
                    attributes: 0
                }
            ]
        );
        assert_eq!(attribute_names(rows[0].attributes), ["inherit"]);
        assert_eq!(
            attribute_names(OBJ_INHERIT | OBJ_PROTECT_CLOSE),
            ["inherit", "protect-from-close"]
        );
    }

    #[test]
    fn handle_table_rejects_short_buffers() {
        assert!(handle_table(&[0; 8]).is_err());
        let mut b = vec![0u8; HANDLE_TABLE_HEADER + HANDLE_ENTRY_SIZE];
        put_u64(&mut b, 0, 2); // claims two rows, holds one
        assert!(handle_table(&b).is_err());
        put_u64(&mut b, 0, u64::MAX);
        assert!(handle_table(&b).is_err());
        put_u64(&mut b, 0, 0);
        assert_eq!(handle_table(&b).unwrap(), vec![]);
    }

    /// Builds an OBJECT_TYPES_INFORMATION buffer with the given (name, TypeIndex).
    fn types_buffer(types: &[(&str, u8)]) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        put_u32(&mut b, 0, types.len() as u32);
        for (name, index) in types {
            let at = b.len();
            let n = utf16(name);
            let max = n.len() + 2; // with the terminating NUL
            b.resize(at + TYPE_INFO_SIZE, 0);
            put_u16(&mut b, at, n.len() as u16);
            put_u16(&mut b, at + 2, max as u16);
            put_u32(&mut b, at + type_info::HANDLES, 7);
            put_u32(&mut b, at + type_info::GENERIC_MAPPING, 0x120089);
            put_u32(&mut b, at + type_info::GENERIC_MAPPING + 12, 0x1f01ff);
            put_u32(&mut b, at + type_info::VALID_ACCESS, 0x1f01ff);
            b[at + type_info::TYPE_INDEX] = *index;
            b.extend_from_slice(&n);
            b.resize(at + TYPE_INFO_SIZE + align8(max), 0);
        }
        b
    }

    #[test]
    fn object_types_with_indexes() {
        // "Event" is 10 bytes of name, 12 with NUL: padded to 16 before the next entry.
        let b = types_buffer(&[("Type", 2), ("Event", 16), ("File", 37)]);
        let t = object_types(&b).unwrap();
        let got: Vec<(u16, &str)> = t.iter().map(|t| (t.index, t.name.as_str())).collect();
        assert_eq!(got, [(2, "Type"), (16, "Event"), (37, "File")]);
        assert_eq!(t[2].generic_mapping, [0x120089, 0, 0, 0x1f01ff]);
        assert_eq!(t[2].handles, 7);
    }

    #[test]
    fn object_types_without_indexes_count_from_two() {
        let b = types_buffer(&[("Type", 0), ("Directory", 0), ("File", 0)]);
        let t = object_types(&b).unwrap();
        let got: Vec<(u16, &str)> = t.iter().map(|t| (t.index, t.name.as_str())).collect();
        assert_eq!(got, [(2, "Type"), (3, "Directory"), (4, "File")]);
    }

    #[test]
    fn object_types_truncated() {
        let mut b = types_buffer(&[("File", 37)]);
        put_u32(&mut b, 0, 2);
        assert!(object_types(&b).is_err());
        assert!(object_types(&[1, 0]).is_err());
    }

    #[test]
    fn object_name_uses_buffer_pointer() {
        let name = r"\Device\NamedPipe\Win32.Pipes.00000020.00000001";
        let base = 0x1000u64;
        let mut b = vec![0u8; UNICODE_STRING_SIZE];
        let n = utf16(name);
        put_u16(&mut b, 0, n.len() as u16);
        put_u16(&mut b, 2, n.len() as u16 + 2);
        put_u64(&mut b, 8, base + UNICODE_STRING_SIZE as u64);
        b.extend_from_slice(&n);
        b.extend_from_slice(&[0, 0]);
        assert_eq!(object_name(&b, base).unwrap(), name);
        // An unnamed file: Length 0, Buffer NULL.
        assert_eq!(object_name(&[0u8; 16], base).unwrap(), "");
        // A pointer before the buffer or past its end is an error, not a read elsewhere.
        put_u64(&mut b, 8, base - 2);
        assert!(object_name(&b, base).is_err());
        put_u64(&mut b, 8, base + 64);
        assert!(object_name(&b, base).is_err());
        // An offset so large that offset + length overflows.
        put_u64(&mut b, 8, u64::MAX);
        assert!(object_name(&b, 0).is_err());
    }

    #[test]
    fn basic_info_fields() {
        let mut b = vec![0u8; BASIC_INFO_SIZE];
        for (i, v) in [0x2, 0x120189, 2, 65537, 0, 176].into_iter().enumerate() {
            put_u32(&mut b, 4 * i, v);
        }
        let i = basic_info(&b).unwrap();
        assert_eq!(
            i,
            BasicInfo {
                attributes: 2,
                access: 0x120189,
                handle_count: 2,
                pointer_count: 65537,
                paged_quota: 0,
                nonpaged_quota: 176
            }
        );
        assert!(basic_info(&b[..20]).is_err());
    }

    #[test]
    fn pipe_local_fields() {
        let mut b = vec![0u8; PIPE_LOCAL_SIZE];
        for (i, v) in [0, 0, 1, 1, 4096, 5, 0, 0, 3, 1].into_iter().enumerate() {
            put_u32(&mut b, 4 * i, v);
        }
        let p = pipe_local(&b).unwrap();
        assert_eq!(p.end, PipeEnd::Server);
        assert_eq!(p.inbound_quota, 4096);
        assert_eq!(p.read_data_available, 5);
        assert_eq!(p.state_str(), "connected");
        assert!(!p.message_type);
        put_u32(&mut b, 36, 0);
        assert_eq!(pipe_local(&b).unwrap().end, PipeEnd::Client);
        assert!(pipe_local(&b[..36]).is_err());
    }

    #[test]
    fn pipe_kinds_by_name() {
        let cases = [
            (
                r"\Device\NamedPipe\Win32.Pipes.00000020.00000003",
                Some(PipeKind::Anonymous),
            ),
            (
                r"\Device\NamedPipe\Win32Pipes.000012b0.00000002",
                Some(PipeKind::Anonymous),
            ),
            (r"\Device\NamedPipe\mojo.1234.5678", Some(PipeKind::Named)),
            (r"\Device\NamedPipe\", None),
            (r"\Device\HarddiskVolume3\Windows\notepad.exe", None),
            ("", None),
        ];
        for (name, kind) in cases {
            assert_eq!(pipe_kind_from_name(name), kind, "{name}");
        }
    }

    /// Builds FILE_DIRECTORY_INFORMATION entries as NPFS writes them.
    fn dir_buffer(entries: &[(&str, i64, i64)]) -> Vec<u8> {
        let mut b = Vec::new();
        let mut last = None;
        for (name, cur, max) in entries {
            let at = b.len();
            if let Some(prev) = last {
                put_u32(&mut b, prev, (at - prev) as u32);
            }
            let n = utf16(name);
            b.resize(at + dir_info::NAME, 0);
            put_u64(&mut b, at + dir_info::END_OF_FILE, *cur as u64);
            put_u64(&mut b, at + dir_info::ALLOCATION_SIZE, *max as u64);
            put_u32(&mut b, at + dir_info::NAME_LENGTH, n.len() as u32);
            b.extend_from_slice(&n);
            b.resize(align8(b.len()), 0);
            last = Some(at);
        }
        b
    }

    #[test]
    fn pipe_directory_entries() {
        let b = dir_buffer(&[
            ("InitShutdown", 3, -1),
            ("mojo.1234.5678.1", 1, 1),
            ("x", 0, 10),
        ]);
        let got = pipe_directory(&b, b.len()).unwrap();
        let want = [
            ("InitShutdown", 3, None),
            ("mojo.1234.5678.1", 1, Some(1)),
            ("x", 0, Some(10)),
        ];
        assert_eq!(got.len(), 3);
        for (g, (name, cur, max)) in got.iter().zip(want) {
            assert_eq!(
                (g.name.as_str(), g.instances, g.max_instances),
                (name, cur, max)
            );
        }
        assert_eq!(pipe_directory(&b, 0).unwrap(), vec![]);
        // Cut inside the second entry's name; a next offset past the end.
        assert!(pipe_directory(&b, 100).is_err());
        let mut bad = b.clone();
        put_u32(&mut bad, 0, 4000);
        assert!(pipe_directory(&bad, bad.len()).is_err());
        assert!(pipe_directory(&b, b.len() + 1).is_err());
    }

    #[test]
    fn wine_process_information_parses_and_says_nothing_of_states() {
        // Captured under Wine 8 (NtQuerySystemInformation(SystemProcessInformation)).
        let b = include_bytes!("testdata/wine8-system-process-information.bin");
        let procs = process_threads(b).unwrap();
        let ids: Vec<(u32, u32, usize)> = procs
            .iter()
            .map(|p| (p.pid, p.ppid, p.threads.len()))
            .collect();
        assert_eq!(
            ids,
            [
                (32, 0, 1),
                (48, 40, 1),
                (56, 40, 11),
                (64, 48, 2),
                (76, 56, 6),
                (116, 56, 8),
                (172, 56, 4),
                (196, 56, 3),
                (220, 56, 4)
            ]
        );
        // Wine leaves every thread Initialized with no wait reason.
        assert!(
            procs
                .iter()
                .all(|p| activity(&p.threads) == Activity::Unknown)
        );
    }

    #[test]
    fn process_information_with_thread_states() {
        // Two processes as Windows writes them: one with a running thread, one whose
        // only thread waits (Executive: a synchronous pipe read), plus a suspended one.
        let entry = |pid: u64, states: &[(u32, u32)]| {
            let mut b = vec![0u8; proc_info::SIZE + states.len() * thread_info::SIZE];
            put_u32(&mut b, proc_info::THREADS, states.len() as u32);
            put_u64(&mut b, proc_info::PID, pid);
            put_u64(&mut b, proc_info::PPID, 4);
            for (i, (st, why)) in states.iter().enumerate() {
                let t = proc_info::SIZE + i * thread_info::SIZE;
                put_u32(&mut b, t + thread_info::STATE, *st);
                put_u32(&mut b, t + thread_info::WAIT_REASON, *why);
            }
            b
        };
        let mut b = entry(100, &[(5, 6), (2, 0)]);
        let second = b.len();
        put_u32(&mut b, 0, second as u32);
        b.extend(entry(200, &[(5, 0)]));
        let third = b.len();
        put_u32(&mut b, second, (third - second) as u32);
        b.extend(entry(300, &[(5, 5), (5, 12)]));
        let p = process_threads(&b).unwrap();
        let got: Vec<(u32, Activity)> = p.iter().map(|p| (p.pid, activity(&p.threads))).collect();
        assert_eq!(
            got,
            [
                (100, Activity::Running),
                (200, Activity::Waiting),
                (300, Activity::Suspended)
            ]
        );
        // A thread count past the buffer is refused.
        put_u32(&mut b, third + proc_info::THREADS, 9);
        assert!(process_threads(&b).is_err());
    }

    #[test]
    fn process_parameters_give_std_handles_and_the_command_line() {
        let mut b = vec![0u8; params::READ];
        put_u64(&mut b, params::STD_INPUT, 0x8);
        put_u64(&mut b, params::STD_INPUT + 8, 0xc);
        put_u64(&mut b, params::STD_INPUT + 16, 0x10);
        put_u16(&mut b, params::COMMAND_LINE, 42);
        put_u64(&mut b, params::COMMAND_LINE + 8, 0x7ff0_0000);
        let p = process_params(&b).unwrap();
        assert_eq!(p.std, [0x8, 0xc, 0x10]);
        assert_eq!(p.command_line, (42, 0x7ff0_0000));
        assert!(process_params(&b[..0x60]).is_err());
    }

    proptest::proptest! {
        /// The parsers read what the OS wrote, which they must never trust: any bytes
        /// give a value or an error, never a panic or a read outside the buffer.
        #[test]
        fn parsers_never_panic(buf in proptest::collection::vec(proptest::num::u8::ANY, 0..600), base: u64) {
            let _ = handle_table(&buf);
            let _ = object_types(&buf);
            let _ = object_name(&buf, base);
            let _ = basic_info(&buf);
            let _ = pipe_local(&buf);
            let _ = pipe_directory(&buf, buf.len());
            let _ = process_threads(&buf);
            let _ = process_params(&buf);
        }

        /// A handle table that claims more rows than it holds is refused, whatever it
        /// claims; one that holds them all gives them all.
        #[test]
        fn handle_table_counts_rows(rows in 0usize..20, claim in 0u64..40) {
            let mut b = vec![0u8; HANDLE_TABLE_HEADER + rows * HANDLE_ENTRY_SIZE];
            put_u64(&mut b, 0, claim);
            match handle_table(&b) {
                Ok(v) => proptest::prop_assert!(v.len() as u64 == claim && claim <= rows as u64),
                Err(_) => proptest::prop_assert!(claim > rows as u64),
            }
        }
    }

    #[test]
    fn file_modes_from_access() {
        assert_eq!(file_mode(0x120189), Mode::Read);
        assert_eq!(file_mode(0x120196), Mode::Write);
        assert_eq!(file_mode(0x12019f), Mode::ReadWrite);
        assert_eq!(file_mode(0x100000), Mode::None);
    }
}
