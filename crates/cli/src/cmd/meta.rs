//! `pipescope completions` and `pipescope man`: generated from the clap definitions.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Arguments of `pipescope completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `pipescope man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// Writes the completion script for one shell to stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    // clap_complete panics when its writer fails: generate into memory, then write.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "pipescope", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}

/// Writes the man page (roff) to stdout, with a section per subcommand.
pub fn man(_args: ManArgs) -> anyhow::Result<()> {
    let cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        let name: &'static str = format!("pipescope-{}", sub.get_name()).leak();
        let sub = sub.clone().name(name);
        clap_mangen::Man::new(sub).render(&mut out)?;
    }
    out.flush()?;
    Ok(())
}
