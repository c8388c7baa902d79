//! The `main` the app's database programs share (`ephitup-api`, `ephitup-worker`): logs to
//! stderr filtered by `RUST_LOG` (default `info`) — one JSON object a line under
//! `EPHITUP_LOG_FORMAT=json`, plain text otherwise —, a multi-threaded runtime, and an error
//! printed with its causes and turned into a failing exit code.

use std::future::Future;
use std::process::ExitCode;

/// Runs `program` to completion as the process's main task.
pub fn run(name: &str, program: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("EPHITUP_LOG_FORMAT").is_ok_and(|f| f == "json") {
        // Fields at the top level (`{"timestamp","level","target","message","method",...}`).
        logs.json().flatten_event(true).with_current_span(false).with_span_list(false).init();
    } else {
        logs.with_target(false).init();
    }
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
