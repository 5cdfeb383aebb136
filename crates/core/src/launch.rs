//! Starting a pipeline stage by stage, without a shell: one process per stage, one pipe
//! per joint, and each stage given exactly the ends it should hold — its standard input,
//! output and error — and nothing else. This is how `pipescope run` starts a pipeline on
//! Windows, where there is no `sh -c` to do it (and where `cmd` lets every stage inherit
//! every inheritable handle, the classic missing end-of-file).
//!
//! The first stage reads pipescope's own standard input, the last writes its standard
//! output, every stage writes its standard error; the pipeline's exit code is the last
//! stage's, as a shell gives it. A stage that needs `cmd` (a built-in such as `dir`,
//! redirections, `&&`) runs as `cmd /d /s /c "STAGE"`: it stays one stage, joined to the
//! others by pipescope's pipes. [`launch`] exists on Windows; elsewhere it returns
//! [`crate::Error::Unsupported`] (Linux runs pipelines through `sh`).

use crate::{Pid, Result};

/// The built-in commands of `cmd.exe`, which exist only inside it.
const CMD_BUILTINS: &[&str] = &[
    "assoc", "break", "call", "cd", "chdir", "cls", "color", "copy", "date", "del", "dir", "echo",
    "endlocal", "erase", "exit", "for", "ftype", "goto", "if", "md", "mkdir", "mklink", "move",
    "path", "pause", "popd", "prompt", "pushd", "rd", "rem", "ren", "rename", "rmdir", "set",
    "setlocal", "shift", "start", "time", "title", "type", "ver", "verify", "vol",
];

/// Whether a stage's text needs `cmd` to run: its first word is a `cmd` built-in
/// (`dir`, `type`, `echo`…), or it uses what only `cmd` understands (`<`, `>`, `&`, `^`,
/// `%VAR%`, parentheses).
pub fn needs_cmd(stage: &str) -> bool {
    let first = stage
        .trim_start()
        .trim_start_matches('@')
        .split(|c: char| c.is_whitespace() || matches!(c, '/' | '.' | '<' | '>' | '&'))
        .next()
        .unwrap_or("");
    let builtin = CMD_BUILTINS.iter().any(|b| b.eq_ignore_ascii_case(first));
    let mut quoted = false;
    let special = stage.chars().any(|c| {
        if c == '"' {
            quoted = !quoted;
        }
        !quoted && matches!(c, '<' | '>' | '&' | '^' | '%' | '(' | ')')
    });
    builtin || special
}

/// The command line a stage runs as: the stage itself, or through `comspec` (`cmd.exe`)
/// when it [`needs_cmd`].
pub fn command_line(stage: &str, comspec: &str) -> String {
    let stage = stage.trim();
    if needs_cmd(stage) {
        // With /s, cmd strips exactly the outer quotes and runs the rest as typed.
        format!("{comspec} /d /s /c \"{stage}\"")
    } else {
        stage.to_string()
    }
}

/// A pipeline started by [`launch`]: its stages' processes, in order.
#[derive(Debug)]
pub struct Launched {
    #[cfg(windows)]
    inner: crate::sys::Launched,
    #[cfg(not(windows))]
    never: std::convert::Infallible,
}

/// Starts `stages` (the pipeline's text split on `|`, see
/// [`crate::sample::split_pipeline`]) joined by pipes. On a failure to start a stage,
/// the stages already started are ended and the error says which stage failed.
pub fn launch(stages: &[String]) -> Result<Launched> {
    #[cfg(windows)]
    return crate::sys::launch(stages).map(|inner| Launched { inner });
    #[cfg(not(windows))]
    {
        let _ = stages;
        Err(crate::Error::Unsupported(
            "starting a pipeline without a shell",
        ))
    }
}

/// Ends process `pid` as Ctrl-C ends a console program that does not handle it
/// (`STATUS_CONTROL_C_EXIT`): for a terminal UI holding the console in raw mode, where
/// Ctrl-C reaches pipescope as a key and no stage sees it. Windows only; elsewhere
/// [`crate::Error::Unsupported`] (send SIGINT).
pub fn interrupt(pid: Pid) -> Result<()> {
    #[cfg(windows)]
    return crate::sys::interrupt(pid);
    #[cfg(not(windows))]
    {
        let _ = pid;
        Err(crate::Error::Unsupported("ending a process as Ctrl-C does"))
    }
}

impl Launched {
    /// The stages' process ids, first stage first.
    pub fn pids(&self) -> Vec<Pid> {
        #[cfg(windows)]
        return self.inner.pids();
        #[cfg(not(windows))]
        match self.never {}
    }

    /// The command line each stage runs, first stage first.
    pub fn command_lines(&self) -> Vec<String> {
        #[cfg(windows)]
        return self.inner.command_lines();
        #[cfg(not(windows))]
        match self.never {}
    }

    /// Waits until every stage has exited; returns the last stage's exit code.
    pub fn wait(&self) -> Result<u32> {
        #[cfg(windows)]
        return self.inner.wait();
        #[cfg(not(windows))]
        match self.never {}
    }

    /// Ends every stage still running, with exit code `code`.
    pub fn terminate(&self, code: u32) {
        #[cfg(windows)]
        self.inner.terminate(code);
        #[cfg(not(windows))]
        {
            let _ = code;
            match self.never {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_that_need_cmd() {
        for s in [
            "dir",
            "DIR /b",
            "dir/b",
            "type a.txt",
            "@echo hi",
            "echo.",
            "sort < in.txt",
            "findstr x > out.txt",
            "a && b",
            "echo %PATH%",
            "(echo a)",
            "set",
        ] {
            assert!(needs_cmd(s), "{s}");
        }
        for s in [
            "findstr pipe",
            "sort",
            "pipescope.exe pipe --hold",
            r"C:\tools\gzip.exe -d",
            "find \"a > b\"",
            "directory-lister.exe",
            "typeperf",
        ] {
            assert!(!needs_cmd(s), "{s}");
        }
    }

    #[test]
    fn command_lines() {
        assert_eq!(command_line(" findstr pipe ", "cmd.exe"), "findstr pipe");
        assert_eq!(
            command_line("dir", r"C:\Windows\system32\cmd.exe"),
            r#"C:\Windows\system32\cmd.exe /d /s /c "dir""#
        );
        assert_eq!(
            command_line(r#"type "a b.txt""#, "cmd.exe"),
            r#"cmd.exe /d /s /c "type "a b.txt"""#
        );
    }
}
