//! The `pipescope` binary: arguments, dispatch, and the mapping of errors to exit codes.

mod cli;
mod cmd;
mod diagram;
mod json;
mod live;
mod out;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::{Cli, Command};

/// An error that ends the program with a chosen exit status and no further message
/// (the message, if any, was already printed).
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Exit {}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let result = match cli.command {
        Command::Access(args) => cmd::access::run(args),
        Command::Handles(args) => cmd::handles::run(args),
        Command::Pipe(args) => cmd::pipe::run(args),
        Command::Pipes(args) => cmd::pipes::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Watch(args) => cmd::watch::run(args),
        Command::Top(args) => cmd::top::run(args),
        Command::Completions(args) => cmd::meta::completions(args),
        Command::Man(args) => cmd::meta::man(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => exit_for(&err),
    }
}

/// Maps an error to its exit status: a closed stdout (`| head`) ends quietly with 0, an
/// [`Exit`] with its own status, anything else with one line on stderr and status 2.
fn exit_for(err: &anyhow::Error) -> ExitCode {
    if let Some(exit) = err.downcast_ref::<Exit>() {
        return ExitCode::from(exit.0);
    }
    let broken_pipe = err
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe);
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    say(&one_line(err));
    ExitCode::from(2)
}

/// Writes `pipescope: MESSAGE` as one line on stderr, its control bytes escaped. A stderr
/// that cannot be written (closed, full) is no reason to fail louder: the line is dropped.
pub fn say(message: &str) {
    let line = format!("pipescope: {}\n", out::escape_str(message));
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// What clap found: `--help` and `--version` are printed in full to stdout (status 0); a
/// usage error is one line on stderr, with clap's tip and where to find help, status 2.
fn usage_error(err: &clap::Error) -> ExitCode {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let text = err.render().to_string();
        return match io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                say(&format!("cannot write the help: {e}"));
                ExitCode::from(2)
            }
            _ => ExitCode::SUCCESS,
        };
    }
    say(&usage_line(err));
    ExitCode::from(2)
}

/// clap's usage error as one line: its message, its tips in parentheses, and the
/// `--help` to read (the subcommand's, when one was named).
fn usage_line(err: &clap::Error) -> String {
    use clap::CommandFactory;
    let subcommand = std::env::args_os()
        .nth(1)
        .and_then(|a| a.into_string().ok())
        .filter(|a| Cli::command().find_subcommand(a).is_some());
    let help = match subcommand {
        Some(sub) => format!("pipescope {sub} --help"),
        None => "pipescope --help".to_string(),
    };
    if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let commands: Vec<String> = Cli::command()
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name().to_string())
            .collect();
        return match err.context().next() {
            None if !commands.is_empty() && help == "pipescope --help" => {
                format!("give a command: {}; see `{help}`", commands.join(", "))
            }
            _ => format!("more arguments are needed; see `{help}`"),
        };
    }
    // The rendered error: a first paragraph (the message, `error: ` first), then tips
    // (`tip: …`), the usage and a pointer to --help, which the one line replaces.
    let rendered = err.render().to_string();
    let mut message = Vec::new();
    let mut tips = Vec::new();
    let mut in_message = true;
    for line in rendered.lines() {
        let line = line.trim();
        if line.is_empty() {
            in_message = message.is_empty();
        } else if let Some(tip) = line.strip_prefix("tip:") {
            tips.push(tip.trim());
        } else if in_message {
            message.push(line.strip_prefix("error:").unwrap_or(line).trim());
        }
    }
    let mut line = message.join(" ");
    if !tips.is_empty() {
        line = format!("{line} ({})", tips.join("; "));
    }
    format!("{line}; see `{help}`")
}

/// An error and its causes as one line (a cause already in the message is not repeated).
fn one_line(err: &anyhow::Error) -> String {
    let mut s = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
    }
    s
}
