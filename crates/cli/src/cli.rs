//! The command line, defined once: help, the man page and shell completions all come from
//! these definitions.

use clap::{Parser, Subcommand};

use crate::cmd;

/// Shows the pipes between processes, every handle at both ends of them, and exactly what
/// each handle is allowed to do.
#[derive(Debug, Parser)]
#[command(name = "pipescope", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Start with `pipescope pipes` to see every pipe on the machine and \
what is wrong with it, or `pipescope access 0x120189 file` to decode an access mask."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode or encode an access mask (Windows rights, Linux open flags).
    Access(cmd::access::Args),
    /// List the handles (fds) of one process, several, or all.
    Handles(cmd::handles::Args),
    /// Create an anonymous pipe and show both of its handles.
    Pipe(cmd::pipe::Args),
    /// Show every pipe with its readers and writers, and what is wrong with it.
    Pipes(cmd::pipes::Args),
    /// Run a shell pipeline and watch it live: fill levels, throughput, the bottleneck.
    Run(cmd::run::Args),
    /// Attach to a running pipeline and watch it live.
    Watch(cmd::watch::Args),
    /// The machine's pipe traffic, live: busiest pipes, who writes and reads, who waits.
    Top(cmd::top::Args),
    /// Print a shell completion script.
    Completions(cmd::meta::CompletionsArgs),
    /// Print the man page (roff).
    Man(cmd::meta::ManArgs),
}
