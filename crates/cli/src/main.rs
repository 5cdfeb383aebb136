//! The `pipescope` binary: arguments, dispatch, and the mapping of errors to exit codes.

mod cli;
mod cmd;
mod diagram;
mod json;
mod live;
mod out;

use std::io;
use std::process::ExitCode;

use clap::Parser;

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
    let cli = Cli::parse();
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
    eprintln!("pipescope: {}", one_line(err));
    ExitCode::from(2)
}

fn one_line(err: &anyhow::Error) -> String {
    let mut s = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
    }
    s.replace('\n', " ")
}
