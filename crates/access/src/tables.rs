//! The tables: one per object type, as data. Each table says where its values come from.
//!
//! Sources, cited per table below:
//! - SDK: Debian's mingw-w64 headers (`winnt.h`, `winuser.h`, `winsvc.h`, `memoryapi.h`,
//!   `evntrace.h`, `sddl.h`), which carry the values of Microsoft's Windows SDK.
//! - phnt: System Informer's native API headers (`phnt/include/*.h`), for the rights of
//!   kernel types the SDK does not define (`DEBUG_*`, `KEYEDEVENT_*`, `PORT_*`…).
//! - Kernel mappings: the generic mappings the Windows 10 2004 kernel reports for each
//!   type (`NtQueryObject(ObjectTypesInformation)`), as dumped by mtth-bfft/nt-object-types
//!   (`results/10.0.19361_2004.txt`).
//! - Docs: Microsoft Learn ("Service Security and Access Rights") for the service control
//!   manager's mappings, which are not kernel types.
//!
//! The set of kernel types follows System Informer's `phlib/secdata.c`.

use crate::fd::{FD_FLAGS, FD_SYNONYMS};
use crate::model::{GenericMapping, Kind, Right, TypeInfo};

macro_rules! r {
    ($name:ident = $bits:expr, $doc:expr) => {
        Right {
            name: stringify!($name),
            bits: $bits,
            doc: $doc,
        }
    };
}

const fn gm(read: u32, write: u32, execute: u32, all: u32) -> Option<GenericMapping> {
    Some(GenericMapping {
        read,
        write,
        execute,
        all,
    })
}

/// `STANDARD_RIGHTS_REQUIRED`: delete, read control, write DAC, write owner.
pub const STANDARD_RIGHTS_REQUIRED: u32 = 0x000F_0000;
/// `SYNCHRONIZE`.
pub const SYNCHRONIZE: u32 = 0x0010_0000;
/// `READ_CONTROL` (also `STANDARD_RIGHTS_READ`, `_WRITE`, `_EXECUTE`).
pub const READ_CONTROL: u32 = 0x0002_0000;
/// The generic bits, 28–31.
pub const GENERIC_BITS: u32 = 0xF000_0000;
/// `GENERIC_READ`.
pub const GENERIC_READ: u32 = 0x8000_0000;
/// `GENERIC_WRITE`.
pub const GENERIC_WRITE: u32 = 0x4000_0000;
/// `GENERIC_EXECUTE`.
pub const GENERIC_EXECUTE: u32 = 0x2000_0000;
/// `GENERIC_ALL`.
pub const GENERIC_ALL: u32 = 0x1000_0000;
/// The bits every object type shares: standard, special and generic.
pub const COMMON_BITS: u32 = 0x001F_0000 | 0x0300_0000 | GENERIC_BITS;
/// The specific bits, 0–15.
pub const SPECIFIC_BITS: u32 = 0x0000_FFFF;

const SRR: u32 = STANDARD_RIGHTS_REQUIRED;
const SYN: u32 = SYNCHRONIZE;
const RC: u32 = READ_CONTROL;

/// Standard rights, shared by every object type (SDK `winnt.h`).
pub const STANDARD: &[Right] = &[
    r!(DELETE = 0x0001_0000, "delete"),
    r!(READ_CONTROL = 0x0002_0000, "read control"),
    r!(WRITE_DAC = 0x0004_0000, "write DAC"),
    r!(WRITE_OWNER = 0x0008_0000, "write owner"),
    r!(SYNCHRONIZE = 0x0010_0000, "synchronize"),
];

/// Special bits: the SACL right and the "as much as allowed" request (SDK `winnt.h`).
pub const SPECIAL: &[Right] = &[
    r!(ACCESS_SYSTEM_SECURITY = 0x0100_0000, "access the SACL"),
    r!(MAXIMUM_ALLOWED = 0x0200_0000, "maximum allowed"),
];

/// Generic rights, in bit order (SDK `winnt.h`).
pub const GENERIC: &[Right] = &[
    r!(GENERIC_ALL = GENERIC_ALL, "generic all"),
    r!(GENERIC_EXECUTE = GENERIC_EXECUTE, "generic execute"),
    r!(GENERIC_WRITE = GENERIC_WRITE, "generic write"),
    r!(GENERIC_READ = GENERIC_READ, "generic read"),
];

/// Other names of standard bits (SDK `winnt.h`).
pub const COMMON_SYNONYMS: &[Right] = &[
    r!(STANDARD_RIGHTS_READ = RC, "read control"),
    r!(STANDARD_RIGHTS_WRITE = RC, "read control"),
    r!(STANDARD_RIGHTS_EXECUTE = RC, "read control"),
];

/// Combinations of standard bits, folded after a type's own combinations (SDK `winnt.h`).
pub const COMMON_COMBOS: &[Right] = &[
    r!(STANDARD_RIGHTS_ALL = 0x001F_0000, "all standard rights"),
    r!(
        STANDARD_RIGHTS_REQUIRED = SRR,
        "delete, read control, write DAC, write owner"
    ),
];

/// SDDL access-right codes (SDK `sddl.h`; the directory-service codes carry the bit values
/// of `ADS_RIGHT_DS_*` in `iads.h`, and apply to any type's specific bits).
pub const SDDL_CODES: &[(&str, u32)] = &[
    ("GA", GENERIC_ALL),
    ("GR", GENERIC_READ),
    ("GW", GENERIC_WRITE),
    ("GX", GENERIC_EXECUTE),
    ("RC", RC),
    ("SD", 0x0001_0000),
    ("WD", 0x0004_0000),
    ("WO", 0x0008_0000),
    ("CC", 0x0001),
    ("DC", 0x0002),
    ("LC", 0x0004),
    ("SW", 0x0008),
    ("RP", 0x0010),
    ("WP", 0x0020),
    ("DT", 0x0040),
    ("LO", 0x0080),
    ("CR", 0x0100),
    ("FA", FILE_ALL_ACCESS),
    ("FR", FILE_GENERIC_READ),
    ("FW", FILE_GENERIC_WRITE),
    ("FX", FILE_GENERIC_EXECUTE),
    ("KA", 0x000F_003F),
    ("KR", 0x0002_0019),
    ("KW", 0x0002_0006),
    ("KX", 0x0002_0019),
];

// ---- files, directories, pipes (SDK winnt.h; mapping: kernel, type File) -------------

const FILE_ALL_ACCESS: u32 = SRR | SYN | 0x1FF;
const FILE_GENERIC_READ: u32 = RC | 0x0001 | 0x0080 | 0x0008 | SYN;
const FILE_GENERIC_WRITE: u32 = RC | 0x0002 | 0x0100 | 0x0010 | 0x0004 | SYN;
const FILE_GENERIC_EXECUTE: u32 = RC | 0x0080 | 0x0020 | SYN;
const FILE_MAPPING: Option<GenericMapping> = gm(0x0012_0089, 0x0012_0116, 0x0012_00A0, 0x001F_01FF);

const FILE_COMBOS: &[Right] = &[
    r!(FILE_ALL_ACCESS = FILE_ALL_ACCESS, "full control"),
    r!(FILE_GENERIC_WRITE = FILE_GENERIC_WRITE, "generic write"),
    r!(FILE_GENERIC_READ = FILE_GENERIC_READ, "generic read"),
    r!(
        FILE_GENERIC_EXECUTE = FILE_GENERIC_EXECUTE,
        "generic execute"
    ),
];

const FILE_RIGHTS: &[Right] = &[
    r!(FILE_READ_DATA = 0x0001, "read data"),
    r!(FILE_WRITE_DATA = 0x0002, "write data"),
    r!(FILE_APPEND_DATA = 0x0004, "append data"),
    r!(FILE_READ_EA = 0x0008, "read extended attributes"),
    r!(FILE_WRITE_EA = 0x0010, "write extended attributes"),
    r!(FILE_EXECUTE = 0x0020, "execute"),
    r!(FILE_DELETE_CHILD = 0x0040, "delete children"),
    r!(FILE_READ_ATTRIBUTES = 0x0080, "read attributes"),
    r!(FILE_WRITE_ATTRIBUTES = 0x0100, "write attributes"),
];

const FILE_DIR_RIGHTS: &[Right] = &[
    r!(FILE_LIST_DIRECTORY = 0x0001, "list directory"),
    r!(FILE_ADD_FILE = 0x0002, "add file"),
    r!(FILE_ADD_SUBDIRECTORY = 0x0004, "add subdirectory"),
    r!(FILE_READ_EA = 0x0008, "read extended attributes"),
    r!(FILE_WRITE_EA = 0x0010, "write extended attributes"),
    r!(FILE_TRAVERSE = 0x0020, "traverse"),
    r!(FILE_DELETE_CHILD = 0x0040, "delete children"),
    r!(FILE_READ_ATTRIBUTES = 0x0080, "read attributes"),
    r!(FILE_WRITE_ATTRIBUTES = 0x0100, "write attributes"),
];

const PIPE_RIGHTS: &[Right] = &[
    r!(FILE_READ_DATA = 0x0001, "read data"),
    r!(FILE_WRITE_DATA = 0x0002, "write data"),
    r!(FILE_CREATE_PIPE_INSTANCE = 0x0004, "create pipe instance"),
    r!(FILE_READ_EA = 0x0008, "read extended attributes"),
    r!(FILE_WRITE_EA = 0x0010, "write extended attributes"),
    r!(FILE_EXECUTE = 0x0020, "execute"),
    r!(FILE_DELETE_CHILD = 0x0040, "delete children"),
    r!(FILE_READ_ATTRIBUTES = 0x0080, "read attributes"),
    r!(FILE_WRITE_ATTRIBUTES = 0x0100, "write attributes"),
];

const FILE_SYNONYMS: &[Right] = &[
    r!(FILE_LIST_DIRECTORY = 0x0001, "list directory"),
    r!(FILE_ADD_FILE = 0x0002, "add file"),
    r!(FILE_ADD_SUBDIRECTORY = 0x0004, "add subdirectory"),
    r!(FILE_CREATE_PIPE_INSTANCE = 0x0004, "create pipe instance"),
    r!(FILE_TRAVERSE = 0x0020, "traverse"),
];
const FILE_DIR_SYNONYMS: &[Right] = &[
    r!(FILE_READ_DATA = 0x0001, "read data"),
    r!(FILE_WRITE_DATA = 0x0002, "write data"),
    r!(FILE_APPEND_DATA = 0x0004, "append data"),
    r!(FILE_CREATE_PIPE_INSTANCE = 0x0004, "create pipe instance"),
    r!(FILE_EXECUTE = 0x0020, "execute"),
];
const PIPE_SYNONYMS: &[Right] = &[
    r!(FILE_LIST_DIRECTORY = 0x0001, "list directory"),
    r!(FILE_ADD_FILE = 0x0002, "add file"),
    r!(FILE_APPEND_DATA = 0x0004, "append data"),
    r!(FILE_ADD_SUBDIRECTORY = 0x0004, "add subdirectory"),
    r!(FILE_TRAVERSE = 0x0020, "traverse"),
];

// ---- processes, threads, jobs (SDK winnt.h; phnt ntpsapi.h for the newer bits) -------

const PROCESS_RIGHTS: &[Right] = &[
    r!(PROCESS_TERMINATE = 0x0001, "terminate"),
    r!(PROCESS_CREATE_THREAD = 0x0002, "create threads"),
    r!(PROCESS_SET_SESSIONID = 0x0004, "set session id"),
    r!(
        PROCESS_VM_OPERATION = 0x0008,
        "change memory protection and mappings"
    ),
    r!(PROCESS_VM_READ = 0x0010, "read memory"),
    r!(PROCESS_VM_WRITE = 0x0020, "write memory"),
    r!(PROCESS_DUP_HANDLE = 0x0040, "duplicate handles"),
    r!(PROCESS_CREATE_PROCESS = 0x0080, "create child processes"),
    r!(PROCESS_SET_QUOTA = 0x0100, "set quotas"),
    r!(PROCESS_SET_INFORMATION = 0x0200, "set information"),
    r!(PROCESS_QUERY_INFORMATION = 0x0400, "query information"),
    r!(PROCESS_SUSPEND_RESUME = 0x0800, "suspend and resume"),
    r!(
        PROCESS_QUERY_LIMITED_INFORMATION = 0x1000,
        "query limited information"
    ),
    r!(
        PROCESS_SET_LIMITED_INFORMATION = 0x2000,
        "set limited information"
    ),
];

const THREAD_RIGHTS: &[Right] = &[
    r!(THREAD_TERMINATE = 0x0001, "terminate"),
    r!(THREAD_SUSPEND_RESUME = 0x0002, "suspend and resume"),
    r!(THREAD_ALERT = 0x0004, "alert"),
    r!(THREAD_GET_CONTEXT = 0x0008, "get context"),
    r!(THREAD_SET_CONTEXT = 0x0010, "set context"),
    r!(THREAD_SET_INFORMATION = 0x0020, "set information"),
    r!(THREAD_QUERY_INFORMATION = 0x0040, "query information"),
    r!(THREAD_SET_THREAD_TOKEN = 0x0080, "set token"),
    r!(THREAD_IMPERSONATE = 0x0100, "impersonate"),
    r!(THREAD_DIRECT_IMPERSONATION = 0x0200, "direct impersonation"),
    r!(
        THREAD_SET_LIMITED_INFORMATION = 0x0400,
        "set limited information"
    ),
    r!(
        THREAD_QUERY_LIMITED_INFORMATION = 0x0800,
        "query limited information"
    ),
    r!(THREAD_RESUME = 0x1000, "resume"),
];

const JOB_RIGHTS: &[Right] = &[
    r!(JOB_OBJECT_ASSIGN_PROCESS = 0x0001, "assign processes"),
    r!(JOB_OBJECT_SET_ATTRIBUTES = 0x0002, "set attributes"),
    r!(JOB_OBJECT_QUERY = 0x0004, "query"),
    r!(JOB_OBJECT_TERMINATE = 0x0008, "terminate"),
    r!(
        JOB_OBJECT_SET_SECURITY_ATTRIBUTES = 0x0010,
        "set security attributes"
    ),
    r!(JOB_OBJECT_IMPERSONATE = 0x0020, "impersonate"),
];

// ---- tokens (SDK winnt.h) --------------------------------------------------------------

const TOKEN_RIGHTS: &[Right] = &[
    r!(TOKEN_ASSIGN_PRIMARY = 0x0001, "assign as primary token"),
    r!(TOKEN_DUPLICATE = 0x0002, "duplicate"),
    r!(TOKEN_IMPERSONATE = 0x0004, "impersonate"),
    r!(TOKEN_QUERY = 0x0008, "query"),
    r!(TOKEN_QUERY_SOURCE = 0x0010, "query source"),
    r!(TOKEN_ADJUST_PRIVILEGES = 0x0020, "adjust privileges"),
    r!(TOKEN_ADJUST_GROUPS = 0x0040, "adjust groups"),
    r!(TOKEN_ADJUST_DEFAULT = 0x0080, "adjust defaults"),
    r!(TOKEN_ADJUST_SESSIONID = 0x0100, "adjust session id"),
];

// ---- registry keys (SDK winnt.h) -------------------------------------------------------

const KEY_RIGHTS: &[Right] = &[
    r!(KEY_QUERY_VALUE = 0x0001, "query values"),
    r!(KEY_SET_VALUE = 0x0002, "set values"),
    r!(KEY_CREATE_SUB_KEY = 0x0004, "create subkeys"),
    r!(KEY_ENUMERATE_SUB_KEYS = 0x0008, "enumerate subkeys"),
    r!(KEY_NOTIFY = 0x0010, "notify"),
    r!(KEY_CREATE_LINK = 0x0020, "create links"),
    r!(KEY_WOW64_64KEY = 0x0100, "64-bit registry view"),
    r!(KEY_WOW64_32KEY = 0x0200, "32-bit registry view"),
];

// ---- window stations and desktops (SDK winuser.h; combinations: phnt_windows.h) ------

const DESKTOP_RIGHTS: &[Right] = &[
    r!(DESKTOP_READOBJECTS = 0x0001, "read objects"),
    r!(DESKTOP_CREATEWINDOW = 0x0002, "create windows"),
    r!(DESKTOP_CREATEMENU = 0x0004, "create menus"),
    r!(DESKTOP_HOOKCONTROL = 0x0008, "install hooks"),
    r!(DESKTOP_JOURNALRECORD = 0x0010, "record journals"),
    r!(DESKTOP_JOURNALPLAYBACK = 0x0020, "play back journals"),
    r!(DESKTOP_ENUMERATE = 0x0040, "enumerate"),
    r!(DESKTOP_WRITEOBJECTS = 0x0080, "write objects"),
    r!(DESKTOP_SWITCHDESKTOP = 0x0100, "switch desktop"),
];

const WINSTA_RIGHTS: &[Right] = &[
    r!(WINSTA_ENUMDESKTOPS = 0x0001, "enumerate desktops"),
    r!(WINSTA_READATTRIBUTES = 0x0002, "read attributes"),
    r!(WINSTA_ACCESSCLIPBOARD = 0x0004, "use the clipboard"),
    r!(WINSTA_CREATEDESKTOP = 0x0008, "create desktops"),
    r!(WINSTA_WRITEATTRIBUTES = 0x0010, "write attributes"),
    r!(WINSTA_ACCESSGLOBALATOMS = 0x0020, "use global atoms"),
    r!(WINSTA_EXITWINDOWS = 0x0040, "exit windows"),
    r!(WINSTA_ENUMERATE = 0x0100, "enumerate"),
    r!(WINSTA_READSCREEN = 0x0200, "read the screen"),
];

// ---- services (SDK winsvc.h) ------------------------------------------------------------

const SERVICE_RIGHTS: &[Right] = &[
    r!(SERVICE_QUERY_CONFIG = 0x0001, "query configuration"),
    r!(SERVICE_CHANGE_CONFIG = 0x0002, "change configuration"),
    r!(SERVICE_QUERY_STATUS = 0x0004, "query status"),
    r!(
        SERVICE_ENUMERATE_DEPENDENTS = 0x0008,
        "enumerate dependents"
    ),
    r!(SERVICE_START = 0x0010, "start"),
    r!(SERVICE_STOP = 0x0020, "stop"),
    r!(SERVICE_PAUSE_CONTINUE = 0x0040, "pause and continue"),
    r!(SERVICE_INTERROGATE = 0x0080, "interrogate"),
    r!(
        SERVICE_USER_DEFINED_CONTROL = 0x0100,
        "send user-defined controls"
    ),
];

const SCM_RIGHTS: &[Right] = &[
    r!(SC_MANAGER_CONNECT = 0x0001, "connect"),
    r!(SC_MANAGER_CREATE_SERVICE = 0x0002, "create services"),
    r!(SC_MANAGER_ENUMERATE_SERVICE = 0x0004, "enumerate services"),
    r!(SC_MANAGER_LOCK = 0x0008, "lock the database"),
    r!(SC_MANAGER_QUERY_LOCK_STATUS = 0x0010, "query lock status"),
    r!(
        SC_MANAGER_MODIFY_BOOT_CONFIG = 0x0020,
        "modify boot configuration"
    ),
];

// ---- ETW and WMI (SDK evntrace.h / wmistr.h; combinations: phnt_windows.h) ------------

const WMIGUID_RIGHTS: &[Right] = &[
    r!(WMIGUID_QUERY = 0x0001, "query"),
    r!(WMIGUID_SET = 0x0002, "set"),
    r!(WMIGUID_NOTIFICATION = 0x0004, "receive notifications"),
    r!(WMIGUID_READ_DESCRIPTION = 0x0008, "read description"),
    r!(WMIGUID_EXECUTE = 0x0010, "execute methods"),
    r!(
        TRACELOG_CREATE_REALTIME = 0x0020,
        "create real-time sessions"
    ),
    r!(TRACELOG_CREATE_ONDISK = 0x0040, "create log-file sessions"),
    r!(TRACELOG_GUID_ENABLE = 0x0080, "enable providers"),
    r!(
        TRACELOG_ACCESS_KERNEL_LOGGER = 0x0100,
        "use the kernel logger"
    ),
    r!(TRACELOG_LOG_EVENT = 0x0200, "log events"),
    r!(
        TRACELOG_ACCESS_REALTIME = 0x0400,
        "consume real-time events"
    ),
    r!(TRACELOG_REGISTER_GUIDS = 0x0800, "register providers"),
    r!(TRACELOG_JOIN_GROUP = 0x1000, "join provider groups"),
];
const WMIGUID_SYNONYMS: &[Right] = &[r!(TRACELOG_CREATE_INPROC = 0x0200, "log events")];
const WMIGUID_COMBOS: &[Right] = &[
    r!(WMIGUID_ALL_ACCESS = 0x0012_1FFF, "full control"),
    r!(WMIGUID_GENERIC_EXECUTE = 0x0002_0E90, "generic execute"),
    r!(WMIGUID_GENERIC_READ = 0x0002_000D, "generic read"),
    r!(WMIGUID_GENERIC_WRITE = 0x0002_0062, "generic write"),
];

// ---- transactions (SDK winnt.h, KTM) ------------------------------------------------------

const TM_RIGHTS: &[Right] = &[
    r!(
        TRANSACTIONMANAGER_QUERY_INFORMATION = 0x0001,
        "query information"
    ),
    r!(
        TRANSACTIONMANAGER_SET_INFORMATION = 0x0002,
        "set information"
    ),
    r!(TRANSACTIONMANAGER_RECOVER = 0x0004, "recover"),
    r!(TRANSACTIONMANAGER_RENAME = 0x0008, "rename"),
    r!(
        TRANSACTIONMANAGER_CREATE_RM = 0x0010,
        "create resource managers"
    ),
    r!(
        TRANSACTIONMANAGER_BIND_TRANSACTION = 0x0020,
        "bind transactions"
    ),
];
const TX_RIGHTS: &[Right] = &[
    r!(TRANSACTION_QUERY_INFORMATION = 0x0001, "query information"),
    r!(TRANSACTION_SET_INFORMATION = 0x0002, "set information"),
    r!(TRANSACTION_ENLIST = 0x0004, "enlist"),
    r!(TRANSACTION_COMMIT = 0x0008, "commit"),
    r!(TRANSACTION_ROLLBACK = 0x0010, "roll back"),
    r!(TRANSACTION_PROPAGATE = 0x0020, "propagate"),
];
const RM_RIGHTS: &[Right] = &[
    r!(
        RESOURCEMANAGER_QUERY_INFORMATION = 0x0001,
        "query information"
    ),
    r!(RESOURCEMANAGER_SET_INFORMATION = 0x0002, "set information"),
    r!(RESOURCEMANAGER_RECOVER = 0x0004, "recover"),
    r!(RESOURCEMANAGER_ENLIST = 0x0008, "enlist"),
    r!(
        RESOURCEMANAGER_GET_NOTIFICATION = 0x0010,
        "get notifications"
    ),
    r!(
        RESOURCEMANAGER_REGISTER_PROTOCOL = 0x0020,
        "register protocols"
    ),
    r!(
        RESOURCEMANAGER_COMPLETE_PROPAGATION = 0x0040,
        "complete propagation"
    ),
];
const EN_RIGHTS: &[Right] = &[
    r!(ENLISTMENT_QUERY_INFORMATION = 0x0001, "query information"),
    r!(ENLISTMENT_SET_INFORMATION = 0x0002, "set information"),
    r!(ENLISTMENT_RECOVER = 0x0004, "recover"),
    r!(ENLISTMENT_SUBORDINATE_RIGHTS = 0x0008, "subordinate rights"),
    r!(ENLISTMENT_SUPERIOR_RIGHTS = 0x0010, "superior rights"),
];

// ---- SAM and LSA (phnt ntsam.h, ntlsa.h): not kernel objects, but what Security events
// 4656/4661 report on SAM_SERVER, SAM_DOMAIN, SAM_USER… objects. Their generic mappings
// are the headers' XXX_READ/WRITE/EXECUTE/ALL_ACCESS, which the SAM and LSA servers use
// as such. -------------------------------------------------------------------------------

const SAM_SERVER_RIGHTS: &[Right] = &[
    r!(SAM_SERVER_CONNECT = 0x0001, "connect"),
    r!(SAM_SERVER_SHUTDOWN = 0x0002, "shut down"),
    r!(SAM_SERVER_INITIALIZE = 0x0004, "initialize"),
    r!(SAM_SERVER_CREATE_DOMAIN = 0x0008, "create domains"),
    r!(SAM_SERVER_ENUMERATE_DOMAINS = 0x0010, "enumerate domains"),
    r!(SAM_SERVER_LOOKUP_DOMAIN = 0x0020, "look up domains"),
];
const SAM_DOMAIN_RIGHTS: &[Right] = &[
    r!(
        DOMAIN_READ_PASSWORD_PARAMETERS = 0x0001,
        "read password policy"
    ),
    r!(
        DOMAIN_WRITE_PASSWORD_PARAMS = 0x0002,
        "write password policy"
    ),
    r!(
        DOMAIN_READ_OTHER_PARAMETERS = 0x0004,
        "read other parameters"
    ),
    r!(
        DOMAIN_WRITE_OTHER_PARAMETERS = 0x0008,
        "write other parameters"
    ),
    r!(DOMAIN_CREATE_USER = 0x0010, "create users"),
    r!(DOMAIN_CREATE_GROUP = 0x0020, "create groups"),
    r!(DOMAIN_CREATE_ALIAS = 0x0040, "create aliases"),
    r!(DOMAIN_GET_ALIAS_MEMBERSHIP = 0x0080, "get alias membership"),
    r!(DOMAIN_LIST_ACCOUNTS = 0x0100, "list accounts"),
    r!(DOMAIN_LOOKUP = 0x0200, "look up names and ids"),
    r!(DOMAIN_ADMINISTER_SERVER = 0x0400, "administer the server"),
];
const SAM_GROUP_RIGHTS: &[Right] = &[
    r!(GROUP_READ_INFORMATION = 0x0001, "read information"),
    r!(GROUP_WRITE_ACCOUNT = 0x0002, "write account"),
    r!(GROUP_ADD_MEMBER = 0x0004, "add members"),
    r!(GROUP_REMOVE_MEMBER = 0x0008, "remove members"),
    r!(GROUP_LIST_MEMBERS = 0x0010, "list members"),
];
const SAM_ALIAS_RIGHTS: &[Right] = &[
    r!(ALIAS_ADD_MEMBER = 0x0001, "add members"),
    r!(ALIAS_REMOVE_MEMBER = 0x0002, "remove members"),
    r!(ALIAS_LIST_MEMBERS = 0x0004, "list members"),
    r!(ALIAS_READ_INFORMATION = 0x0008, "read information"),
    r!(ALIAS_WRITE_ACCOUNT = 0x0010, "write account"),
];
const SAM_USER_RIGHTS: &[Right] = &[
    r!(USER_READ_GENERAL = 0x0001, "read general information"),
    r!(USER_READ_PREFERENCES = 0x0002, "read preferences"),
    r!(USER_WRITE_PREFERENCES = 0x0004, "write preferences"),
    r!(USER_READ_LOGON = 0x0008, "read logon information"),
    r!(USER_READ_ACCOUNT = 0x0010, "read account"),
    r!(USER_WRITE_ACCOUNT = 0x0020, "write account"),
    r!(USER_CHANGE_PASSWORD = 0x0040, "change password"),
    r!(USER_FORCE_PASSWORD_CHANGE = 0x0080, "force password change"),
    r!(USER_LIST_GROUPS = 0x0100, "list groups"),
    r!(
        USER_READ_GROUP_INFORMATION = 0x0200,
        "read group information"
    ),
    r!(
        USER_WRITE_GROUP_INFORMATION = 0x0400,
        "write group information"
    ),
];
const LSA_POLICY_RIGHTS: &[Right] = &[
    r!(
        POLICY_VIEW_LOCAL_INFORMATION = 0x0001,
        "view local information"
    ),
    r!(
        POLICY_VIEW_AUDIT_INFORMATION = 0x0002,
        "view audit information"
    ),
    r!(
        POLICY_GET_PRIVATE_INFORMATION = 0x0004,
        "get private information"
    ),
    r!(POLICY_TRUST_ADMIN = 0x0008, "administer trusts"),
    r!(POLICY_CREATE_ACCOUNT = 0x0010, "create accounts"),
    r!(POLICY_CREATE_SECRET = 0x0020, "create secrets"),
    r!(POLICY_CREATE_PRIVILEGE = 0x0040, "create privileges"),
    r!(
        POLICY_SET_DEFAULT_QUOTA_LIMITS = 0x0080,
        "set default quota limits"
    ),
    r!(
        POLICY_SET_AUDIT_REQUIREMENTS = 0x0100,
        "set audit requirements"
    ),
    r!(POLICY_AUDIT_LOG_ADMIN = 0x0200, "administer the audit log"),
    r!(POLICY_SERVER_ADMIN = 0x0400, "administer the server"),
    r!(POLICY_LOOKUP_NAMES = 0x0800, "look up names"),
    r!(POLICY_NOTIFICATION = 0x1000, "receive notifications"),
];
const LSA_ACCOUNT_RIGHTS: &[Right] = &[
    r!(ACCOUNT_VIEW = 0x0001, "view"),
    r!(ACCOUNT_ADJUST_PRIVILEGES = 0x0002, "adjust privileges"),
    r!(ACCOUNT_ADJUST_QUOTAS = 0x0004, "adjust quotas"),
    r!(
        ACCOUNT_ADJUST_SYSTEM_ACCESS = 0x0008,
        "adjust system access"
    ),
];
const LSA_TRUSTED_RIGHTS: &[Right] = &[
    r!(TRUSTED_QUERY_DOMAIN_NAME = 0x0001, "query domain name"),
    r!(TRUSTED_QUERY_CONTROLLERS = 0x0002, "query controllers"),
    r!(TRUSTED_SET_CONTROLLERS = 0x0004, "set controllers"),
    r!(TRUSTED_QUERY_POSIX = 0x0008, "query POSIX offset"),
    r!(TRUSTED_SET_POSIX = 0x0010, "set POSIX offset"),
    r!(TRUSTED_SET_AUTH = 0x0020, "set authentication information"),
    r!(
        TRUSTED_QUERY_AUTH = 0x0040,
        "query authentication information"
    ),
];

const NONE: &[Right] = &[];

/// Every type, in the order `--types` lists them. The object types come from the SDK
/// headers and phnt; generic mappings from the kernel (see the module comment) unless a
/// type says otherwise.
pub static TYPES: &[TypeInfo] = &[
    TypeInfo {
        name: "File",
        aliases: &["fileobject", "device", "driver"],
        doc: "a file, or a device opened like one (SDK winnt.h; mapping: kernel File)",
        prefixes: &["FILE_"],
        rights: FILE_RIGHTS,
        synonyms: FILE_SYNONYMS,
        combos: FILE_COMBOS,
        mapping: FILE_MAPPING,
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel type File",
    },
    TypeInfo {
        name: "FileDirectory",
        aliases: &["dir", "folder", "fsdir", "filedir", "directoryfile"],
        doc: "a file-system directory: the File type's bits under their directory names",
        prefixes: &["FILE_"],
        rights: FILE_DIR_RIGHTS,
        synonyms: FILE_DIR_SYNONYMS,
        combos: FILE_COMBOS,
        mapping: FILE_MAPPING,
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel type File",
    },
    TypeInfo {
        name: "Pipe",
        aliases: &["namedpipe", "np", "anonymouspipe"],
        doc: "a named or anonymous pipe end: File rights, where 0x4 creates pipe instances",
        prefixes: &["FILE_"],
        rights: PIPE_RIGHTS,
        synonyms: PIPE_SYNONYMS,
        combos: FILE_COMBOS,
        mapping: FILE_MAPPING,
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel type File",
    },
    TypeInfo {
        name: "Process",
        aliases: &["proc"],
        doc: "a process",
        prefixes: &["PROCESS_"],
        rights: PROCESS_RIGHTS,
        synonyms: &[r!(PROCESS_SET_PORT = 0x0800, "set exception/debug port")],
        combos: &[r!(PROCESS_ALL_ACCESS = SRR | SYN | 0xFFFF, "full control")],
        mapping: gm(0x0002_0410, 0x0002_0BEA, 0x0012_1001, 0x001F_FFFF),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; PROCESS_SET_LIMITED_INFORMATION: phnt ntpsapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Thread",
        aliases: &[],
        doc: "a thread",
        prefixes: &["THREAD_"],
        rights: THREAD_RIGHTS,
        synonyms: NONE,
        combos: &[r!(THREAD_ALL_ACCESS = SRR | SYN | 0xFFFF, "full control")],
        mapping: gm(0x0002_0048, 0x0002_0437, 0x0012_1800, 0x001F_FFFF),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; THREAD_ALERT, THREAD_RESUME: phnt ntpsapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Token",
        aliases: &["accesstoken"],
        doc: "an access token",
        prefixes: &["TOKEN_"],
        rights: TOKEN_RIGHTS,
        synonyms: &[r!(TOKEN_EXECUTE = RC, "read control")],
        combos: &[
            r!(TOKEN_ALL_ACCESS = SRR | 0x1FF, "full control"),
            r!(
                TOKEN_ALL_ACCESS_P = SRR | 0xFF,
                "full control but adjust session id"
            ),
            r!(TOKEN_WRITE = RC | 0x20 | 0x40 | 0x80, "generic write"),
            r!(TOKEN_READ = RC | 0x08, "generic read"),
        ],
        mapping: gm(0x0002_001A, 0x0002_01E0, 0x0002_0005, 0x000F_01FF),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "Key",
        aliases: &["registry", "regkey", "registrykey", "reg"],
        doc: "a registry key",
        prefixes: &["KEY_"],
        rights: KEY_RIGHTS,
        synonyms: &[
            r!(KEY_EXECUTE = 0x0002_0019, "generic execute"),
            r!(KEY_WOW64_RES = 0x0300, "registry view bits"),
        ],
        combos: &[
            r!(KEY_ALL_ACCESS = 0x000F_003F, "full control"),
            r!(KEY_READ = 0x0002_0019, "generic read"),
            r!(KEY_WRITE = 0x0002_0006, "generic write"),
        ],
        mapping: gm(0x0002_0019, 0x0002_0006, 0x0002_0039, 0x000F_003F),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "Event",
        aliases: &[],
        doc: "an event",
        prefixes: &["EVENT_"],
        rights: &[
            r!(EVENT_QUERY_STATE = 0x0001, "query state"),
            r!(EVENT_MODIFY_STATE = 0x0002, "set and reset"),
        ],
        synonyms: NONE,
        combos: &[r!(EVENT_ALL_ACCESS = SRR | SYN | 0x3, "full control")],
        mapping: gm(0x0002_0001, 0x0002_0002, 0x0012_0000, 0x001F_0003),
        kind: Kind::AccessMask,
        source: "SDK winnt.h / synchapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Mutant",
        aliases: &["mutex"],
        doc: "a mutex (the kernel calls it a mutant)",
        prefixes: &["MUTANT_", "MUTEX_"],
        rights: &[r!(MUTANT_QUERY_STATE = 0x0001, "query state")],
        synonyms: &[
            r!(MUTEX_MODIFY_STATE = 0x0001, "query state"),
            r!(MUTEX_ALL_ACCESS = SRR | SYN | 0x1, "full control"),
        ],
        combos: &[r!(MUTANT_ALL_ACCESS = SRR | SYN | 0x1, "full control")],
        mapping: gm(0x0002_0001, 0x0002_0000, 0x0012_0000, 0x001F_0001),
        kind: Kind::AccessMask,
        source: "SDK winnt.h / synchapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Semaphore",
        aliases: &["sem"],
        doc: "a semaphore",
        prefixes: &["SEMAPHORE_"],
        rights: &[
            r!(SEMAPHORE_QUERY_STATE = 0x0001, "query state"),
            r!(SEMAPHORE_MODIFY_STATE = 0x0002, "release"),
        ],
        synonyms: NONE,
        combos: &[r!(SEMAPHORE_ALL_ACCESS = SRR | SYN | 0x3, "full control")],
        mapping: gm(0x0002_0001, 0x0002_0002, 0x0012_0000, 0x001F_0003),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "Section",
        aliases: &["filemapping", "mapping", "sharedmemory"],
        doc: "a section (file mapping, shared memory)",
        prefixes: &["SECTION_", "FILE_MAP_"],
        rights: &[
            r!(SECTION_QUERY = 0x0001, "query"),
            r!(SECTION_MAP_WRITE = 0x0002, "map for write"),
            r!(SECTION_MAP_READ = 0x0004, "map for read"),
            r!(SECTION_MAP_EXECUTE = 0x0008, "map for execute"),
            r!(SECTION_EXTEND_SIZE = 0x0010, "extend size"),
            r!(
                SECTION_MAP_EXECUTE_EXPLICIT = 0x0020,
                "map for execute, explicitly"
            ),
        ],
        synonyms: &[
            r!(FILE_MAP_WRITE = 0x0002, "map for write"),
            r!(FILE_MAP_READ = 0x0004, "map for read"),
            r!(FILE_MAP_EXECUTE = 0x0020, "map for execute, explicitly"),
            r!(FILE_MAP_ALL_ACCESS = SRR | 0x1F, "full control"),
        ],
        combos: &[r!(SECTION_ALL_ACCESS = SRR | 0x1F, "full control")],
        mapping: gm(0x0002_0005, 0x0002_0002, 0x0002_0008, 0x000F_001F),
        kind: Kind::AccessMask,
        source: "SDK winnt.h, memoryapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Job",
        aliases: &["jobobject"],
        doc: "a job object",
        prefixes: &["JOB_OBJECT_"],
        rights: JOB_RIGHTS,
        synonyms: NONE,
        // The SDK's older value is SRR | SYN | 0x1F; Windows 10 adds JOB_OBJECT_IMPERSONATE.
        combos: &[r!(JOB_OBJECT_ALL_ACCESS = SRR | SYN | 0x3F, "full control")],
        mapping: gm(0x0002_0004, 0x0002_000B, 0x0012_0000, 0x001F_003F),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; JOB_OBJECT_IMPERSONATE and ALL_ACCESS: phnt ntpsapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Timer",
        aliases: &["waitabletimer", "irtimer"],
        doc: "a waitable timer",
        prefixes: &["TIMER_"],
        rights: &[
            r!(TIMER_QUERY_STATE = 0x0001, "query state"),
            r!(TIMER_MODIFY_STATE = 0x0002, "set and cancel"),
        ],
        synonyms: NONE,
        combos: &[r!(TIMER_ALL_ACCESS = SRR | SYN | 0x3, "full control")],
        mapping: gm(0x0002_0001, 0x0002_0002, 0x0012_0000, 0x001F_0003),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "IoCompletion",
        aliases: &["iocp", "completionport", "iocompletionport"],
        doc: "an I/O completion port",
        prefixes: &["IO_COMPLETION_"],
        rights: &[
            r!(IO_COMPLETION_QUERY_STATE = 0x0001, "query state"),
            r!(
                IO_COMPLETION_MODIFY_STATE = 0x0002,
                "post and remove packets"
            ),
        ],
        synonyms: NONE,
        combos: &[r!(
            IO_COMPLETION_ALL_ACCESS = SRR | SYN | 0x3,
            "full control"
        )],
        mapping: gm(0x0002_0001, 0x0002_0002, 0x0012_0000, 0x001F_0003),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; IO_COMPLETION_QUERY_STATE: phnt ntioapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Directory",
        aliases: &["objdir", "objectdirectory", "directoryobject"],
        doc: "an object-manager directory (\\BaseNamedObjects); see FileDirectory for folders",
        prefixes: &["DIRECTORY_"],
        rights: &[
            r!(DIRECTORY_QUERY = 0x0001, "query"),
            r!(DIRECTORY_TRAVERSE = 0x0002, "traverse"),
            r!(DIRECTORY_CREATE_OBJECT = 0x0004, "create objects"),
            r!(
                DIRECTORY_CREATE_SUBDIRECTORY = 0x0008,
                "create subdirectories"
            ),
        ],
        synonyms: NONE,
        combos: &[r!(DIRECTORY_ALL_ACCESS = SRR | 0xF, "full control")],
        mapping: gm(0x0002_0003, 0x0002_000C, 0x0002_0003, 0x000F_000F),
        kind: Kind::AccessMask,
        source: "SDK winternl.h / phnt ntobapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "SymbolicLink",
        aliases: &["symlink", "link", "objectsymboliclink"],
        doc: "an object-manager symbolic link",
        prefixes: &["SYMBOLIC_LINK_"],
        rights: &[
            r!(SYMBOLIC_LINK_QUERY = 0x0001, "query"),
            r!(SYMBOLIC_LINK_SET = 0x0002, "set target"),
        ],
        synonyms: NONE,
        combos: &[
            r!(
                SYMBOLIC_LINK_ALL_ACCESS_EX = SRR | 0xFFFF,
                "full control, extended"
            ),
            r!(SYMBOLIC_LINK_ALL_ACCESS = SRR | 0x1, "full control"),
        ],
        mapping: gm(0x0002_0001, 0x0002_0000, 0x0002_0001, 0x000F_0001),
        kind: Kind::AccessMask,
        source: "SDK winternl.h; SYMBOLIC_LINK_SET, _ALL_ACCESS_EX: phnt ntobapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Desktop",
        aliases: &[],
        doc: "a desktop",
        prefixes: &["DESKTOP_"],
        rights: DESKTOP_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(DESKTOP_ALL_ACCESS = SRR | 0x1FF, "full control"),
            r!(DESKTOP_GENERIC_WRITE = RC | 0xBE, "generic write"),
            r!(DESKTOP_GENERIC_READ = RC | 0x41, "generic read"),
            r!(DESKTOP_GENERIC_EXECUTE = RC | 0x100, "generic execute"),
        ],
        mapping: gm(0x0002_0041, 0x0002_00BE, 0x0002_0100, 0x000F_01FF),
        kind: Kind::AccessMask,
        source: "SDK winuser.h; combinations: phnt phnt_windows.h; mapping: kernel",
    },
    TypeInfo {
        name: "WindowStation",
        aliases: &["winsta", "station"],
        doc: "a window station",
        prefixes: &["WINSTA_"],
        rights: WINSTA_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(WINSTA_ALL_ACCESS = 0x037F, "all specific rights"),
            r!(WINSTA_GENERIC_READ = RC | 0x303, "generic read"),
            r!(WINSTA_GENERIC_WRITE = RC | 0x1C, "generic write"),
            r!(WINSTA_GENERIC_EXECUTE = RC | 0x60, "generic execute"),
        ],
        mapping: gm(0x0002_0303, 0x0002_001C, 0x0002_0060, 0x000F_037F),
        kind: Kind::AccessMask,
        source: "SDK winuser.h; combinations: phnt phnt_windows.h; mapping: kernel",
    },
    TypeInfo {
        name: "Service",
        aliases: &["svc"],
        doc: "a service, opened through the service control manager",
        prefixes: &["SERVICE_"],
        rights: SERVICE_RIGHTS,
        synonyms: NONE,
        combos: &[r!(SERVICE_ALL_ACCESS = SRR | 0x1FF, "full control")],
        // Microsoft Learn, "Service Security and Access Rights".
        mapping: gm(RC | 0x8D, RC | 0x02, RC | 0x170, SRR | 0x1FF),
        kind: Kind::AccessMask,
        source: "SDK winsvc.h; mapping: Microsoft Learn, Service Security and Access Rights",
    },
    TypeInfo {
        name: "SCManager",
        aliases: &["scm", "servicecontrolmanager", "servicemanager"],
        doc: "the service control manager",
        prefixes: &["SC_MANAGER_"],
        rights: SCM_RIGHTS,
        synonyms: NONE,
        combos: &[r!(SC_MANAGER_ALL_ACCESS = SRR | 0x3F, "full control")],
        // Microsoft Learn, "Service Security and Access Rights".
        mapping: gm(RC | 0x14, RC | 0x22, RC | 0x09, SRR | 0x3F),
        kind: Kind::AccessMask,
        source: "SDK winsvc.h; mapping: Microsoft Learn, Service Security and Access Rights",
    },
    TypeInfo {
        name: "AlpcPort",
        aliases: &["alpc", "port", "lpcport", "waitableport"],
        doc: "an ALPC port (the kernel type is named \"ALPC Port\")",
        prefixes: &["PORT_"],
        rights: &[r!(PORT_CONNECT = 0x0001, "connect")],
        synonyms: NONE,
        combos: &[r!(PORT_ALL_ACCESS = SRR | SYN | 0x1, "full control")],
        mapping: gm(0x0002_0001, 0x0001_0001, 0x0000_0000, 0x001F_0001),
        kind: Kind::AccessMask,
        source: "phnt ntlpcapi.h; mapping: kernel type ALPC Port",
    },
    TypeInfo {
        name: "DebugObject",
        aliases: &["debug"],
        doc: "a debug object (what a debugger attaches through)",
        prefixes: &["DEBUG_"],
        rights: &[
            r!(DEBUG_READ_EVENT = 0x0001, "read debug events"),
            r!(DEBUG_PROCESS_ASSIGN = 0x0002, "attach processes"),
            r!(DEBUG_SET_INFORMATION = 0x0004, "set information"),
            r!(DEBUG_QUERY_INFORMATION = 0x0008, "query information"),
        ],
        synonyms: NONE,
        combos: &[r!(DEBUG_ALL_ACCESS = SRR | SYN | 0xF, "full control")],
        mapping: gm(0x0002_0001, 0x0002_0002, 0x0012_0000, 0x001F_000F),
        kind: Kind::AccessMask,
        source: "phnt ntdbg.h; mapping: kernel",
    },
    TypeInfo {
        name: "Session",
        aliases: &[],
        doc: "a session object",
        prefixes: &["SESSION_"],
        rights: &[
            r!(SESSION_QUERY_ACCESS = 0x0001, "query"),
            r!(SESSION_MODIFY_ACCESS = 0x0002, "modify"),
        ],
        synonyms: NONE,
        combos: &[r!(SESSION_ALL_ACCESS = SRR | 0x3, "full control")],
        mapping: gm(0x0002_0001, 0x0002_0002, 0x0012_0001, 0x000F_0003),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "KeyedEvent",
        aliases: &[],
        doc: "a keyed event",
        prefixes: &["KEYEDEVENT_"],
        rights: &[
            r!(KEYEDEVENT_WAIT = 0x0001, "wait"),
            r!(KEYEDEVENT_WAKE = 0x0002, "wake"),
        ],
        synonyms: NONE,
        combos: &[r!(KEYEDEVENT_ALL_ACCESS = SRR | 0x3, "full control")],
        mapping: gm(0x0002_0001, 0x0002_0002, 0x0002_0000, 0x000F_0003),
        kind: Kind::AccessMask,
        source: "phnt ntexapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "EtwRegistration",
        aliases: &["etwprovider"],
        doc: "an ETW provider registration",
        prefixes: &["WMIGUID_", "TRACELOG_"],
        rights: WMIGUID_RIGHTS,
        synonyms: WMIGUID_SYNONYMS,
        combos: WMIGUID_COMBOS,
        mapping: gm(0x0002_000D, 0x0002_0062, 0x0002_1E90, 0x0002_1EFF),
        kind: Kind::AccessMask,
        source: "SDK evntrace.h; combinations: phnt phnt_windows.h; mapping: kernel",
    },
    TypeInfo {
        name: "EtwConsumer",
        aliases: &[],
        doc: "an ETW real-time consumer",
        prefixes: &["WMIGUID_", "TRACELOG_"],
        rights: WMIGUID_RIGHTS,
        synonyms: WMIGUID_SYNONYMS,
        combos: WMIGUID_COMBOS,
        mapping: gm(0x0002_000D, 0x0002_0062, 0x0002_1E90, 0x0002_1EFF),
        kind: Kind::AccessMask,
        source: "SDK evntrace.h; combinations: phnt phnt_windows.h; mapping: kernel",
    },
    TypeInfo {
        name: "WmiGuid",
        aliases: &["wmi", "etwsession", "tracelog"],
        doc: "a WMI GUID or ETW session security entry",
        prefixes: &["WMIGUID_", "TRACELOG_"],
        rights: WMIGUID_RIGHTS,
        synonyms: WMIGUID_SYNONYMS,
        combos: WMIGUID_COMBOS,
        mapping: gm(0x0000_0001, 0x0000_0002, 0x0000_0010, 0x0012_1FFF),
        kind: Kind::AccessMask,
        source: "SDK evntrace.h; combinations: phnt phnt_windows.h; mapping: kernel",
    },
    TypeInfo {
        name: "Partition",
        aliases: &["memorypartition"],
        doc: "a memory partition",
        prefixes: &["MEMORY_PARTITION_"],
        rights: &[
            r!(MEMORY_PARTITION_QUERY_ACCESS = 0x0001, "query"),
            r!(MEMORY_PARTITION_MODIFY_ACCESS = 0x0002, "modify"),
        ],
        synonyms: NONE,
        combos: &[r!(
            MEMORY_PARTITION_ALL_ACCESS = SRR | SYN | 0x3,
            "full control"
        )],
        mapping: gm(0x0002_0001, 0x0002_0002, 0x0012_0001, 0x001F_0003),
        kind: Kind::AccessMask,
        source: "phnt ntmmapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "EventPair",
        aliases: &[],
        doc: "an event pair (old LPC synchronisation; no specific rights)",
        prefixes: &["EVENT_PAIR_"],
        rights: NONE,
        synonyms: NONE,
        combos: &[r!(EVENT_PAIR_ALL_ACCESS = SRR | SYN, "full control")],
        // Not present on Windows 10 2004, so no kernel mapping was recorded.
        mapping: None,
        kind: Kind::AccessMask,
        source: "phnt ntexapi.h",
    },
    TypeInfo {
        name: "FilterConnectionPort",
        aliases: &["filtercommunicationport", "fltport", "minifilterport"],
        doc: "a file-system minifilter communication port",
        prefixes: &["FLT_PORT_"],
        rights: &[r!(FLT_PORT_CONNECT = 0x0001, "connect")],
        synonyms: NONE,
        combos: &[r!(FLT_PORT_ALL_ACCESS = 0x001F_0001, "full control")],
        mapping: gm(0x0002_0001, 0x0001_0001, 0x0000_0000, 0x001F_0001),
        kind: Kind::AccessMask,
        source: "phnt ntioapi.h (fltuser.h); mapping: kernel",
    },
    TypeInfo {
        name: "Profile",
        aliases: &[],
        doc: "a kernel profiling object",
        prefixes: &["PROFILE_"],
        rights: &[r!(PROFILE_CONTROL = 0x0001, "control")],
        synonyms: NONE,
        combos: &[r!(PROFILE_ALL_ACCESS = SRR | 0x1, "full control")],
        mapping: gm(0x0002_0001, 0x0002_0001, 0x0002_0001, 0x000F_0001),
        kind: Kind::AccessMask,
        source: "phnt ntexapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "TmTm",
        aliases: &["transactionmanager"],
        doc: "a KTM transaction manager",
        prefixes: &["TRANSACTIONMANAGER_"],
        rights: TM_RIGHTS,
        synonyms: &[r!(TRANSACTIONMANAGER_GENERIC_EXECUTE = RC, "read control")],
        combos: &[
            r!(TRANSACTIONMANAGER_ALL_ACCESS = SRR | 0x3F, "full control"),
            r!(
                TRANSACTIONMANAGER_GENERIC_WRITE = RC | 0x1E,
                "generic write"
            ),
            r!(TRANSACTIONMANAGER_GENERIC_READ = RC | 0x01, "generic read"),
        ],
        mapping: gm(0x0002_0001, 0x0002_001E, 0x0002_0000, 0x000F_003F),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "TmTx",
        aliases: &["transaction"],
        doc: "a KTM transaction",
        prefixes: &["TRANSACTION_"],
        rights: TX_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(TRANSACTION_ALL_ACCESS = SRR | SYN | 0x3F, "full control"),
            r!(TRANSACTION_GENERIC_WRITE = RC | SYN | 0x3E, "generic write"),
            r!(
                TRANSACTION_RESOURCE_MANAGER_RIGHTS = RC | SYN | 0x37,
                "resource manager rights"
            ),
            r!(
                TRANSACTION_GENERIC_EXECUTE = RC | SYN | 0x18,
                "generic execute"
            ),
            r!(TRANSACTION_GENERIC_READ = RC | SYN | 0x01, "generic read"),
        ],
        mapping: gm(0x0012_0001, 0x0012_003E, 0x0012_0018, 0x001F_007F),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "TmRm",
        aliases: &["resourcemanager"],
        doc: "a KTM resource manager",
        prefixes: &["RESOURCEMANAGER_"],
        rights: RM_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(
                RESOURCEMANAGER_ALL_ACCESS = SRR | SYN | 0x7F,
                "full control"
            ),
            r!(
                RESOURCEMANAGER_GENERIC_WRITE = RC | SYN | 0x7E,
                "generic write"
            ),
            r!(
                RESOURCEMANAGER_GENERIC_EXECUTE = RC | SYN | 0x5C,
                "generic execute"
            ),
            r!(
                RESOURCEMANAGER_GENERIC_READ = RC | SYN | 0x01,
                "generic read"
            ),
        ],
        mapping: gm(0x0012_0001, 0x0012_007E, 0x0012_005C, 0x001F_007F),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "TmEn",
        aliases: &["enlistment"],
        doc: "a KTM enlistment",
        prefixes: &["ENLISTMENT_"],
        rights: EN_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(ENLISTMENT_ALL_ACCESS = SRR | 0x1F, "full control"),
            r!(ENLISTMENT_GENERIC_WRITE = RC | 0x1E, "generic write"),
            r!(ENLISTMENT_GENERIC_EXECUTE = RC | 0x1C, "generic execute"),
            r!(ENLISTMENT_GENERIC_READ = RC | 0x01, "generic read"),
        ],
        mapping: gm(0x0002_0001, 0x0002_001E, 0x0002_001C, 0x000F_001F),
        kind: Kind::AccessMask,
        source: "SDK winnt.h; mapping: kernel",
    },
    TypeInfo {
        name: "TpWorkerFactory",
        aliases: &["workerfactory"],
        doc: "a thread-pool worker factory",
        prefixes: &["WORKER_FACTORY_"],
        rights: &[
            r!(WORKER_FACTORY_RELEASE_WORKER = 0x0001, "release workers"),
            r!(WORKER_FACTORY_WAIT = 0x0002, "wait"),
            r!(WORKER_FACTORY_SET_INFORMATION = 0x0004, "set information"),
            r!(
                WORKER_FACTORY_QUERY_INFORMATION = 0x0008,
                "query information"
            ),
            r!(WORKER_FACTORY_READY_WORKER = 0x0010, "ready workers"),
            r!(WORKER_FACTORY_SHUTDOWN = 0x0020, "shut down"),
        ],
        synonyms: NONE,
        combos: &[r!(WORKER_FACTORY_ALL_ACCESS = SRR | 0x3F, "full control")],
        mapping: gm(0x0002_0008, 0x0002_0004, 0x0002_0003, 0x000F_00FF),
        kind: Kind::AccessMask,
        source: "phnt ntexapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "Type",
        aliases: &["objecttype"],
        doc: "an object type object",
        prefixes: &["OBJECT_TYPE_"],
        rights: &[r!(OBJECT_TYPE_CREATE = 0x0001, "create")],
        synonyms: NONE,
        combos: &[r!(OBJECT_TYPE_ALL_ACCESS = SRR | 0x1, "full control")],
        mapping: gm(0x0002_0000, 0x0002_0000, 0x0002_0000, 0x000F_0001),
        kind: Kind::AccessMask,
        source: "SDK winternl.h / phnt ntobapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "WaitCompletionPacket",
        aliases: &[],
        doc: "a wait completion packet",
        prefixes: &["WAIT_COMPLETION_PACKET_"],
        rights: &[r!(WAIT_COMPLETION_PACKET_SET_STATE = 0x0001, "set state")],
        synonyms: NONE,
        combos: &[r!(
            WAIT_COMPLETION_PACKET_ALL_ACCESS = SRR | 0x1,
            "full control"
        )],
        mapping: gm(0x0002_0001, 0x0002_0001, 0x0002_0001, 0x000F_0001),
        kind: Kind::AccessMask,
        source: "phnt ntioapi.h; mapping: kernel",
    },
    TypeInfo {
        name: "SamServer",
        aliases: &["sam"],
        doc: "the SAM server (event 4661's SAM_SERVER)",
        prefixes: &["SAM_SERVER_"],
        rights: SAM_SERVER_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(SAM_SERVER_ALL_ACCESS = SRR | 0x3F, "full control"),
            r!(SAM_SERVER_WRITE = RC | 0x0E, "generic write"),
            r!(SAM_SERVER_EXECUTE = RC | 0x21, "generic execute"),
            r!(SAM_SERVER_READ = RC | 0x10, "generic read"),
        ],
        mapping: gm(RC | 0x10, RC | 0x0E, RC | 0x21, SRR | 0x3F),
        kind: Kind::AccessMask,
        source: "phnt ntsam.h; mapping: SAM_SERVER_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "SamDomain",
        aliases: &["domain"],
        doc: "a SAM domain (event 4661's SAM_DOMAIN)",
        prefixes: &["DOMAIN_"],
        rights: SAM_DOMAIN_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(DOMAIN_ALL_ACCESS = SRR | 0x7FF, "full control"),
            r!(DOMAIN_WRITE = RC | 0x47A, "generic write"),
            r!(DOMAIN_EXECUTE = RC | 0x301, "generic execute"),
            r!(DOMAIN_READ = RC | 0x84, "generic read"),
        ],
        mapping: gm(RC | 0x84, RC | 0x47A, RC | 0x301, SRR | 0x7FF),
        kind: Kind::AccessMask,
        source: "phnt ntsam.h; mapping: DOMAIN_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "SamGroup",
        aliases: &["domaingroup"],
        doc: "a SAM (domain) group (event 4661's SAM_GROUP)",
        prefixes: &["GROUP_"],
        rights: SAM_GROUP_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(GROUP_ALL_ACCESS = SRR | 0x1F, "full control"),
            r!(GROUP_WRITE = RC | 0x0E, "generic write"),
            r!(GROUP_READ = RC | 0x10, "generic read"),
            r!(GROUP_EXECUTE = RC | 0x01, "generic execute"),
        ],
        mapping: gm(RC | 0x10, RC | 0x0E, RC | 0x01, SRR | 0x1F),
        kind: Kind::AccessMask,
        source: "phnt ntsam.h; mapping: GROUP_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "SamAlias",
        aliases: &["alias", "localgroup"],
        doc: "a SAM alias, i.e. a local group (event 4661's SAM_ALIAS)",
        prefixes: &["ALIAS_"],
        rights: SAM_ALIAS_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(ALIAS_ALL_ACCESS = SRR | 0x1F, "full control"),
            r!(ALIAS_WRITE = RC | 0x13, "generic write"),
            r!(ALIAS_READ = RC | 0x04, "generic read"),
            r!(ALIAS_EXECUTE = RC | 0x08, "generic execute"),
        ],
        mapping: gm(RC | 0x04, RC | 0x13, RC | 0x08, SRR | 0x1F),
        kind: Kind::AccessMask,
        source: "phnt ntsam.h; mapping: ALIAS_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "SamUser",
        aliases: &["user"],
        doc: "a SAM user account (event 4661's SAM_USER)",
        prefixes: &["USER_"],
        rights: SAM_USER_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(USER_ALL_ACCESS = SRR | 0x7FF, "full control"),
            r!(USER_READ = RC | 0x31A, "generic read"),
            r!(USER_WRITE = RC | 0x44, "generic write"),
            r!(USER_EXECUTE = RC | 0x41, "generic execute"),
        ],
        mapping: gm(RC | 0x31A, RC | 0x44, RC | 0x41, SRR | 0x7FF),
        kind: Kind::AccessMask,
        source: "phnt ntsam.h; mapping: USER_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "LsaPolicy",
        aliases: &["policy"],
        doc: "the LSA policy object",
        prefixes: &["POLICY_"],
        rights: LSA_POLICY_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(POLICY_ALL_ACCESS = SRR | 0xFFF, "full control"),
            r!(POLICY_WRITE = RC | 0x7F8, "generic write"),
            r!(POLICY_EXECUTE = RC | 0x801, "generic execute"),
            r!(POLICY_READ = RC | 0x006, "generic read"),
        ],
        mapping: gm(RC | 0x006, RC | 0x7F8, RC | 0x801, SRR | 0xFFF),
        kind: Kind::AccessMask,
        source: "phnt ntlsa.h; mapping: POLICY_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "LsaAccount",
        aliases: &["lsaaccount"],
        doc: "an LSA account (privileges and logon rights of a SID)",
        prefixes: &["ACCOUNT_"],
        rights: LSA_ACCOUNT_RIGHTS,
        synonyms: &[r!(ACCOUNT_EXECUTE = RC, "read control")],
        combos: &[
            r!(ACCOUNT_ALL_ACCESS = SRR | 0xF, "full control"),
            r!(ACCOUNT_WRITE = RC | 0xE, "generic write"),
            r!(ACCOUNT_READ = RC | 0x1, "generic read"),
        ],
        mapping: gm(RC | 0x1, RC | 0xE, RC, SRR | 0xF),
        kind: Kind::AccessMask,
        source: "phnt ntlsa.h; mapping: ACCOUNT_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "LsaSecret",
        aliases: &["secret"],
        doc: "an LSA secret",
        prefixes: &["SECRET_"],
        rights: &[
            r!(SECRET_SET_VALUE = 0x0001, "set value"),
            r!(SECRET_QUERY_VALUE = 0x0002, "query value"),
        ],
        synonyms: &[r!(SECRET_EXECUTE = RC, "read control")],
        combos: &[
            r!(SECRET_ALL_ACCESS = SRR | 0x3, "full control"),
            r!(SECRET_READ = RC | 0x2, "generic read"),
            r!(SECRET_WRITE = RC | 0x1, "generic write"),
        ],
        mapping: gm(RC | 0x2, RC | 0x1, RC, SRR | 0x3),
        kind: Kind::AccessMask,
        source: "phnt ntlsa.h; mapping: SECRET_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "LsaTrusted",
        aliases: &["trusteddomain"],
        doc: "an LSA trusted domain",
        prefixes: &["TRUSTED_"],
        rights: LSA_TRUSTED_RIGHTS,
        synonyms: NONE,
        combos: &[
            r!(TRUSTED_ALL_ACCESS = SRR | 0x7F, "full control"),
            r!(TRUSTED_WRITE = RC | 0x34, "generic write"),
            r!(TRUSTED_EXECUTE = RC | 0x0A, "generic execute"),
            r!(TRUSTED_READ = RC | 0x01, "generic read"),
        ],
        mapping: gm(RC | 0x01, RC | 0x34, RC | 0x0A, SRR | 0x7F),
        kind: Kind::AccessMask,
        source: "phnt ntlsa.h; mapping: TRUSTED_READ/WRITE/EXECUTE/ALL_ACCESS",
    },
    TypeInfo {
        name: "fd",
        aliases: &["openflags", "linux", "fdinfo", "oflags"],
        doc: "Linux open flags, as /proc/PID/fdinfo/N prints them (octal)",
        prefixes: &["O_"],
        rights: FD_FLAGS,
        synonyms: FD_SYNONYMS,
        combos: NONE,
        mapping: None,
        kind: Kind::OpenFlags,
        source: "Linux include/uapi/asm-generic/fcntl.h (x86-64)",
    },
];
