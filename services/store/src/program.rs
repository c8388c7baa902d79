//! The `main` the app's database programs share (`ephitup-api`, `ephitup-worker`): logs to
//! stderr filtered by `RUST_LOG` (default `info`) — one JSON object a line under
//! `EPHITUP_LOG_FORMAT=json`, plain text otherwise —, large blocks given back when freed
//! ([`large_blocks_given_back`]), a multi-threaded runtime, and an error printed with its
//! causes and turned into a failing exit code.

use std::future::Future;
use std::process::ExitCode;

/// Runs `program` to completion as the process's main task.
pub fn run(name: &str, program: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    large_blocks_given_back(name);
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

/// Keeps every allocation of 1 MiB or more in its own mapping, returned to the system when
/// freed. glibc's default raises its mmap threshold past the first large block freed (up to
/// 32 MiB), after which large blocks come from the arenas and stay there once freed: each
/// argon2id hash (19 MiB, on one of the blocking pool's threads) stayed in that thread's arena
/// after the sign-in, and the API grew by 19 MiB per sign-in on a new thread until the kernel
/// killed it at its 112 MiB limit after five (`scripts/bench/api.sh`, release build); a long
/// source's text and chunks (megabytes) stayed in the worker's the same way. A fixed threshold
/// turns that adjustment off. Called before any thread exists.
fn large_blocks_given_back(name: &str) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a parameter of the allocator; no thread runs yet.
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
        if set != 1 {
            eprintln!("{name}: mallopt(M_MMAP_THRESHOLD) refused; large freed blocks may stay in the arenas");
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = name;
}
