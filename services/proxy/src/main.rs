//! `ephitup-proxy`: the public front. Parses the settings, sets up logging and runs the
//! server until SIGTERM/SIGINT, then drains open connections.

use anyhow::Context;
use clap::Parser;
use ephitup_proxy::settings::Args;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let settings = args.resolve()?;
    let mut runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    runtime.enable_all().build().context("building the tokio runtime")?.block_on(ephitup_proxy::server::run(settings))
}
