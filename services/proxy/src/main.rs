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
    let settings = args.resolve()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?
        .block_on(ephitup_proxy::server::run(settings))
}
