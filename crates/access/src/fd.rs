//! Linux open flags, as `/proc/PID/fdinfo/N` prints them on its `flags:` line (octal).
//!
//! Values: the kernel's `include/uapi/asm-generic/fcntl.h` (x86-64 and most others; the
//! same numbers as glibc's `<bits/fcntl-linux.h>`).

/// One open flag: its name, its bits, and what it means (the same shape as a Windows
/// access right).
pub type FdFlag = crate::model::Right;

/// `O_ACCMODE`: the two bits holding the access mode.
pub const O_ACCMODE: u32 = 0o3;
/// `O_PATH`: a descriptor that names a file but cannot read or write it.
pub const O_PATH: u32 = 0o10000000;

/// Every flag other than the access mode, in bit order. `O_SYNC` is `__O_SYNC|O_DSYNC`
/// and `O_TMPFILE` is `__O_TMPFILE|O_DIRECTORY`; both are listed by their compound value.
pub const FD_FLAGS: &[FdFlag] = &[
    FdFlag {
        name: "O_CREAT",
        bits: 0o100,
        doc: "create if missing",
    },
    FdFlag {
        name: "O_EXCL",
        bits: 0o200,
        doc: "fail if it exists",
    },
    FdFlag {
        name: "O_NOCTTY",
        bits: 0o400,
        doc: "do not become the controlling terminal",
    },
    FdFlag {
        name: "O_TRUNC",
        bits: 0o1000,
        doc: "truncate on open",
    },
    FdFlag {
        name: "O_APPEND",
        bits: 0o2000,
        doc: "every write appends",
    },
    FdFlag {
        name: "O_NONBLOCK",
        bits: 0o4000,
        doc: "non-blocking I/O",
    },
    FdFlag {
        name: "O_DSYNC",
        bits: 0o10000,
        doc: "writes wait for data to reach storage",
    },
    FdFlag {
        name: "O_ASYNC",
        bits: 0o20000,
        doc: "signal-driven I/O (FASYNC)",
    },
    FdFlag {
        name: "O_DIRECT",
        bits: 0o40000,
        doc: "bypass the page cache",
    },
    FdFlag {
        name: "O_LARGEFILE",
        bits: 0o100000,
        doc: "64-bit offsets",
    },
    FdFlag {
        name: "O_DIRECTORY",
        bits: 0o200000,
        doc: "must be a directory",
    },
    FdFlag {
        name: "O_NOFOLLOW",
        bits: 0o400000,
        doc: "do not follow a final symlink",
    },
    FdFlag {
        name: "O_NOATIME",
        bits: 0o1000000,
        doc: "do not update access time",
    },
    FdFlag {
        name: "O_CLOEXEC",
        bits: 0o2000000,
        doc: "closed on exec",
    },
    FdFlag {
        name: "O_SYNC",
        bits: 0o4010000,
        doc: "writes wait for data and metadata",
    },
    FdFlag {
        name: "O_PATH",
        bits: O_PATH,
        doc: "path only: no read or write",
    },
    FdFlag {
        name: "O_TMPFILE",
        bits: 0o20200000,
        doc: "unnamed temporary file",
    },
];

const O_RDONLY: FdFlag = FdFlag {
    name: "O_RDONLY",
    bits: 0,
    doc: "read only",
};
const O_WRONLY: FdFlag = FdFlag {
    name: "O_WRONLY",
    bits: 1,
    doc: "write only",
};
const O_RDWR: FdFlag = FdFlag {
    name: "O_RDWR",
    bits: 2,
    doc: "read and write",
};

/// The access modes, the values of `flags & O_ACCMODE`.
pub const FD_MODES: &[FdFlag] = &[O_RDONLY, O_WRONLY, O_RDWR];

/// Other names: the access modes, and the old spellings glibc still accepts.
pub const FD_SYNONYMS: &[FdFlag] = &[
    O_RDONLY,
    O_WRONLY,
    O_RDWR,
    FdFlag {
        name: "O_NDELAY",
        bits: 0o4000,
        doc: "non-blocking I/O",
    },
    FdFlag {
        name: "FASYNC",
        bits: 0o20000,
        doc: "signal-driven I/O",
    },
    FdFlag {
        name: "O_FSYNC",
        bits: 0o4010000,
        doc: "writes wait for data and metadata",
    },
    FdFlag {
        name: "O_RSYNC",
        bits: 0o4010000,
        doc: "writes wait for data and metadata",
    },
];

/// What an open descriptor may do with its file's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FdMode {
    /// `O_RDONLY`.
    Read,
    /// `O_WRONLY`.
    Write,
    /// `O_RDWR`.
    ReadWrite,
    /// `O_PATH`: neither.
    Path,
}

/// The access mode of open flags.
pub fn fd_mode(flags: u32) -> FdMode {
    if flags & O_PATH != 0 {
        return FdMode::Path;
    }
    match flags & O_ACCMODE {
        0 => FdMode::Read,
        1 => FdMode::Write,
        _ => FdMode::ReadWrite,
    }
}

/// The names of the flags set in `flags`: the access mode first (`O_RDONLY`, `O_WRONLY`,
/// `O_RDWR`; none for `O_PATH`), then each other flag. Compound flags (`O_SYNC`,
/// `O_TMPFILE`) are named instead of their parts when all their bits are set. Bits with no
/// name are not listed.
pub fn fd_flag_names(flags: u32) -> Vec<&'static str> {
    let mut names = Vec::with_capacity(4);
    match fd_mode(flags) {
        FdMode::Read => names.push("O_RDONLY"),
        FdMode::Write => names.push("O_WRONLY"),
        FdMode::ReadWrite => names.push("O_RDWR"),
        FdMode::Path => {}
    }
    let mut covered = 0;
    // Compound flags first so their parts are not named twice.
    for f in FD_FLAGS.iter().filter(|f| f.bits.count_ones() > 1) {
        if flags & f.bits == f.bits {
            covered |= f.bits;
        }
    }
    for f in FD_FLAGS {
        let compound = f.bits.count_ones() > 1;
        let set = flags & f.bits == f.bits;
        if set && (compound || covered & f.bits == 0) {
            names.push(f.name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_write_end_as_fdinfo_prints_it() {
        // A pipe write end with O_CLOEXEC, as fdinfo shows: "flags:\t02000001".
        assert_eq!(fd_flag_names(0o2000001), ["O_WRONLY", "O_CLOEXEC"]);
        assert_eq!(fd_mode(0o2000001), FdMode::Write);
    }

    #[test]
    fn compound_flags_are_named_once() {
        assert_eq!(fd_flag_names(0o4010002), ["O_RDWR", "O_SYNC"]);
        assert_eq!(fd_flag_names(0o10000), ["O_RDONLY", "O_DSYNC"]);
        assert_eq!(fd_flag_names(0o20200002), ["O_RDWR", "O_TMPFILE"]);
        assert_eq!(fd_flag_names(0o10000000), ["O_PATH"]);
        assert_eq!(fd_mode(0o10000000), FdMode::Path);
    }
}
