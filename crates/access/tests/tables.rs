//! Table-driven tests: at least one hand-checked mask for every type, and the invariants
//! every table must keep (single-bit rights in bit order, names that encode back, aliases
//! that find their type, mappings that agree with the combinations).

use pipescope_access::{
    Kind, TypeInfo, decode, encode, lookup_type, map_generic, parse_mask, types,
};

struct Case {
    ty: &'static str,
    mask: u32,
    rights: &'static [&'static str],
    compact: &'static [&'static str],
    unknown: u32,
}

const fn case(
    ty: &'static str,
    mask: u32,
    rights: &'static [&'static str],
    compact: &'static [&'static str],
    unknown: u32,
) -> Case {
    Case {
        ty,
        mask,
        rights,
        compact,
        unknown,
    }
}

const STD_ALL: [&str; 5] = [
    "DELETE",
    "READ_CONTROL",
    "WRITE_DAC",
    "WRITE_OWNER",
    "SYNCHRONIZE",
];
const STD_REQ: [&str; 4] = ["DELETE", "READ_CONTROL", "WRITE_DAC", "WRITE_OWNER"];

macro_rules! with_std {
    ([$($name:expr),*], $std:expr) => {{
        const N: &[&str] = &{
            let head = [$($name),*];
            let std = $std;
            let mut out = [""; { [$($name),*].len() } + $std.len()];
            let mut i = 0;
            while i < head.len() { out[i] = head[i]; i += 1; }
            let mut j = 0;
            while j < std.len() { out[i + j] = std[j]; j += 1; }
            out
        };
        N
    }};
}

const CASES: &[Case] = &[
    case(
        "directoryfile",
        0x100001,
        &["FILE_LIST_DIRECTORY", "SYNCHRONIZE"],
        &["FILE_LIST_DIRECTORY", "SYNCHRONIZE"],
        0,
    ),
    case(
        "dir",
        0x26,
        &["FILE_ADD_FILE", "FILE_ADD_SUBDIRECTORY", "FILE_TRAVERSE"],
        &["FILE_ADD_FILE", "FILE_ADD_SUBDIRECTORY", "FILE_TRAVERSE"],
        0,
    ),
    case(
        "namedpipe",
        0x4,
        &["FILE_CREATE_PIPE_INSTANCE"],
        &["FILE_CREATE_PIPE_INSTANCE"],
        0,
    ),
    case(
        "file",
        0x1f01ff,
        with_std!(
            [
                "FILE_READ_DATA",
                "FILE_WRITE_DATA",
                "FILE_APPEND_DATA",
                "FILE_READ_EA",
                "FILE_WRITE_EA",
                "FILE_EXECUTE",
                "FILE_DELETE_CHILD",
                "FILE_READ_ATTRIBUTES",
                "FILE_WRITE_ATTRIBUTES"
            ],
            STD_ALL
        ),
        &["FILE_ALL_ACCESS"],
        0,
    ),
    case(
        "process",
        0x1010,
        &["PROCESS_VM_READ", "PROCESS_QUERY_LIMITED_INFORMATION"],
        &["PROCESS_VM_READ", "PROCESS_QUERY_LIMITED_INFORMATION"],
        0,
    ),
    case(
        "Process",
        0x1410,
        &[
            "PROCESS_VM_READ",
            "PROCESS_QUERY_INFORMATION",
            "PROCESS_QUERY_LIMITED_INFORMATION",
        ],
        &[
            "PROCESS_VM_READ",
            "PROCESS_QUERY_INFORMATION",
            "PROCESS_QUERY_LIMITED_INFORMATION",
        ],
        0,
    ),
    case(
        "thread",
        0x1fffff,
        with_std!(
            [
                "THREAD_TERMINATE",
                "THREAD_SUSPEND_RESUME",
                "THREAD_ALERT",
                "THREAD_GET_CONTEXT",
                "THREAD_SET_CONTEXT",
                "THREAD_SET_INFORMATION",
                "THREAD_QUERY_INFORMATION",
                "THREAD_SET_THREAD_TOKEN",
                "THREAD_IMPERSONATE",
                "THREAD_DIRECT_IMPERSONATION",
                "THREAD_SET_LIMITED_INFORMATION",
                "THREAD_QUERY_LIMITED_INFORMATION",
                "THREAD_RESUME"
            ],
            STD_ALL
        ),
        &["THREAD_ALL_ACCESS"],
        0xe000,
    ),
    case(
        "token",
        0x20008,
        &["TOKEN_QUERY", "READ_CONTROL"],
        &["TOKEN_READ"],
        0,
    ),
    case(
        "Token",
        0xf01ff,
        with_std!(
            [
                "TOKEN_ASSIGN_PRIMARY",
                "TOKEN_DUPLICATE",
                "TOKEN_IMPERSONATE",
                "TOKEN_QUERY",
                "TOKEN_QUERY_SOURCE",
                "TOKEN_ADJUST_PRIVILEGES",
                "TOKEN_ADJUST_GROUPS",
                "TOKEN_ADJUST_DEFAULT",
                "TOKEN_ADJUST_SESSIONID"
            ],
            STD_REQ
        ),
        &["TOKEN_ALL_ACCESS"],
        0,
    ),
    case(
        "registry",
        0x20019,
        &[
            "KEY_QUERY_VALUE",
            "KEY_ENUMERATE_SUB_KEYS",
            "KEY_NOTIFY",
            "READ_CONTROL",
        ],
        &["KEY_READ"],
        0,
    ),
    case(
        "key",
        0x2001f,
        &[
            "KEY_QUERY_VALUE",
            "KEY_SET_VALUE",
            "KEY_CREATE_SUB_KEY",
            "KEY_ENUMERATE_SUB_KEYS",
            "KEY_NOTIFY",
            "READ_CONTROL",
        ],
        &["KEY_READ", "KEY_WRITE"],
        0,
    ),
    case(
        "Key",
        0xf013f,
        with_std!(
            [
                "KEY_QUERY_VALUE",
                "KEY_SET_VALUE",
                "KEY_CREATE_SUB_KEY",
                "KEY_ENUMERATE_SUB_KEYS",
                "KEY_NOTIFY",
                "KEY_CREATE_LINK",
                "KEY_WOW64_64KEY"
            ],
            STD_REQ
        ),
        &["KEY_ALL_ACCESS", "KEY_WOW64_64KEY"],
        0,
    ),
    case(
        "event",
        0x100002,
        &["EVENT_MODIFY_STATE", "SYNCHRONIZE"],
        &["EVENT_MODIFY_STATE", "SYNCHRONIZE"],
        0,
    ),
    case(
        "Event",
        0x1f0003,
        with_std!(["EVENT_QUERY_STATE", "EVENT_MODIFY_STATE"], STD_ALL),
        &["EVENT_ALL_ACCESS"],
        0,
    ),
    case(
        "mutex",
        0x100001,
        &["MUTANT_QUERY_STATE", "SYNCHRONIZE"],
        &["MUTANT_QUERY_STATE", "SYNCHRONIZE"],
        0,
    ),
    case(
        "Mutant",
        0x1f0001,
        with_std!(["MUTANT_QUERY_STATE"], STD_ALL),
        &["MUTANT_ALL_ACCESS"],
        0,
    ),
    case(
        "semaphore",
        0x100002,
        &["SEMAPHORE_MODIFY_STATE", "SYNCHRONIZE"],
        &["SEMAPHORE_MODIFY_STATE", "SYNCHRONIZE"],
        0,
    ),
    case(
        "section",
        0x4,
        &["SECTION_MAP_READ"],
        &["SECTION_MAP_READ"],
        0,
    ),
    case(
        "Section",
        0xf001f,
        with_std!(
            [
                "SECTION_QUERY",
                "SECTION_MAP_WRITE",
                "SECTION_MAP_READ",
                "SECTION_MAP_EXECUTE",
                "SECTION_EXTEND_SIZE"
            ],
            STD_REQ
        ),
        &["SECTION_ALL_ACCESS"],
        0,
    ),
    case(
        "job",
        0x1f003f,
        with_std!(
            [
                "JOB_OBJECT_ASSIGN_PROCESS",
                "JOB_OBJECT_SET_ATTRIBUTES",
                "JOB_OBJECT_QUERY",
                "JOB_OBJECT_TERMINATE",
                "JOB_OBJECT_SET_SECURITY_ATTRIBUTES",
                "JOB_OBJECT_IMPERSONATE"
            ],
            STD_ALL
        ),
        &["JOB_OBJECT_ALL_ACCESS"],
        0,
    ),
    // The SDK's older JOB_OBJECT_ALL_ACCESS: the standard rights fold, the rest are named.
    case(
        "Job",
        0x1f001f,
        with_std!(
            [
                "JOB_OBJECT_ASSIGN_PROCESS",
                "JOB_OBJECT_SET_ATTRIBUTES",
                "JOB_OBJECT_QUERY",
                "JOB_OBJECT_TERMINATE",
                "JOB_OBJECT_SET_SECURITY_ATTRIBUTES"
            ],
            STD_ALL
        ),
        &[
            "STANDARD_RIGHTS_ALL",
            "JOB_OBJECT_ASSIGN_PROCESS",
            "JOB_OBJECT_SET_ATTRIBUTES",
            "JOB_OBJECT_QUERY",
            "JOB_OBJECT_TERMINATE",
            "JOB_OBJECT_SET_SECURITY_ATTRIBUTES",
        ],
        0,
    ),
    case(
        "timer",
        0x1f0003,
        with_std!(["TIMER_QUERY_STATE", "TIMER_MODIFY_STATE"], STD_ALL),
        &["TIMER_ALL_ACCESS"],
        0,
    ),
    case(
        "iocp",
        0x1f0003,
        with_std!(
            ["IO_COMPLETION_QUERY_STATE", "IO_COMPLETION_MODIFY_STATE"],
            STD_ALL
        ),
        &["IO_COMPLETION_ALL_ACCESS"],
        0,
    ),
    case(
        "directory",
        0x3,
        &["DIRECTORY_QUERY", "DIRECTORY_TRAVERSE"],
        &["DIRECTORY_QUERY", "DIRECTORY_TRAVERSE"],
        0,
    ),
    case(
        "objdir",
        0xf000f,
        with_std!(
            [
                "DIRECTORY_QUERY",
                "DIRECTORY_TRAVERSE",
                "DIRECTORY_CREATE_OBJECT",
                "DIRECTORY_CREATE_SUBDIRECTORY"
            ],
            STD_REQ
        ),
        &["DIRECTORY_ALL_ACCESS"],
        0,
    ),
    case(
        "symlink",
        0xf0001,
        with_std!(["SYMBOLIC_LINK_QUERY"], STD_REQ),
        &["SYMBOLIC_LINK_ALL_ACCESS"],
        0,
    ),
    case(
        "SymbolicLink",
        0xfffff,
        with_std!(["SYMBOLIC_LINK_QUERY", "SYMBOLIC_LINK_SET"], STD_REQ),
        &["SYMBOLIC_LINK_ALL_ACCESS_EX"],
        0xfffc,
    ),
    case(
        "desktop",
        0x20041,
        &["DESKTOP_READOBJECTS", "DESKTOP_ENUMERATE", "READ_CONTROL"],
        &["DESKTOP_GENERIC_READ"],
        0,
    ),
    case(
        "Desktop",
        0xf01ff,
        with_std!(
            [
                "DESKTOP_READOBJECTS",
                "DESKTOP_CREATEWINDOW",
                "DESKTOP_CREATEMENU",
                "DESKTOP_HOOKCONTROL",
                "DESKTOP_JOURNALRECORD",
                "DESKTOP_JOURNALPLAYBACK",
                "DESKTOP_ENUMERATE",
                "DESKTOP_WRITEOBJECTS",
                "DESKTOP_SWITCHDESKTOP"
            ],
            STD_REQ
        ),
        &["DESKTOP_ALL_ACCESS"],
        0,
    ),
    case(
        "winsta",
        0xf037f,
        with_std!(
            [
                "WINSTA_ENUMDESKTOPS",
                "WINSTA_READATTRIBUTES",
                "WINSTA_ACCESSCLIPBOARD",
                "WINSTA_CREATEDESKTOP",
                "WINSTA_WRITEATTRIBUTES",
                "WINSTA_ACCESSGLOBALATOMS",
                "WINSTA_EXITWINDOWS",
                "WINSTA_ENUMERATE",
                "WINSTA_READSCREEN"
            ],
            STD_REQ
        ),
        &["WINSTA_ALL_ACCESS", "STANDARD_RIGHTS_REQUIRED"],
        0,
    ),
    case(
        "service",
        0x14,
        &["SERVICE_QUERY_STATUS", "SERVICE_START"],
        &["SERVICE_QUERY_STATUS", "SERVICE_START"],
        0,
    ),
    case(
        "Service",
        0xf01ff,
        with_std!(
            [
                "SERVICE_QUERY_CONFIG",
                "SERVICE_CHANGE_CONFIG",
                "SERVICE_QUERY_STATUS",
                "SERVICE_ENUMERATE_DEPENDENTS",
                "SERVICE_START",
                "SERVICE_STOP",
                "SERVICE_PAUSE_CONTINUE",
                "SERVICE_INTERROGATE",
                "SERVICE_USER_DEFINED_CONTROL"
            ],
            STD_REQ
        ),
        &["SERVICE_ALL_ACCESS"],
        0,
    ),
    case(
        "scm",
        0x1,
        &["SC_MANAGER_CONNECT"],
        &["SC_MANAGER_CONNECT"],
        0,
    ),
    case(
        "SCManager",
        0xf003f,
        with_std!(
            [
                "SC_MANAGER_CONNECT",
                "SC_MANAGER_CREATE_SERVICE",
                "SC_MANAGER_ENUMERATE_SERVICE",
                "SC_MANAGER_LOCK",
                "SC_MANAGER_QUERY_LOCK_STATUS",
                "SC_MANAGER_MODIFY_BOOT_CONFIG"
            ],
            STD_REQ
        ),
        &["SC_MANAGER_ALL_ACCESS"],
        0,
    ),
    case(
        "ALPC Port",
        0x1f0001,
        with_std!(["PORT_CONNECT"], STD_ALL),
        &["PORT_ALL_ACCESS"],
        0,
    ),
    case(
        "debugobject",
        0x1f000f,
        with_std!(
            [
                "DEBUG_READ_EVENT",
                "DEBUG_PROCESS_ASSIGN",
                "DEBUG_SET_INFORMATION",
                "DEBUG_QUERY_INFORMATION"
            ],
            STD_ALL
        ),
        &["DEBUG_ALL_ACCESS"],
        0,
    ),
    case(
        "session",
        0xf0003,
        with_std!(["SESSION_QUERY_ACCESS", "SESSION_MODIFY_ACCESS"], STD_REQ),
        &["SESSION_ALL_ACCESS"],
        0,
    ),
    case(
        "keyedevent",
        0xf0003,
        with_std!(["KEYEDEVENT_WAIT", "KEYEDEVENT_WAKE"], STD_REQ),
        &["KEYEDEVENT_ALL_ACCESS"],
        0,
    ),
    case(
        "EtwRegistration",
        0x804,
        &["WMIGUID_NOTIFICATION", "TRACELOG_REGISTER_GUIDS"],
        &["WMIGUID_NOTIFICATION", "TRACELOG_REGISTER_GUIDS"],
        0,
    ),
    case(
        "etwconsumer",
        0x400,
        &["TRACELOG_ACCESS_REALTIME"],
        &["TRACELOG_ACCESS_REALTIME"],
        0,
    ),
    case(
        "wmiguid",
        0x121fff,
        with_std!(
            [
                "WMIGUID_QUERY",
                "WMIGUID_SET",
                "WMIGUID_NOTIFICATION",
                "WMIGUID_READ_DESCRIPTION",
                "WMIGUID_EXECUTE",
                "TRACELOG_CREATE_REALTIME",
                "TRACELOG_CREATE_ONDISK",
                "TRACELOG_GUID_ENABLE",
                "TRACELOG_ACCESS_KERNEL_LOGGER",
                "TRACELOG_LOG_EVENT",
                "TRACELOG_ACCESS_REALTIME",
                "TRACELOG_REGISTER_GUIDS",
                "TRACELOG_JOIN_GROUP"
            ],
            ["READ_CONTROL", "SYNCHRONIZE"]
        ),
        &["WMIGUID_ALL_ACCESS"],
        0,
    ),
    case(
        "partition",
        0x1f0003,
        with_std!(
            [
                "MEMORY_PARTITION_QUERY_ACCESS",
                "MEMORY_PARTITION_MODIFY_ACCESS"
            ],
            STD_ALL
        ),
        &["MEMORY_PARTITION_ALL_ACCESS"],
        0,
    ),
    case(
        "eventpair",
        0x1f0000,
        &STD_ALL,
        &["EVENT_PAIR_ALL_ACCESS"],
        0,
    ),
    case(
        "filterconnectionport",
        0x1f0001,
        with_std!(["FLT_PORT_CONNECT"], STD_ALL),
        &["FLT_PORT_ALL_ACCESS"],
        0,
    ),
    case(
        "profile",
        0xf0001,
        with_std!(["PROFILE_CONTROL"], STD_REQ),
        &["PROFILE_ALL_ACCESS"],
        0,
    ),
    case(
        "transactionmanager",
        0x2001e,
        &[
            "TRANSACTIONMANAGER_SET_INFORMATION",
            "TRANSACTIONMANAGER_RECOVER",
            "TRANSACTIONMANAGER_RENAME",
            "TRANSACTIONMANAGER_CREATE_RM",
            "READ_CONTROL",
        ],
        &["TRANSACTIONMANAGER_GENERIC_WRITE"],
        0,
    ),
    case(
        "transaction",
        0x12003e,
        &[
            "TRANSACTION_SET_INFORMATION",
            "TRANSACTION_ENLIST",
            "TRANSACTION_COMMIT",
            "TRANSACTION_ROLLBACK",
            "TRANSACTION_PROPAGATE",
            "READ_CONTROL",
            "SYNCHRONIZE",
        ],
        &["TRANSACTION_GENERIC_WRITE"],
        0,
    ),
    case(
        "resourcemanager",
        0x1f007f,
        with_std!(
            [
                "RESOURCEMANAGER_QUERY_INFORMATION",
                "RESOURCEMANAGER_SET_INFORMATION",
                "RESOURCEMANAGER_RECOVER",
                "RESOURCEMANAGER_ENLIST",
                "RESOURCEMANAGER_GET_NOTIFICATION",
                "RESOURCEMANAGER_REGISTER_PROTOCOL",
                "RESOURCEMANAGER_COMPLETE_PROPAGATION"
            ],
            STD_ALL
        ),
        &["RESOURCEMANAGER_ALL_ACCESS"],
        0,
    ),
    case(
        "enlistment",
        0xf001f,
        with_std!(
            [
                "ENLISTMENT_QUERY_INFORMATION",
                "ENLISTMENT_SET_INFORMATION",
                "ENLISTMENT_RECOVER",
                "ENLISTMENT_SUBORDINATE_RIGHTS",
                "ENLISTMENT_SUPERIOR_RIGHTS"
            ],
            STD_REQ
        ),
        &["ENLISTMENT_ALL_ACCESS"],
        0,
    ),
    case(
        "workerfactory",
        0xf003f,
        with_std!(
            [
                "WORKER_FACTORY_RELEASE_WORKER",
                "WORKER_FACTORY_WAIT",
                "WORKER_FACTORY_SET_INFORMATION",
                "WORKER_FACTORY_QUERY_INFORMATION",
                "WORKER_FACTORY_READY_WORKER",
                "WORKER_FACTORY_SHUTDOWN"
            ],
            STD_REQ
        ),
        &["WORKER_FACTORY_ALL_ACCESS"],
        0,
    ),
    case(
        "type",
        0xf0001,
        with_std!(["OBJECT_TYPE_CREATE"], STD_REQ),
        &["OBJECT_TYPE_ALL_ACCESS"],
        0,
    ),
    case(
        "waitcompletionpacket",
        0xf0001,
        with_std!(["WAIT_COMPLETION_PACKET_SET_STATE"], STD_REQ),
        &["WAIT_COMPLETION_PACKET_ALL_ACCESS"],
        0,
    ),
    // SAM and LSA, as Security events 4661/4656 name the object types.
    case(
        "SAM_DOMAIN",
        0x20084,
        &[
            "DOMAIN_READ_OTHER_PARAMETERS",
            "DOMAIN_GET_ALIAS_MEMBERSHIP",
            "READ_CONTROL",
        ],
        &["DOMAIN_READ"],
        0,
    ),
    case(
        "SAM_USER",
        0x2031a,
        &[
            "USER_READ_PREFERENCES",
            "USER_READ_LOGON",
            "USER_READ_ACCOUNT",
            "USER_LIST_GROUPS",
            "USER_READ_GROUP_INFORMATION",
            "READ_CONTROL",
        ],
        &["USER_READ"],
        0,
    ),
    case(
        "SAM_SERVER",
        0x20021,
        &[
            "SAM_SERVER_CONNECT",
            "SAM_SERVER_LOOKUP_DOMAIN",
            "READ_CONTROL",
        ],
        &["SAM_SERVER_EXECUTE"],
        0,
    ),
    case(
        "SAM_GROUP",
        0x2000e,
        &[
            "GROUP_WRITE_ACCOUNT",
            "GROUP_ADD_MEMBER",
            "GROUP_REMOVE_MEMBER",
            "READ_CONTROL",
        ],
        &["GROUP_WRITE"],
        0,
    ),
    case(
        "SAM_ALIAS",
        0x4,
        &["ALIAS_LIST_MEMBERS"],
        &["ALIAS_LIST_MEMBERS"],
        0,
    ),
    case(
        "policy",
        0x801,
        &["POLICY_VIEW_LOCAL_INFORMATION", "POLICY_LOOKUP_NAMES"],
        &["POLICY_VIEW_LOCAL_INFORMATION", "POLICY_LOOKUP_NAMES"],
        0,
    ),
    case(
        "lsaaccount",
        0xf000f,
        with_std!(
            [
                "ACCOUNT_VIEW",
                "ACCOUNT_ADJUST_PRIVILEGES",
                "ACCOUNT_ADJUST_QUOTAS",
                "ACCOUNT_ADJUST_SYSTEM_ACCESS"
            ],
            STD_REQ
        ),
        &["ACCOUNT_ALL_ACCESS"],
        0,
    ),
    case(
        "secret",
        0x20002,
        &["SECRET_QUERY_VALUE", "READ_CONTROL"],
        &["SECRET_READ"],
        0,
    ),
    case(
        "trusteddomain",
        0x1,
        &["TRUSTED_QUERY_DOMAIN_NAME"],
        &["TRUSTED_QUERY_DOMAIN_NAME"],
        0,
    ),
    case(
        "fd",
        0o2000001,
        &["O_WRONLY", "O_CLOEXEC"],
        &["O_WRONLY", "O_CLOEXEC"],
        0,
    ),
    case(
        "fd",
        0o104002,
        &["O_RDWR", "O_NONBLOCK", "O_LARGEFILE"],
        &["O_RDWR", "O_NONBLOCK", "O_LARGEFILE"],
        0,
    ),
    case(
        "fd",
        0o4010001,
        &["O_WRONLY", "O_SYNC"],
        &["O_WRONLY", "O_SYNC"],
        0,
    ),
    case("fd", 0o10000000, &["O_PATH"], &["O_PATH"], 0),
    case("fd", 0, &["O_RDONLY"], &["O_RDONLY"], 0),
    // Mode 3 is no access mode; __O_SYNC without O_DSYNC has no name of its own.
    case("fd", 0o4000003, &[], &[], 0o4000003),
];

#[test]
fn hand_checked_masks_for_every_type() {
    for c in CASES {
        let ty = lookup_type(c.ty).unwrap_or_else(|| panic!("no type {}", c.ty));
        let d = decode(c.mask, Some(ty));
        let names: Vec<_> = d.names().collect();
        assert_eq!(names, c.rights, "{} {:#x}: rights", c.ty, c.mask);
        assert_eq!(d.compact, c.compact, "{} {:#x}: compact", c.ty, c.mask);
        assert_eq!(d.unknown, c.unknown, "{} {:#x}: unknown", c.ty, c.mask);
    }
    for t in types() {
        let covered = CASES
            .iter()
            .any(|c| lookup_type(c.ty).is_some_and(|ct| ct.name == t.name));
        // File and Pipe have their cases in tests/seeds.rs.
        assert!(
            covered || t.name == "File" || t.name == "Pipe",
            "no case for {}",
            t.name
        );
    }
}

#[test]
fn the_types_the_issue_asks_for_and_their_aliases() {
    let wanted = [
        ("file", "File"),
        ("dir", "FileDirectory"),
        ("pipe", "Pipe"),
        ("namedpipe", "Pipe"),
        ("process", "Process"),
        ("thread", "Thread"),
        ("token", "Token"),
        ("registry", "Key"),
        ("KEY", "Key"),
        ("event", "Event"),
        ("mutex", "Mutant"),
        ("Mutant", "Mutant"),
        ("semaphore", "Semaphore"),
        ("section", "Section"),
        ("job", "Job"),
        ("timer", "Timer"),
        ("IoCompletion", "IoCompletion"),
        ("directory", "Directory"),
        ("symboliclink", "SymbolicLink"),
        ("desktop", "Desktop"),
        ("winsta", "WindowStation"),
        ("Window_Station", "WindowStation"),
        ("service", "Service"),
        ("scmanager", "SCManager"),
        ("ALPC Port", "AlpcPort"),
        ("debugobject", "DebugObject"),
        ("session", "Session"),
        ("keyedevent", "KeyedEvent"),
        ("etwregistration", "EtwRegistration"),
        ("partition", "Partition"),
        ("FD", "fd"),
    ];
    for (alias, name) in wanted {
        assert_eq!(lookup_type(alias).map(|t| t.name), Some(name), "{alias}");
    }
    assert!(lookup_type("no-such-type").is_none());
    assert!(lookup_type("").is_none());
    // As complete as System Informer's secdata.c for kernel types (36 of them), plus
    // FileDirectory, Pipe, fd, and the SAM and LSA objects (9).
    assert!(types().len() >= 48, "{} types", types().len());
}

#[test]
fn every_name_and_alias_finds_only_its_own_type() {
    for t in types() {
        for name in std::iter::once(&t.name).chain(t.aliases) {
            // lookup_type compares byte for byte once separators are stripped.
            assert!(name.bytes().all(|c| c.is_ascii_alphanumeric()), "{name}");
            // The human and JSON printers write table strings without escaping.
            assert!(!name.is_empty() && name.len() <= 40);
            assert_eq!(lookup_type(name).map(|f| f.name), Some(t.name), "{name}");
        }
    }
}

#[test]
fn access_mask_rights_are_single_specific_bits_in_order() {
    for t in types().iter().filter(|t| t.kind == Kind::AccessMask) {
        let mut last = 0;
        for r in t.rights {
            assert_eq!(r.bits.count_ones(), 1, "{}: {}", t.name, r.name);
            assert!(r.bits <= 0xffff, "{}: {} is not specific", t.name, r.name);
            assert!(r.bits > last, "{}: {} out of order", t.name, r.name);
            assert!(!r.doc.is_empty());
            assert!(
                (r.name.to_owned() + r.doc)
                    .bytes()
                    .all(|c| c.is_ascii_graphic() || c == b' ')
                    && !r.doc.contains(['"', '\\']),
                "{}: {} has characters JSON would escape",
                t.name,
                r.name
            );
            last = r.bits;
        }
        for c in t.combos {
            assert!(
                c.bits.count_ones() >= 2,
                "{}: {} is one bit",
                t.name,
                c.name
            );
        }
    }
}

#[test]
fn every_name_encodes_to_its_bits_with_and_without_prefix() {
    for t in types() {
        for r in t.rights.iter().chain(t.synonyms).chain(t.combos) {
            assert_eq!(
                encode(r.name, Some(t)),
                Ok(r.bits),
                "{}: {}",
                t.name,
                r.name
            );
            let lower = r.name.to_ascii_lowercase();
            assert_eq!(encode(&lower, Some(t)), Ok(r.bits), "{}: {lower}", t.name);
            let short = t.prefixes.iter().find_map(|p| r.name.strip_prefix(p));
            if let Some(short) = short {
                // A short name may be shared (FILE_GENERIC_READ → GENERIC_READ is the
                // generic right itself); full names win, so only check unshared ones.
                if encode(short, None).is_err() {
                    assert_eq!(encode(short, Some(t)), Ok(r.bits), "{}: {short}", t.name);
                }
            }
        }
    }
}

#[test]
fn generic_mappings_agree_with_the_types() {
    for t in types() {
        let Some(m) = t.mapping else {
            continue;
        };
        assert_eq!(map_generic(0x1000_0000, t), m.all, "{}", t.name);
        assert_eq!(map_generic(0x8000_0000, t), m.read, "{}", t.name);
        assert_eq!(
            map_generic(0xf000_0000 | 0x100000, t),
            m.read | m.write | m.execute | m.all | 0x100000
        );
        for v in [m.read, m.write, m.execute, m.all] {
            assert_eq!(
                v & 0xf000_0000,
                0,
                "{}: a mapping holds no generic bit",
                t.name
            );
        }
    }
    let file = lookup_type("file").unwrap();
    assert_eq!(map_generic(0x8000_0000, file), 0x120089);
    assert_eq!(map_generic(0x4000_0000, file), 0x120116);
    assert_eq!(map_generic(0x2000_0000, file), 0x1200a0);
    let process = lookup_type("process").unwrap();
    assert_eq!(map_generic(0x1000_0000, process), 0x1fffff);
    let key = lookup_type("key").unwrap();
    assert_eq!(map_generic(0x8000_0000, key), 0x20019);
    // No mapping: open flags pass through.
    let fd = lookup_type("fd").unwrap();
    assert_eq!(map_generic(0o2000001, fd), 0o2000001);
}

#[test]
fn encode_expressions() {
    let file = lookup_type("file");
    let cases: &[(&str, Option<&'static TypeInfo>, u32)] = &[
        ("FILE_GENERIC_READ|SYNCHRONIZE", file, 0x120089),
        ("read_data + read_ea, read_attributes", file, 0x89),
        ("FR", file, 0x120089),
        ("FA", None, 0x1f01ff),
        ("GA", None, 0x1000_0000),
        ("KR", None, 0x20019),
        ("CCDCLCSWRPWPDTLOCRSDRCWDWO", None, 0xf01ff),
        ("GENERIC_READ", file, 0x8000_0000),
        ("0x100 | FILE_READ_DATA", file, 0x101),
        (
            "PROCESS_VM_READ|PROCESS_QUERY_LIMITED_INFORMATION",
            None,
            0x1010,
        ),
        (
            "vm_read|query_limited_information",
            lookup_type("process"),
            0x1010,
        ),
        ("MUTEX_ALL_ACCESS", lookup_type("mutex"), 0x1f0001),
        ("O_WRONLY|O_CLOEXEC", lookup_type("fd"), 0o2000001),
        ("wronly|cloexec", lookup_type("fd"), 0o2000001),
        ("02000001", lookup_type("fd"), 0o2000001),
        ("MAXIMUM_ALLOWED", None, 0x0200_0000),
        (
            "STANDARD_RIGHTS_REQUIRED|SYNCHRONIZE|0xFFFF",
            lookup_type("process"),
            0x1fffff,
        ),
    ];
    for &(expr, ty, want) in cases {
        assert_eq!(encode(expr, ty), Ok(want), "{expr}");
    }
    assert!(encode("", file).is_err());
    assert!(encode("FILE_READ_DATA||SYNCHRONIZE", file).is_err());
    assert!(encode("0x100000000", file).is_err());
    // SDDL does not apply to open flags.
    assert!(encode("FA", lookup_type("fd")).is_err());
}

#[test]
fn without_a_type_only_common_bits_are_named() {
    let d = decode(0x1410, None);
    assert!(d.rights.is_empty());
    assert_eq!(d.unknown, 0x1410);
    assert!(d.needs_type());
    let d = decode(0x8012_0089, None);
    let names: Vec<_> = d.names().collect();
    assert_eq!(names, ["READ_CONTROL", "SYNCHRONIZE", "GENERIC_READ"]);
    assert_eq!(d.unknown, 0x89);
    let d = decode(0x0300_0000, None);
    let groups: Vec<_> = d.rights.iter().map(|r| r.group.as_str()).collect();
    assert_eq!(groups, ["special", "special"]);
    assert!(!d.needs_type());
    // Reserved bits 21-23 and 26-27 are never named.
    assert_eq!(
        decode(0x0ce0_0000, lookup_type("file")).unknown,
        0x0ce0_0000
    );
}

#[test]
fn parse_then_decode_an_fdinfo_line() {
    let fd = lookup_type("fd");
    let flags = parse_mask("02100002", fd).unwrap();
    let names: Vec<_> = decode(flags, fd).names().collect();
    assert_eq!(names, ["O_RDWR", "O_LARGEFILE", "O_CLOEXEC"]);
}
