//! The `main` the app's database programs share (`ephitup-api`, `ephitup-worker`): logs to
//! stderr filtered by `RUST_LOG` (default `info`), a multi-threaded runtime, and an error
//! printed with its causes and turned into a failing exit code.

use std::future::Future;
use std::process::ExitCode;

/// Runs `program` to completion as the process's main task.
pub fn run(name: &str, program: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(program) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
