//! One module per subcommand: its arguments and what it does.

pub mod access;
pub mod handles;
pub mod meta;
pub mod named_pipes;
pub mod pipe;
pub mod pipes;
pub mod run;
pub mod top;
pub mod watch;
