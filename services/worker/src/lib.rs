//! `ephitup-worker`: takes jobs (`command` rows) off the queue and runs them.
//!
//! - [`queue`]: the claim loop: woken by [`wake`] (live query) or its poll interval, claims
//!   atomically through `ephitup_store::repo::jobs`, within a concurrency limit; on SIGTERM it
//!   stops claiming, drains, and hands back what did not finish.
//! - [`task`]: one claimed job: its heartbeat, its outcome (`completed`, `failed`, handed back).
//! - [`jobs`]: what the jobs do (`generate_podcast`, `process_source`, and the test-only `noop`),
//!   with [`ai`] (OpenAI-compatible HTTP, shared with the API from `ephitup-store`; users' own
//!   base URLs reach public addresses only), [`mp3`] (joining clips), [`fetch`] (links, refusing
//!   private addresses) and [`extract`] (text from files). Audio is kept by
//!   `ephitup_store::AudioStore` (files under `DATA_PATH`, or S3), which the API reads too.

pub mod extract;
pub mod fetch;
pub mod jobs;
pub mod mp3;
pub mod queue;
pub mod settings;
pub mod task;
pub mod wake;

/// The AI calls live in `ephitup-store` (the API runs transformations with them too).
pub use ephitup_store::ai;

use std::sync::Arc;

use ephitup_store::{AudioStore, DbSettings, SecretBox, connect_app};
use tokio_util::sync::CancellationToken;

use crate::settings::Cli;

/// Runs the worker until SIGTERM or SIGINT, then drains.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    cli.validate()?;
    let db_settings = DbSettings::from_env()?;
    let secrets = SecretBox::from_env(&cli.data_path)?;
    let audio = AudioStore::from_env(&cli.data_path)?;
    tracing::info!("podcast audio: {}", audio.describe());
    let db = connect_app(&db_settings).await?;
    let worker_id = cli.worker_id();
    let ctx = Arc::new(jobs::Ctx {
        db: db.clone(),
        secrets,
        audio,
        clients: ai::Clients::new(cli.allow_private_provider_urls)?,
        data_path: cli.data_path.clone(),
        fallback: ai::Fallback::from_env(),
        links: if cli.allow_private_links { fetch::Private::Allow } else { fetch::Private::Refuse },
    });
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    queue::Queue::new(cli, worker_id, ctx).run(shutdown).await
}

async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    shutdown.cancel();
}
