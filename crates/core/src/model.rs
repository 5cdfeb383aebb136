//! The model every backend fills in and every printer reads: processes, the handles they
//! hold, the objects those handles point at, and what each handle may do.
//!
//! One name for one idea on both systems: a Linux fd is a [`Handle`], an inode (or a
//! Windows kernel object) is the object, identified by an [`ObjectId`].

use std::borrow::Cow;
use std::fmt;

/// A process id.
pub type Pid = u32;

/// What kind of object a handle refers to, in the words of its OS: `pipe`, `fifo`, `file`,
/// `socket`, `eventfd`… on Linux; `File`, `Process`, `Event`… on Windows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectType(pub Cow<'static, str>);

impl ObjectType {
    /// A type known at compile time.
    pub const fn new(name: &'static str) -> Self {
        ObjectType(Cow::Borrowed(name))
    }
    /// The type's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a handle may do with its object's data, in short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Read only.
    Read,
    /// Write only.
    Write,
    /// Read and write.
    ReadWrite,
    /// Neither (an `O_PATH` descriptor; a handle with no data access).
    None,
    /// Not known (the backend could not tell).
    Unknown,
}

impl Mode {
    /// `r`, `w`, `rw`, `-` or `?`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Read => "r",
            Mode::Write => "w",
            Mode::ReadWrite => "rw",
            Mode::None => "-",
            Mode::Unknown => "?",
        }
    }
    /// Whether the handle can read.
    pub fn reads(self) -> bool {
        matches!(self, Mode::Read | Mode::ReadWrite)
    }
    /// Whether the handle can write.
    pub fn writes(self) -> bool {
        matches!(self, Mode::Write | Mode::ReadWrite)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of the kernel object behind a handle: two handles with equal ids refer to
/// the same object (the same pipe, the same file).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectId {
    /// A Linux inode. For pipes and sockets `dev` is 0 (their pseudo file system is one
    /// per machine); for files it is the mount id from fdinfo, or the device when known.
    Inode {
        /// Device or mount id (0 for pipefs and sockfs).
        dev: u64,
        /// Inode number.
        ino: u64,
    },
    /// A Windows kernel object address (visible to administrators on most versions).
    Address(u64),
    /// An object known only by its name (for example a Wine anonymous pipe).
    Name(String),
}

/// Which kind of pipe a handle is an end of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PipeKind {
    /// An anonymous pipe (`pipe(2)`, `CreatePipe`).
    Anonymous,
    /// A named FIFO in the file system (`mkfifo`).
    Fifo,
    /// A Windows named pipe.
    Named,
}

impl PipeKind {
    /// `anonymous`, `fifo` or `named`.
    pub fn as_str(self) -> &'static str {
        match self {
            PipeKind::Anonymous => "anonymous",
            PipeKind::Fifo => "fifo",
            PipeKind::Named => "named",
        }
    }
}

/// A handle's name as the OS gives it: a path, `pipe:[8844]`, `\Device\NamedPipe\…`.
///
/// Kept as raw bytes because Linux paths need not be UTF-8; Windows names are stored as
/// UTF-8 (converted from UTF-16).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(pub Vec<u8>);

impl Name {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The name as text, with invalid UTF-8 replaced (for display only; see
    /// [`Name::as_bytes`] for the exact bytes).
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
    /// Whether the name is empty (the OS gave none).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(s.as_bytes().to_vec())
    }
}

/// Another handle that shares this handle's open file description (Linux) — both were
/// made from one open by `dup` or `fork` — so a change of offset or flags through one is
/// seen through the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandleRef {
    /// The process holding the other handle.
    pub pid: Pid,
    /// The other handle.
    pub handle: u64,
}

/// The Handle Properties: details a scan gathers only when asked (`--long`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandleDetails {
    /// File position (`pos:` of fdinfo).
    pub pos: Option<u64>,
    /// Mount id (`mnt_id:` of fdinfo).
    pub mnt_id: Option<u64>,
    /// Inode number (`ino:` of fdinfo, or the number in `pipe:[N]`).
    pub ino: Option<u64>,
    /// Other handles sharing this open file description, where the OS can tell.
    pub shared_with: Vec<HandleRef>,
    /// Type-specific lines (eventfd count, timerfd clock, epoll targets, `scm_fds`…), in
    /// the order the OS gives them, as `key`, `value`.
    pub extra: Vec<(String, String)>,
    /// Windows: the kernel object's address; `None` when the OS hides it.
    pub object_address: Option<u64>,
    /// Windows: handle count of the object.
    pub handle_count: Option<u32>,
    /// Windows: pointer (reference) count of the object.
    pub pointer_count: Option<u32>,
    /// Windows: paged pool quota charge.
    pub paged_quota: Option<u32>,
    /// Windows: non-paged pool quota charge.
    pub nonpaged_quota: Option<u32>,
    /// Windows: handle attributes (`inherit`, `protect-from-close`, `audit`).
    pub attributes: Vec<&'static str>,
    /// Linux, a UNIX socket: how many descriptors are in flight in it (sent with
    /// `SCM_RIGHTS`, not yet received; fdinfo `scm_fds:`), when read.
    pub scm_fds: Option<u64>,
    /// Why the handle's name could not be read, when it could not (Windows: a name query
    /// that did not answer in time, as on a synchronous pipe with a read pending). A
    /// handle whose name is unavailable always has details, even without `long`.
    pub name_unavailable: Option<String>,
}

/// One handle (a Linux fd) held by a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handle {
    /// The handle value (fd number).
    pub handle: u64,
    /// What the object is.
    pub object_type: ObjectType,
    /// What the handle may do with the data, in short.
    pub mode: Mode,
    /// The object's name as the OS gives it.
    pub name: Name,
    /// The object's identity, when the backend knows it.
    pub object: Option<ObjectId>,
    /// `Some` when the handle is an end of a pipe.
    pub pipe: Option<PipeKind>,
    /// Linux: the open flags (`flags:` of fdinfo, e.g. `O_WRONLY|O_CLOEXEC`).
    pub flags: Option<u32>,
    /// Windows: the granted access mask.
    pub access: Option<u32>,
    /// Handle Properties, filled in by a `long` scan.
    pub details: Option<Box<HandleDetails>>,
}

/// A process and the handles it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// Process id.
    pub pid: Pid,
    /// Parent process id, when known.
    pub ppid: Option<Pid>,
    /// Short name (Linux `comm`; Windows image name). Bytes that are not valid UTF-8
    /// (a Linux `comm` may hold any) are replaced by U+FFFD; see `name_bytes`.
    pub name: String,
    /// The exact bytes of the short name when they are not valid UTF-8; `None` when
    /// `name` is exact.
    pub name_bytes: Option<Vec<u8>>,
    /// Owner's user name (or numeric id when it has no name).
    pub user: Option<String>,
    /// Owner's numeric user id (Linux).
    pub uid: Option<u32>,
    /// Start time, milliseconds since the Unix epoch, when known.
    pub start_time_ms: Option<u64>,
    /// The handles, in handle order.
    pub handles: Vec<Handle>,
}

/// A process the scan could not inspect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanError {
    /// The process.
    pub pid: Pid,
    /// Its name, when it could still be read.
    pub process: Option<String>,
    /// What kind of failure.
    pub kind: crate::ErrorKind,
    /// One line for a person, e.g. "permission denied".
    pub message: String,
}

/// What one scan saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The processes inspected, by pid.
    pub processes: Vec<Process>,
    /// Processes that could not be inspected.
    pub errors: Vec<ScanError>,
    /// How many processes exited while they were being scanned (skipped quietly).
    pub vanished: usize,
}

/// Which process a selector names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessSelector {
    /// By id.
    Pid(Pid),
    /// By short name (exact match of `comm` / image name, case-insensitive on Windows).
    Name(String),
}

impl From<&str> for ProcessSelector {
    /// A process id when the text is one, else a name: `"42"` is pid 42, `"cat"` the
    /// processes named `cat`.
    fn from(text: &str) -> Self {
        match text.parse() {
            Ok(pid) => ProcessSelector::Pid(pid),
            Err(_) => ProcessSelector::Name(text.to_owned()),
        }
    }
}

impl std::str::FromStr for ProcessSelector {
    type Err = std::convert::Infallible;

    /// As [`ProcessSelector::from`]; never fails.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(ProcessSelector::from(text))
    }
}

impl ProcessSelector {
    /// Whether the process `pid` with short name `name` (Linux `comm`, Windows image
    /// name) is one this selector names. Names match exactly; Windows image names match
    /// in any case, with or without `.exe`, as Windows users type them.
    pub fn matches(&self, pid: Pid, name: &[u8]) -> bool {
        match self {
            ProcessSelector::Pid(p) => *p == pid,
            ProcessSelector::Name(n) if cfg!(windows) => {
                let n = n.as_bytes();
                let stem = name
                    .len()
                    .checked_sub(4)
                    .filter(|&i| name[i..].eq_ignore_ascii_case(b".exe"))
                    .map(|i| &name[..i]);
                n.eq_ignore_ascii_case(name) || stem.is_some_and(|s| n.eq_ignore_ascii_case(s))
            }
            ProcessSelector::Name(n) => n.as_bytes() == name,
        }
    }
}

/// What to scan and how much to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Only these processes; empty means every process.
    pub processes: Vec<ProcessSelector>,
    /// Gather [`HandleDetails`] for every handle (costs an fdinfo read per fd on Linux).
    pub long: bool,
    /// Read the open flags of every handle (fdinfo on Linux) even without `long`.
    pub flags: bool,
    /// Only handles that are pipe ends (lets a backend skip work on others), plus the
    /// sockets holding descriptors in flight (on Linux: `scm_fds` above 0, given in
    /// [`HandleDetails::extra`]). Ends sharing an open file description are marked in
    /// [`HandleDetails::shared_with`] where the OS tells.
    pub pipes_only: bool,
}

/// An OS handle this process owns; dropping it closes it. It converts into
/// [`std::process::Stdio`], so it can be given to a child process.
#[cfg(unix)]
pub type OwnedHandle = std::os::fd::OwnedFd;
/// An OS handle this process owns; dropping it closes it. It converts into
/// [`std::process::Stdio`], so it can be given to a child process.
#[cfg(windows)]
pub type OwnedHandle = std::os::windows::io::OwnedHandle;
/// An OS handle this process owns (no such thing on this system).
#[cfg(not(any(unix, windows)))]
pub type OwnedHandle = std::convert::Infallible;

/// An anonymous pipe made by [`crate::create_pipe`] in this process, described the way
/// `pipescope pipe` shows it: both ends as [`Handle`]s with their details, the pipe's
/// capacity, and the OS handles themselves (so one end can be inherited by a child).
#[derive(Debug)]
pub struct PipeDemo {
    /// This process.
    pub pid: Pid,
    /// The read end, as a scan of this process sees it (with details).
    pub read: Handle,
    /// The write end, as a scan of this process sees it (with details).
    pub write: Handle,
    /// Bytes the pipe can hold before a writer blocks (Linux `F_GETPIPE_SZ`; the buffer
    /// size on Windows), when known.
    pub capacity: Option<u64>,
    /// The read end's OS handle; `take()` it to give it away (closing it when dropped).
    pub read_handle: Option<OwnedHandle>,
    /// The write end's OS handle; `take()` it to give it away (closing it when dropped).
    pub write_handle: Option<OwnedHandle>,
}

/// An object type as the running kernel describes it (Windows `ObjectTypesInformation`):
/// its live generic mapping and how many objects and handles of it exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveObjectType {
    /// The type's name (`File`, `Process`…).
    pub name: String,
    /// GENERIC_READ, GENERIC_WRITE, GENERIC_EXECUTE and GENERIC_ALL mapped to the
    /// type's specific and standard rights.
    pub generic_mapping: [u32; 4],
    /// Every right valid for the type.
    pub valid_access: u32,
    /// Objects of this type that exist.
    pub objects: u32,
    /// Handles to objects of this type that exist.
    pub handles: u32,
}

/// How this OS writes a handle value, everywhere pipescope shows one: a decimal fd on
/// Unix (`4`), hexadecimal on Windows (`0x38`), as the OS's own tools do.
pub fn handle_value(handle: u64) -> String {
    if cfg!(windows) {
        format!("{handle:#x}")
    } else {
        handle.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_and_match() {
        let by_pid: ProcessSelector = "42".parse().unwrap();
        assert_eq!(by_pid, ProcessSelector::Pid(42));
        assert!(by_pid.matches(42, b"anything"));
        assert!(!by_pid.matches(43, b"42"));
        let by_name: ProcessSelector = "cat".parse().unwrap();
        assert_eq!(by_name, ProcessSelector::Name("cat".into()));
        assert!(by_name.matches(7, b"cat"));
        assert!(!by_name.matches(7, b"cats"));
        assert!(!by_name.matches(7, b"ca"));
        // Non-UTF-8 names are compared as bytes.
        assert!(!by_name.matches(7, b"c\xffat"));
        let windows = cfg!(windows);
        assert_eq!(by_name.matches(7, b"CAT.EXE"), windows);
        assert_eq!(by_name.matches(7, b"cat.exe"), windows);
        assert_eq!(by_name.matches(7, b"Cat"), windows);
        assert!(!by_name.matches(7, b".exe"));
    }

    #[test]
    fn handle_values_are_written_as_the_os_writes_them() {
        let want = if cfg!(windows) { "0x34" } else { "52" };
        assert_eq!(handle_value(0x34), want);
    }
}
