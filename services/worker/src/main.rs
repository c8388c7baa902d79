//! `ephitup-worker`: thin entry point; the queue and the jobs live in the library.

use std::process::ExitCode;

use clap::Parser;
use ephitup_worker::settings::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ephitup_store::program::run("ephitup-worker", ephitup_worker::run(cli))
}
