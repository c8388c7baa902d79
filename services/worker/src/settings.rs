//! The worker's command line, each option with an environment fallback (the way
//! `ephitup.toml` configures services), and the settings derived from it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(name = "ephitup-worker", version, about = "Runs the app's queued jobs (podcasts, source processing).")]
pub struct Cli {
    /// Jobs run at the same time by this worker.
    #[arg(long, env = "WORKER_MAX_TASKS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_tasks: u32,
    /// How long a claimed job stays this worker's without a heartbeat; after that another
    /// worker takes it again.
    #[arg(long, env = "WORKER_LEASE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub lease: Duration,
    /// How often a running job's lease is renewed (well under `--lease`).
    #[arg(long, env = "WORKER_HEARTBEAT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub heartbeat: Duration,
    /// How often the queue is polled when no live-query notification arrives (live queries
    /// drop on reconnect), and expired leases are looked for.
    #[arg(long, env = "WORKER_POLL_INTERVAL", default_value = "2s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// On SIGTERM: how long running jobs may take to finish before they are handed back as
    /// `new`. Keep it under the service's `stop_timeout`.
    #[arg(long, env = "WORKER_DRAIN_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// A job whose lease expired this many times (its worker died each time) ends `failed`.
    #[arg(long, env = "WORKER_MAX_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// This worker's name on the jobs it holds (`lease_owner`); default host-pid-random.
    #[arg(long, env = "WORKER_ID")]
    pub worker_id: Option<String>,
    /// Where audio is written (`DATA_PATH/podcasts/...`) and uploads are read.
    #[arg(long, env = "DATA_PATH", default_value = "./data")]
    pub data_path: PathBuf,
    /// Let link sources point at private and loopback addresses (tests, or a deployment
    /// whose sources live on its own network). Off by default: links are refused there.
    #[arg(long, env = "WORKER_ALLOW_PRIVATE_LINKS")]
    pub allow_private_links: bool,
    /// Let users' AI provider base URLs point at private and loopback addresses (a
    /// single-user install with a local Ollama; tests). Off by default: such URLs are refused,
    /// and names are resolved and checked before every connection.
    #[arg(long, env = "ALLOW_PRIVATE_PROVIDER_URLS")]
    pub allow_private_provider_urls: bool,
    /// Benchmark only: no live query, polling alone (the peer the live query is measured against).
    #[arg(long, env = "WORKER_NO_LIVE_QUERY", hide = true)]
    pub no_live_query: bool,
    /// Tests and benchmarks only: also run `noop` jobs.
    #[arg(long, env = "WORKER_TEST_JOBS", hide = true)]
    pub test_jobs: bool,
}

impl Cli {
    /// Checks what clap cannot: the heartbeat must come well before the lease ends.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.heartbeat * 2 > self.lease {
            anyhow::bail!(
                "--heartbeat ({:?}) must be at most half of --lease ({:?}), or leases expire under running jobs",
                self.heartbeat,
                self.lease
            );
        }
        if self.poll_interval.is_zero() {
            anyhow::bail!("--poll-interval must be more than 0");
        }
        Ok(())
    }

    pub fn worker_id(&self) -> String {
        self.worker_id.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            let mut random = [0u8; 3];
            let _ = getrandom::fill(&mut random);
            let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}-{}-{suffix}", host.trim(), std::process::id())
        })
    }
}
