//! The command line: `ephitup up` and `ephitup check`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "ephitup",
    version,
    about = "Run the services declared in ephitup.toml: in dependency order, health-checked, restarted, logged, stopped cleanly."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start every service and supervise them in the foreground.
    Up {
        #[command(flatten)]
        file: ConfigFile,
    },
    /// Validate the configuration and print the startup plan.
    Check {
        #[command(flatten)]
        file: ConfigFile,
    },
}

#[derive(Debug, clap::Args)]
pub struct ConfigFile {
    /// The configuration file.
    #[arg(short = 'f', long = "file", env = "EPHITUP_CONFIG", default_value = "ephitup.toml")]
    pub path: PathBuf,
}
