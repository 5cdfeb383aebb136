//! The Windows backend's only `unsafe` code: calls into kernel32 and ntdll, each behind a
//! safe function that owns its handles ([`OwnedHandle`] closes on drop) and returns plain
//! bytes or values. Struct layouts the native API writes are declared here and checked
//! against the pure parser's offsets at compile time.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;
use std::mem::{offset_of, size_of};
use std::os::windows::io::{AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle};
use std::ptr;

use windows_sys::Wdk::Foundation::{NtQueryObject, OBJECT_INFORMATION_CLASS};
use windows_sys::Wdk::Storage::FileSystem::{
    FILE_PIPE_LOCAL_INFORMATION, FilePipeLocalInformation, NtQueryInformationFile,
};
use windows_sys::Wdk::System::SystemInformation::{
    NtQuerySystemInformation, SYSTEM_INFORMATION_CLASS,
};
use windows_sys::Win32::Foundation::{
    DUPLICATE_SAME_ACCESS, DuplicateHandle, FILETIME, HANDLE, INVALID_HANDLE_VALUE, NTSTATUS,
    RtlNtStatusToDosError, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL,
    STATUS_INFO_LENGTH_MISMATCH, UNICODE_STRING,
};
use windows_sys::Win32::Security::{GENERIC_MAPPING, SECURITY_ATTRIBUTES};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;
use windows_sys::Win32::System::Pipes::CreatePipe;
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetCurrentProcessId, GetProcessTimes, OpenProcess,
};

use crate::parse_windows as parse;

// --- Layouts (64-bit), checked against the parser -----------------------------------

const SYSTEM_EXTENDED_HANDLE_INFORMATION: SYSTEM_INFORMATION_CLASS = 64;
const OBJECT_NAME_INFORMATION: OBJECT_INFORMATION_CLASS = 1;
const OBJECT_TYPES_INFORMATION: OBJECT_INFORMATION_CLASS = 3;
const OBJECT_BASIC_INFORMATION: OBJECT_INFORMATION_CLASS = 0;

/// `SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX`.
#[allow(non_snake_case, dead_code)]
#[repr(C)]
struct SystemHandleTableEntryInfoEx {
    Object: *mut c_void,
    UniqueProcessId: usize,
    HandleValue: usize,
    GrantedAccess: u32,
    CreatorBackTraceIndex: u16,
    ObjectTypeIndex: u16,
    HandleAttributes: u32,
    Reserved: u32,
}

/// `SYSTEM_HANDLE_INFORMATION_EX` (the entries follow the header).
#[allow(non_snake_case, dead_code)]
#[repr(C)]
struct SystemHandleInformationEx {
    NumberOfHandles: usize,
    Reserved: usize,
    Handles: [SystemHandleTableEntryInfoEx; 1],
}

/// `OBJECT_TYPE_INFORMATION` (its name follows it).
#[allow(non_snake_case, dead_code)]
#[repr(C)]
struct ObjectTypeInformation {
    TypeName: UNICODE_STRING,
    TotalNumberOfObjects: u32,
    TotalNumberOfHandles: u32,
    TotalPagedPoolUsage: u32,
    TotalNonPagedPoolUsage: u32,
    TotalNamePoolUsage: u32,
    TotalHandleTableUsage: u32,
    HighWaterNumberOfObjects: u32,
    HighWaterNumberOfHandles: u32,
    HighWaterPagedPoolUsage: u32,
    HighWaterNonPagedPoolUsage: u32,
    HighWaterNamePoolUsage: u32,
    HighWaterHandleTableUsage: u32,
    InvalidAttributes: u32,
    GenericMapping: GENERIC_MAPPING,
    ValidAccessMask: u32,
    SecurityRequired: u8,
    MaintainHandleCount: u8,
    TypeIndex: u8,
    ReservedByte: i8,
    PoolType: u32,
    DefaultPagedPoolCharge: u32,
    DefaultNonPagedPoolCharge: u32,
}

/// `OBJECT_BASIC_INFORMATION`.
#[allow(non_snake_case, dead_code)]
#[repr(C)]
struct ObjectBasicInformation {
    Attributes: u32,
    GrantedAccess: u32,
    HandleCount: u32,
    PointerCount: u32,
    PagedPoolCharge: u32,
    NonPagedPoolCharge: u32,
    Reserved: [u32; 3],
    NameInfoSize: u32,
    TypeInfoSize: u32,
    SecurityDescriptorSize: u32,
    CreationTime: i64,
}

const _: () = {
    type E = SystemHandleTableEntryInfoEx;
    assert!(size_of::<E>() == parse::HANDLE_ENTRY_SIZE);
    assert!(offset_of!(E, Object) == parse::entry::OBJECT);
    assert!(offset_of!(E, UniqueProcessId) == parse::entry::PID);
    assert!(offset_of!(E, HandleValue) == parse::entry::HANDLE);
    assert!(offset_of!(E, GrantedAccess) == parse::entry::ACCESS);
    assert!(offset_of!(E, ObjectTypeIndex) == parse::entry::TYPE_INDEX);
    assert!(offset_of!(E, HandleAttributes) == parse::entry::ATTRIBUTES);
    assert!(offset_of!(SystemHandleInformationEx, Handles) == parse::HANDLE_TABLE_HEADER);

    type T = ObjectTypeInformation;
    assert!(size_of::<T>() == parse::TYPE_INFO_SIZE);
    assert!(offset_of!(T, TotalNumberOfObjects) == parse::type_info::OBJECTS);
    assert!(offset_of!(T, TotalNumberOfHandles) == parse::type_info::HANDLES);
    assert!(offset_of!(T, GenericMapping) == parse::type_info::GENERIC_MAPPING);
    assert!(offset_of!(T, ValidAccessMask) == parse::type_info::VALID_ACCESS);
    assert!(offset_of!(T, TypeIndex) == parse::type_info::TYPE_INDEX);

    assert!(size_of::<UNICODE_STRING>() == parse::UNICODE_STRING_SIZE);
    assert!(offset_of!(UNICODE_STRING, Buffer) == 8);
    assert!(size_of::<ObjectBasicInformation>() == parse::BASIC_INFO_SIZE);
    assert!(offset_of!(ObjectBasicInformation, NonPagedPoolCharge) == 20);
    assert!(size_of::<FILE_PIPE_LOCAL_INFORMATION>() == parse::PIPE_LOCAL_SIZE);
    assert!(offset_of!(FILE_PIPE_LOCAL_INFORMATION, NamedPipeEnd) == 36);

    type P = windows_sys::Win32::System::WindowsProgramming::SYSTEM_PROCESS_INFORMATION;
    assert!(size_of::<P>() == parse::proc_info::SIZE);
    assert!(offset_of!(P, NextEntryOffset) == parse::proc_info::NEXT);
    assert!(offset_of!(P, NumberOfThreads) == parse::proc_info::THREADS);
    assert!(offset_of!(P, UniqueProcessId) == parse::proc_info::PID);
    // InheritedFromUniqueProcessId
    assert!(offset_of!(P, Reserved2) == parse::proc_info::PPID);
    type Th = windows_sys::Win32::System::WindowsProgramming::SYSTEM_THREAD_INFORMATION;
    assert!(size_of::<Th>() == parse::thread_info::SIZE);
    assert!(offset_of!(Th, ThreadState) == parse::thread_info::STATE);
    assert!(offset_of!(Th, WaitReason) == parse::thread_info::WAIT_REASON);

    type D = windows_sys::Wdk::Storage::FileSystem::FILE_DIRECTORY_INFORMATION;
    assert!(offset_of!(D, NextEntryOffset) == parse::dir_info::NEXT);
    assert!(offset_of!(D, EndOfFile) == parse::dir_info::END_OF_FILE);
    assert!(offset_of!(D, AllocationSize) == parse::dir_info::ALLOCATION_SIZE);
    assert!(offset_of!(D, FileNameLength) == parse::dir_info::NAME_LENGTH);
    assert!(offset_of!(D, FileName) == parse::dir_info::NAME);
};

// --- Errors ---------------------------------------------------------------------------

fn nt_error(status: NTSTATUS) -> io::Error {
    // SAFETY: a pure translation of a status code; no pointers involved.
    let code = unsafe { RtlNtStatusToDosError(status) };
    io::Error::from_raw_os_error(code as i32)
}

fn parse_error(e: parse::ParseError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

// --- Buffers --------------------------------------------------------------------------

/// A byte buffer aligned for any structure the native API writes into it.
pub(crate) struct Buffer {
    words: Vec<u64>,
}

impl Buffer {
    fn new(bytes: usize) -> Self {
        Buffer {
            words: vec![0; bytes.div_ceil(8)],
        }
    }
    fn len(&self) -> usize {
        self.words.len() * 8
    }
    fn ptr(&mut self) -> *mut c_void {
        self.words.as_mut_ptr().cast()
    }
    fn base(&self) -> u64 {
        self.words.as_ptr() as u64
    }
    /// The buffer as bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: u64s are plain bytes; the slice covers exactly the Vec's initialized
        // elements and borrows `self`, so it cannot outlive them.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast(), self.len()) }
    }
}

/// Calls `query(buffer, len, &mut needed)` with a growing buffer until it fits (up to
/// `max` bytes).
fn query_growing(
    start: usize,
    max: usize,
    mut query: impl FnMut(*mut c_void, u32, &mut u32) -> NTSTATUS,
) -> io::Result<Buffer> {
    let mut size = start;
    loop {
        let mut buf = Buffer::new(size);
        let mut needed = 0u32;
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let status = query(buf.ptr(), len, &mut needed);
        match status {
            s if s >= 0 => return Ok(buf),
            STATUS_INFO_LENGTH_MISMATCH | STATUS_BUFFER_OVERFLOW | STATUS_BUFFER_TOO_SMALL
                if size < max =>
            {
                // The table may grow between calls: take what was asked for, and more.
                let asked = needed as usize + needed as usize / 4;
                size = asked.max(size * 2).min(max);
            }
            s => return Err(nt_error(s)),
        }
    }
}

// --- The system handle table and the object types ---------------------------------------

/// Every handle of the system (SystemExtendedHandleInformation), parsed.
pub(crate) fn system_handles() -> io::Result<Vec<parse::HandleEntry>> {
    let buf = query_growing(1 << 20, 1 << 30, |p, len, needed| {
        // SAFETY: `p` points to `len` writable bytes, aligned to 8, owned by the caller's
        // Buffer for the duration of the call; `needed` is a valid u32.
        unsafe { NtQuerySystemInformation(SYSTEM_EXTENDED_HANDLE_INFORMATION, p, len, needed) }
    })?;
    parse::handle_table(buf.bytes()).map_err(parse_error)
}

/// The object types the kernel knows (ObjectTypesInformation), parsed.
pub(crate) fn object_types() -> io::Result<Vec<parse::ObjectTypeInfo>> {
    let buf = query_growing(64 << 10, 16 << 20, |p, len, needed| {
        // SAFETY: as above; a null handle is what this information class takes.
        unsafe { NtQueryObject(ptr::null_mut(), OBJECT_TYPES_INFORMATION, p, len, needed) }
    })?;
    parse::object_types(buf.bytes()).map_err(parse_error)
}

// --- Processes ------------------------------------------------------------------------

/// One process from a Toolhelp snapshot.
#[derive(Debug, Clone)]
pub(crate) struct ProcessEntry {
    pub(crate) pid: u32,
    pub(crate) ppid: u32,
    pub(crate) name: String,
}

fn owned(h: HANDLE, what: &str) -> io::Result<OwnedHandle> {
    if h.is_null() || h == INVALID_HANDLE_VALUE {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
    }
    // SAFETY: `h` is a valid handle just returned to us by the OS and owned by no one
    // else; OwnedHandle closes it exactly once.
    Ok(unsafe { OwnedHandle::from_raw_handle(h) })
}

/// Every process, with parent and image name (Toolhelp).
pub(crate) fn processes() -> io::Result<Vec<ProcessEntry>> {
    // SAFETY: no pointers; the result is checked and owned below.
    let snap = owned(
        unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) },
        "CreateToolhelp32Snapshot",
    )?;
    let mut out = Vec::new();
    let mut e = PROCESSENTRY32W {
        dwSize: size_of::<PROCESSENTRY32W>() as u32,
        ..Default::default()
    };
    // SAFETY: `snap` is a live snapshot handle; `e` is a PROCESSENTRY32W with dwSize set.
    let mut ok = unsafe { Process32FirstW(snap.as_raw_handle(), &mut e) } != 0;
    while ok {
        let len = e.szExeFile.iter().position(|&c| c == 0).unwrap_or(260);
        out.push(ProcessEntry {
            pid: e.th32ProcessID,
            ppid: e.th32ParentProcessID,
            name: String::from_utf16_lossy(&e.szExeFile[..len]),
        });
        // SAFETY: as above.
        ok = unsafe { Process32NextW(snap.as_raw_handle(), &mut e) } != 0;
    }
    Ok(out)
}

/// Our own process id.
pub(crate) fn current_pid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { GetCurrentProcessId() }
}

/// Our own process, as the pseudo handle (never closed).
pub(crate) fn current_process() -> BorrowedHandle<'static> {
    // SAFETY: GetCurrentProcess returns a pseudo handle that is valid for the whole life
    // of the process and must not be closed; a borrow never closes it.
    unsafe { BorrowedHandle::borrow_raw(GetCurrentProcess()) }
}

/// Opens a process with `access`.
pub(crate) fn open_process(pid: u32, access: u32) -> io::Result<OwnedHandle> {
    // SAFETY: no pointers; the returned handle is checked and owned.
    let h = unsafe { OpenProcess(access, 0, pid) };
    if h.is_null() {
        return Err(io::Error::last_os_error());
    }
    owned(h, "OpenProcess")
}

/// When the process was created, in milliseconds since the Unix epoch.
pub(crate) fn process_start_ms(process: BorrowedHandle<'_>) -> io::Result<u64> {
    let mut t = [FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    }; 4];
    let [c, x, k, u] = &mut t;
    // SAFETY: `process` is a live process handle; the four FILETIMEs are writable.
    let ok = unsafe { GetProcessTimes(process.as_raw_handle(), c, x, k, u) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let ticks = (u64::from(c.dwHighDateTime) << 32) | u64::from(c.dwLowDateTime);
    // FILETIME counts 100 ns from 1601-01-01.
    Ok((ticks / 10_000).saturating_sub(11_644_473_600_000))
}

// --- Handles --------------------------------------------------------------------------

/// Copies `handle` of the process `owner` into ours, with the same access.
pub(crate) fn duplicate(owner: BorrowedHandle<'_>, handle: u64) -> io::Result<OwnedHandle> {
    let mut dup: HANDLE = ptr::null_mut();
    // SAFETY: `owner` is a live process handle with PROCESS_DUP_HANDLE (or our own
    // pseudo handle); `handle` is only a value in that process's table, which the kernel
    // validates; `dup` is a writable HANDLE that we own on success.
    let ok = unsafe {
        DuplicateHandle(
            owner.as_raw_handle(),
            handle as HANDLE,
            GetCurrentProcess(),
            &mut dup,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    owned(dup, "DuplicateHandle")
}

/// Sets or clears a handle's inherit flag.
#[cfg(test)]
pub(crate) fn set_inheritable(h: BorrowedHandle<'_>, inherit: bool) -> io::Result<()> {
    use windows_sys::Win32::Foundation::{HANDLE_FLAG_INHERIT, SetHandleInformation};
    let flags = if inherit { HANDLE_FLAG_INHERIT } else { 0 };
    // SAFETY: `h` is a live handle we own or borrow.
    if unsafe { SetHandleInformation(h.as_raw_handle(), HANDLE_FLAG_INHERIT, flags) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The handle's object: ObjectBasicInformation.
pub(crate) fn object_basic(h: BorrowedHandle<'_>) -> io::Result<parse::BasicInfo> {
    let mut buf = Buffer::new(parse::BASIC_INFO_SIZE);
    let mut needed = 0u32;
    // SAFETY: `h` is live; `buf` holds BASIC_INFO_SIZE aligned writable bytes.
    let status = unsafe {
        NtQueryObject(
            h.as_raw_handle(),
            OBJECT_BASIC_INFORMATION,
            buf.ptr(),
            parse::BASIC_INFO_SIZE as u32,
            &mut needed,
        )
    };
    if status < 0 {
        return Err(nt_error(status));
    }
    parse::basic_info(buf.bytes()).map_err(parse_error)
}

/// The handle's object name (ObjectNameInformation). May block forever on a synchronous
/// file with I/O pending: call it through the scan's hang guard.
pub(crate) fn object_name(h: BorrowedHandle<'_>) -> io::Result<String> {
    let raw = h.as_raw_handle();
    let buf = query_growing(1024, 64 << 10, |p, len, needed| {
        // SAFETY: `raw` is live for the call (borrowed from `h`); `p` holds `len` bytes.
        unsafe { NtQueryObject(raw, OBJECT_NAME_INFORMATION, p, len, needed) }
    })?;
    parse::object_name(buf.bytes(), buf.base()).map_err(parse_error)
}

/// FilePipeLocalInformation of a pipe end; fails for files that are not pipes. May block
/// like [`object_name`].
pub(crate) fn pipe_local(h: BorrowedHandle<'_>) -> io::Result<parse::PipeLocalInfo> {
    let mut buf = Buffer::new(parse::PIPE_LOCAL_SIZE);
    let mut iosb = IO_STATUS_BLOCK::default();
    // SAFETY: `h` is live; `iosb` and `buf` (PIPE_LOCAL_SIZE aligned bytes) are writable.
    let status = unsafe {
        NtQueryInformationFile(
            h.as_raw_handle(),
            &mut iosb,
            buf.ptr(),
            parse::PIPE_LOCAL_SIZE as u32,
            FilePipeLocalInformation,
        )
    };
    if status < 0 {
        return Err(nt_error(status));
    }
    parse::pipe_local(buf.bytes()).map_err(parse_error)
}

/// An anonymous pipe: (read end, write end), inheritable or not.
pub(crate) fn create_pipe(inheritable: bool) -> io::Result<(OwnedHandle, OwnedHandle)> {
    let sa = SECURITY_ATTRIBUTES {
        nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: ptr::null_mut(),
        bInheritHandle: i32::from(inheritable),
    };
    let (mut r, mut w): (HANDLE, HANDLE) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: `r`, `w` are writable HANDLEs; `sa` is a valid SECURITY_ATTRIBUTES.
    if unsafe { CreatePipe(&mut r, &mut w, &sa, 0) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let r = owned(r, "CreatePipe");
    let w = owned(w, "CreatePipe");
    Ok((r?, w?))
}

/// The process owner's account name (`DOMAIN\user`), from its token.
pub(crate) fn process_user(process: BorrowedHandle<'_>) -> io::Result<String> {
    use windows_sys::Win32::Security::{
        GetTokenInformation, LookupAccountSidW, SID_NAME_USE, TOKEN_QUERY, TOKEN_USER, TokenUser,
    };
    use windows_sys::Win32::System::Threading::OpenProcessToken;

    let mut token: HANDLE = ptr::null_mut();
    // SAFETY: `process` is a live process handle; `token` is a writable HANDLE we own on
    // success.
    if unsafe { OpenProcessToken(process.as_raw_handle(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let token = owned(token, "OpenProcessToken")?;
    let mut buf = Buffer::new(256);
    let mut needed = 0u32;
    // SAFETY: `token` is live; `buf` holds `buf.len()` aligned writable bytes.
    let ok = unsafe {
        GetTokenInformation(
            token.as_raw_handle(),
            TokenUser,
            buf.ptr(),
            buf.len() as u32,
            &mut needed,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: on success the buffer starts with a TOKEN_USER whose SID points into the
    // same buffer, which stays alive (and unmoved) until the end of this function.
    let sid = unsafe { (*buf.ptr().cast::<TOKEN_USER>()).User.Sid };
    let (mut name, mut domain) = ([0u16; 256], [0u16; 256]);
    let (mut name_len, mut domain_len) = (256u32, 256u32);
    let mut use_ = SID_NAME_USE::default();
    // SAFETY: `sid` is valid (see above); the name buffers and their lengths are writable
    // and the lengths are their capacities in characters.
    let ok = unsafe {
        LookupAccountSidW(
            ptr::null(),
            sid,
            name.as_mut_ptr(),
            &mut name_len,
            domain.as_mut_ptr(),
            &mut domain_len,
            &mut use_,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let name = String::from_utf16_lossy(&name[..name_len as usize]);
    let domain = String::from_utf16_lossy(&domain[..domain_len as usize]);
    Ok(if domain.is_empty() {
        name
    } else {
        format!("{domain}\\{name}")
    })
}

/// The handle's object type name, asked of the handle itself (ObjectTypeInformation).
pub(crate) fn object_type_name(h: BorrowedHandle<'_>) -> io::Result<String> {
    use windows_sys::Wdk::Foundation::ObjectTypeInformation;
    let raw = h.as_raw_handle();
    let buf = query_growing(512, 64 << 10, |p, len, needed| {
        // SAFETY: `raw` is live for the call (borrowed from `h`); `p` holds `len` bytes.
        unsafe { NtQueryObject(raw, ObjectTypeInformation, p, len, needed) }
    })?;
    // The buffer starts with the type's UNICODE_STRING name, as a name query's does.
    parse::object_name(buf.bytes(), buf.base()).map_err(parse_error)
}

/// Enables SeDebugPrivilege in our own token when the token holds it (an elevated
/// administrator): other processes then open for handle duplication, and Windows 11 24H2
/// and later show object addresses. Returns whether it is now enabled.
pub(crate) fn enable_debug_privilege() -> bool {
    use windows_sys::Win32::Foundation::{ERROR_NOT_ALL_ASSIGNED, GetLastError, LUID};
    use windows_sys::Win32::Security::{
        AdjustTokenPrivileges, LUID_AND_ATTRIBUTES, LookupPrivilegeValueW, SE_DEBUG_NAME,
        SE_PRIVILEGE_ENABLED, TOKEN_ADJUST_PRIVILEGES, TOKEN_PRIVILEGES,
    };
    use windows_sys::Win32::System::Threading::OpenProcessToken;

    let mut luid = LUID::default();
    // SAFETY: SE_DEBUG_NAME is a NUL-terminated wide string; `luid` is writable.
    if unsafe { LookupPrivilegeValueW(ptr::null(), SE_DEBUG_NAME, &mut luid) } == 0 {
        return false;
    }
    let mut token: HANDLE = ptr::null_mut();
    // SAFETY: the pseudo handle of our process; `token` is writable and owned below.
    let ok = unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES, &mut token) };
    if ok == 0 {
        return false;
    }
    let Ok(token) = owned(token, "OpenProcessToken") else {
        return false;
    };
    let new = TOKEN_PRIVILEGES {
        PrivilegeCount: 1,
        Privileges: [LUID_AND_ATTRIBUTES {
            Luid: luid,
            Attributes: SE_PRIVILEGE_ENABLED,
        }],
    };
    // SAFETY: `token` is live with TOKEN_ADJUST_PRIVILEGES; `new` is a valid one-entry
    // TOKEN_PRIVILEGES; no previous state is asked for.
    let ok = unsafe {
        AdjustTokenPrivileges(
            token.as_raw_handle(),
            0,
            &new,
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    // Success with ERROR_NOT_ALL_ASSIGNED means the token does not hold the privilege.
    // SAFETY: reads this thread's last error; no arguments.
    ok != 0 && unsafe { GetLastError() } != ERROR_NOT_ALL_ASSIGNED
}

/// FileInternalInformation: the file system's index number for the file. The named-pipe
/// file system has answered with its per-instance context block, which both ends of a
/// pipe share; some systems answer 0. May block like [`object_name`].
pub(crate) fn internal_index(h: BorrowedHandle<'_>) -> io::Result<u64> {
    use windows_sys::Wdk::Storage::FileSystem::FileInternalInformation;
    let mut buf = Buffer::new(8);
    let mut iosb = IO_STATUS_BLOCK::default();
    // SAFETY: `h` is live; `iosb` and `buf` (8 aligned bytes) are writable.
    let status = unsafe {
        NtQueryInformationFile(
            h.as_raw_handle(),
            &mut iosb,
            buf.ptr(),
            8,
            FileInternalInformation,
        )
    };
    if status < 0 {
        return Err(nt_error(status));
    }
    let mut index = [0u8; 8];
    index.copy_from_slice(&buf.bytes()[..8]);
    Ok(u64::from_le_bytes(index))
}

/// The named-pipe file system's root directory (`\\.\pipe\`), every entry, parsed.
/// Windows lists it; Wine does not (the call fails).
pub(crate) fn pipe_directory() -> io::Result<Vec<parse::PipeDirEntry>> {
    use windows_sys::Wdk::Storage::FileSystem::{FileDirectoryInformation, NtQueryDirectoryFile};
    use windows_sys::Win32::Foundation::{GENERIC_READ, STATUS_NO_MORE_FILES};
    use windows_sys::Win32::Storage::FileSystem::{
        CreateFileW, FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_EXISTING,
    };
    let path: Vec<u16> = r"\\.\pipe\".encode_utf16().chain([0]).collect();
    // SAFETY: `path` is NUL-terminated and outlives the call; no security attributes or
    // template; the result is checked and owned.
    let dir = owned(
        unsafe {
            CreateFileW(
                path.as_ptr(),
                GENERIC_READ,
                FILE_SHARE_READ | FILE_SHARE_WRITE,
                ptr::null(),
                OPEN_EXISTING,
                0,
                ptr::null_mut(),
            )
        },
        r"opening \\.\pipe\",
    )?;
    let mut out = Vec::new();
    let mut buf = Buffer::new(64 << 10);
    let mut restart = true;
    loop {
        let mut iosb = IO_STATUS_BLOCK::default();
        let len = buf.len() as u32;
        // SAFETY: `dir` is a live synchronous directory handle (so the call completes
        // before it returns and no event or APC is needed); `buf` holds `len` aligned
        // writable bytes; `iosb` is writable; no file name filter.
        let status = unsafe {
            NtQueryDirectoryFile(
                dir.as_raw_handle(),
                ptr::null_mut(),
                None,
                ptr::null(),
                &mut iosb,
                buf.ptr(),
                len,
                FileDirectoryInformation,
                false,
                ptr::null(),
                restart,
            )
        };
        restart = false;
        if status == STATUS_NO_MORE_FILES {
            return Ok(out);
        }
        if status < 0 {
            return Err(nt_error(status));
        }
        let written = iosb.Information.min(buf.len());
        out.extend(parse::pipe_directory(buf.bytes(), written).map_err(parse_error)?);
        if written == 0 {
            return Ok(out);
        }
    }
}

// --- Starting processes with an explicit handle list -----------------------------------

/// A process started by [`spawn`].
#[derive(Debug)]
pub(crate) struct Spawned {
    /// Its handle (all access: we created it).
    pub(crate) process: OwnedHandle,
    /// Its id.
    pub(crate) pid: u32,
    /// The values its standard input, output and error have in it (0: none given).
    pub(crate) stdio: [u64; 3],
}

/// An inheritable duplicate of a handle of ours.
fn inheritable_copy(h: std::os::windows::io::RawHandle) -> io::Result<OwnedHandle> {
    let mut dup: HANDLE = ptr::null_mut();
    // SAFETY: `h` is a live handle of this process (checked non-null by the caller; the
    // kernel validates it); `dup` is a writable HANDLE that we own on success.
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            h,
            GetCurrentProcess(),
            &mut dup,
            0,
            1,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    owned(dup, "DuplicateHandle")
}

/// Starts `command_line` (CreateProcess searches the PATH for its first word) with the
/// given standard handles, and with nothing else inherited: the three handles are
/// duplicated as inheritable and named in `PROC_THREAD_ATTRIBUTE_HANDLE_LIST`, so that
/// no other inheritable handle of ours — another stage's pipe end — leaks into it. The
/// duplicates are closed again once the child has its own copies. A null or invalid
/// entry leaves that standard handle unset.
pub(crate) fn spawn(
    command_line: &str,
    stdio: [std::os::windows::io::RawHandle; 3],
) -> io::Result<Spawned> {
    use windows_sys::Win32::System::Threading::{
        CREATE_UNICODE_ENVIRONMENT, CreateProcessW, DeleteProcThreadAttributeList,
        EXTENDED_STARTUPINFO_PRESENT, InitializeProcThreadAttributeList,
        PROC_THREAD_ATTRIBUTE_HANDLE_LIST, PROCESS_INFORMATION, STARTF_USESTDHANDLES,
        STARTUPINFOEXW, UpdateProcThreadAttribute,
    };
    let mut copies: Vec<Option<OwnedHandle>> = Vec::with_capacity(3);
    for h in stdio {
        copies.push(if h.is_null() || h == INVALID_HANDLE_VALUE {
            None
        } else {
            Some(inheritable_copy(h)?)
        });
    }
    let raw = |i: usize| -> HANDLE {
        copies[i]
            .as_ref()
            .map_or(ptr::null_mut(), |c| c.as_raw_handle())
    };
    let list: Vec<HANDLE> = (0..3).map(raw).filter(|h| !h.is_null()).collect();

    let mut size = 0usize;
    // SAFETY: a null list with a size pointer asks for the size needed; it "fails" with
    // ERROR_INSUFFICIENT_BUFFER by design.
    unsafe { InitializeProcThreadAttributeList(ptr::null_mut(), 1, 0, &mut size) };
    let mut attrs = Buffer::new(size.max(64));
    // SAFETY: `attrs` holds at least `size` aligned writable bytes.
    if unsafe { InitializeProcThreadAttributeList(attrs.ptr(), 1, 0, &mut size) } == 0 {
        return Err(io::Error::last_os_error());
    }
    /// Deletes the attribute list however we leave.
    struct Attrs(*mut c_void);
    impl Drop for Attrs {
        fn drop(&mut self) {
            // SAFETY: initialized above, deleted once, before its buffer is freed (the
            // buffer outlives this guard, declared after it).
            unsafe { DeleteProcThreadAttributeList(self.0) };
        }
    }
    let guard = Attrs(attrs.ptr());
    if !list.is_empty() {
        // SAFETY: the list is initialized for one attribute; `list` holds its handles
        // and stays alive and unmoved until CreateProcessW returns (it is dropped at the
        // end of this function, after the guard deletes the list).
        let ok = unsafe {
            UpdateProcThreadAttribute(
                guard.0,
                0,
                PROC_THREAD_ATTRIBUTE_HANDLE_LIST as usize,
                list.as_ptr().cast(),
                list.len() * size_of::<HANDLE>(),
                ptr::null_mut(),
                ptr::null(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let mut si = STARTUPINFOEXW::default();
    si.StartupInfo.cb = size_of::<STARTUPINFOEXW>() as u32;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = raw(0);
    si.StartupInfo.hStdOutput = raw(1);
    si.StartupInfo.hStdError = raw(2);
    si.lpAttributeList = guard.0;
    let mut line: Vec<u16> = command_line.encode_utf16().chain([0]).collect();
    let mut pi = PROCESS_INFORMATION::default();
    // SAFETY: `line` is a writable NUL-terminated command line (CreateProcessW may write
    // into it); `si` is a STARTUPINFOEXW with its size set and a live attribute list;
    // `pi` is writable; handles are inherited only as the list says.
    let ok = unsafe {
        CreateProcessW(
            ptr::null(),
            line.as_mut_ptr(),
            ptr::null(),
            ptr::null(),
            i32::from(!list.is_empty()),
            EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT,
            ptr::null(),
            ptr::null(),
            &si.StartupInfo,
            &mut pi,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    drop(owned(pi.hThread, "CreateProcessW"));
    let process = owned(pi.hProcess, "CreateProcessW")?;
    let values = [raw(0) as u64, raw(1) as u64, raw(2) as u64];
    drop(guard);
    drop(copies);
    Ok(Spawned {
        process,
        pid: pi.dwProcessId,
        stdio: values,
    })
}

/// Waits up to `ms` milliseconds for a process to exit: its exit code, or `None` while
/// it runs.
pub(crate) fn wait_process(process: BorrowedHandle<'_>, ms: u32) -> io::Result<Option<u32>> {
    use windows_sys::Win32::Foundation::{WAIT_FAILED, WAIT_OBJECT_0};
    use windows_sys::Win32::System::Threading::{GetExitCodeProcess, WaitForSingleObject};
    // SAFETY: `process` is a live process handle with SYNCHRONIZE.
    match unsafe { WaitForSingleObject(process.as_raw_handle(), ms) } {
        WAIT_OBJECT_0 => {
            let mut code = 0u32;
            // SAFETY: as above, with PROCESS_QUERY_(LIMITED_)INFORMATION; `code` is
            // writable.
            if unsafe { GetExitCodeProcess(process.as_raw_handle(), &mut code) } == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Some(code))
        }
        WAIT_FAILED => Err(io::Error::last_os_error()),
        _ => Ok(None),
    }
}

/// Ends a process with `code`.
pub(crate) fn terminate(process: BorrowedHandle<'_>, code: u32) -> io::Result<()> {
    use windows_sys::Win32::System::Threading::TerminateProcess;
    // SAFETY: `process` is a live process handle; no pointers.
    if unsafe { TerminateProcess(process.as_raw_handle(), code) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

// --- Sampling -------------------------------------------------------------------------

/// Bytes waiting in a pipe, as its read end sees them (PeekNamedPipe; nothing is read).
/// On a synchronous end with a read pending in another thread this may block until that
/// read completes: call it guarded.
pub(crate) fn peek_available(h: BorrowedHandle<'_>) -> io::Result<u32> {
    use windows_sys::Win32::System::Pipes::PeekNamedPipe;
    let mut avail = 0u32;
    // SAFETY: `h` is live; no buffer is given (so nothing is copied or consumed); `avail`
    // is writable, the other outputs are null as allowed.
    let ok = unsafe {
        PeekNamedPipe(
            h.as_raw_handle(),
            ptr::null_mut(),
            0,
            ptr::null_mut(),
            &mut avail,
            ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(avail)
}

/// Bytes a process has read and written through I/O calls (GetProcessIoCounters). Wine
/// reports 0 for all of them.
pub(crate) fn io_counters(process: BorrowedHandle<'_>) -> io::Result<(u64, u64)> {
    use windows_sys::Win32::System::Threading::{GetProcessIoCounters, IO_COUNTERS};
    let mut c = IO_COUNTERS::default();
    // SAFETY: `process` is live with PROCESS_QUERY_(LIMITED_)INFORMATION; `c` is writable.
    if unsafe { GetProcessIoCounters(process.as_raw_handle(), &mut c) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((c.ReadTransferCount, c.WriteTransferCount))
}

/// CPU time a process has used, user plus kernel.
pub(crate) fn cpu_time(process: BorrowedHandle<'_>) -> io::Result<std::time::Duration> {
    let mut t = [FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    }; 4];
    let [c, x, k, u] = &mut t;
    // SAFETY: `process` is a live process handle; the four FILETIMEs are writable.
    if unsafe { GetProcessTimes(process.as_raw_handle(), c, x, k, u) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let ticks = |f: &FILETIME| (u64::from(f.dwHighDateTime) << 32) | u64::from(f.dwLowDateTime);
    Ok(std::time::Duration::from_nanos(
        (ticks(k) + ticks(u)).saturating_mul(100),
    ))
}

/// Every process with its threads' states and wait reasons
/// (SystemProcessInformation), parsed.
pub(crate) fn system_processes() -> io::Result<Vec<parse::ProcessThreads>> {
    use windows_sys::Wdk::System::SystemInformation::SystemProcessInformation;
    let buf = query_growing(256 << 10, 64 << 20, |p, len, needed| {
        // SAFETY: `p` points to `len` writable bytes, aligned to 8, owned by the
        // caller's Buffer for the duration of the call; `needed` is a valid u32.
        unsafe { NtQuerySystemInformation(SystemProcessInformation, p, len, needed) }
    })?;
    parse::process_threads(buf.bytes()).map_err(parse_error)
}

/// A pipe for one joint of a pipeline `run` starts: a named pipe of one instance, made
/// exactly as `CreatePipe` makes its pipes (byte mode, synchronous ends, the read end the
/// server with `FILE_GENERIC_READ | FILE_WRITE_ATTRIBUTES`, the write end a client with
/// `FILE_GENERIC_WRITE | FILE_READ_ATTRIBUTES`), but under a name of our own on every
/// Windows version, so that a handle scan pairs its ends (Windows 10 leaves `CreatePipe`
/// pipes unnamed). Neither end is inheritable. Returns (read end, write end).
pub(crate) fn create_named_pair(name: &str, size: u32) -> io::Result<(OwnedHandle, OwnedHandle)> {
    use windows_sys::Win32::Foundation::GENERIC_WRITE;
    use windows_sys::Win32::Storage::FileSystem::{
        CreateFileW, FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_READ_ATTRIBUTES, OPEN_EXISTING,
        PIPE_ACCESS_INBOUND,
    };
    use windows_sys::Win32::System::Pipes::{
        CreateNamedPipeW, PIPE_READMODE_BYTE, PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE, PIPE_WAIT,
    };
    let path: Vec<u16> = format!(r"\\.\pipe\{name}")
        .encode_utf16()
        .chain([0])
        .collect();
    // SAFETY: `path` is NUL-terminated and outlives the call; default security (not
    // inheritable); the result is checked and owned.
    let read = owned(
        unsafe {
            CreateNamedPipeW(
                path.as_ptr(),
                PIPE_ACCESS_INBOUND | FILE_FLAG_FIRST_PIPE_INSTANCE,
                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                1,
                size,
                size,
                0,
                ptr::null(),
            )
        },
        "CreateNamedPipeW",
    )?;
    // SAFETY: as above; the pipe exists and has one listening instance.
    let write = owned(
        unsafe {
            CreateFileW(
                path.as_ptr(),
                GENERIC_WRITE | FILE_READ_ATTRIBUTES,
                0,
                ptr::null(),
                OPEN_EXISTING,
                0,
                ptr::null_mut(),
            )
        },
        "CreateFileW",
    )?;
    Ok((read, write))
}

/// Reads `len` bytes at `address` in another process.
fn read_memory(process: BorrowedHandle<'_>, address: u64, len: usize) -> io::Result<Buffer> {
    use windows_sys::Win32::System::Diagnostics::Debug::ReadProcessMemory;
    let mut buf = Buffer::new(len);
    let mut got = 0usize;
    // SAFETY: `process` is live with PROCESS_VM_READ; `buf` holds at least `len` writable
    // bytes; the address is only a number in the other process, which the kernel checks.
    let ok = unsafe {
        ReadProcessMemory(
            process.as_raw_handle(),
            address as *const c_void,
            buf.ptr(),
            len,
            &mut got,
        )
    };
    if ok == 0 || got < len {
        return Err(io::Error::last_os_error());
    }
    Ok(buf)
}

/// A process's standard input, output and error handle values and its command line,
/// read from its PEB (needs PROCESS_QUERY_LIMITED_INFORMATION and PROCESS_VM_READ).
pub(crate) fn process_parameters(process: BorrowedHandle<'_>) -> io::Result<([u64; 3], String)> {
    use windows_sys::Wdk::System::Threading::NtQueryInformationProcess;
    let mut basic = Buffer::new(parse::PROCESS_BASIC_SIZE);
    let mut len = 0u32;
    // SAFETY: `process` is live; class 0 (ProcessBasicInformation) writes
    // PROCESS_BASIC_SIZE bytes into `basic`, which holds that many aligned bytes.
    let status = unsafe {
        NtQueryInformationProcess(
            process.as_raw_handle(),
            0,
            basic.ptr(),
            parse::PROCESS_BASIC_SIZE as u32,
            &mut len,
        )
    };
    if status < 0 {
        return Err(nt_error(status));
    }
    let word = |b: &Buffer, at: usize| -> io::Result<u64> {
        let bytes = b
            .bytes()
            .get(at..at + 8)
            .ok_or(io::ErrorKind::InvalidData)?;
        Ok(u64::from_le_bytes(
            bytes.try_into().map_err(|_| io::ErrorKind::InvalidData)?,
        ))
    };
    let peb = word(&basic, parse::BASIC_PEB)?;
    let at = read_memory(process, peb + parse::PEB_PARAMETERS as u64, 8)?;
    let params_at = word(&at, 0)?;
    let block = read_memory(process, params_at, parse::params::READ)?;
    let p = parse::process_params(block.bytes()).map_err(parse_error)?;
    let (cmd_len, cmd_at) = p.command_line;
    let command = if cmd_len == 0 || cmd_at == 0 {
        String::new()
    } else {
        let text = read_memory(process, cmd_at, cmd_len.min(64 << 10))?;
        parse::utf16_bytes(&text.bytes()[..cmd_len.min(64 << 10)])
    };
    Ok((p.std, command))
}
