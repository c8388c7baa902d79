//! What the jobs do. [`execute`] dispatches a claimed job by name; each job reads its rows
//! through the store (scoped to the job's owner) and returns the job's `result`.

pub mod embed;
pub mod noop;
pub mod podcast;
pub mod source;
pub mod transform;

use std::path::PathBuf;

use anyhow::bail;
use ephitup_store::repo::jobs::{self, ClaimedJob};
use ephitup_store::repo::{chunks, insights, podcasts, sources};
use ephitup_store::{AudioStore, Db, SecretBox};

use crate::ai::Provider;

/// What every job may use.
pub struct Ctx {
    pub db: Db,
    /// Decrypts the owner's provider key for one job.
    pub secrets: SecretBox,
    /// Where generated audio goes (files under `DATA_PATH`, or S3).
    pub audio: AudioStore,
    /// The operator's client and the one for users' own base URLs (public addresses only).
    pub clients: crate::ai::Clients,
    pub data_path: PathBuf,
    /// `OPENAI_API_KEY` / `OPENAI_BASE_URL`: the operator's key, for owners without their own.
    pub fallback: crate::ai::Fallback,
    /// Whether link sources may point at private addresses (`--allow-private-links`).
    pub links: crate::fetch::Private,
}

/// The job names this worker takes.
pub fn names(test_jobs: bool) -> Vec<&'static str> {
    let mut names = vec![
        podcasts::GENERATE_PODCAST,
        sources::PROCESS_SOURCE,
        insights::RUN_TRANSFORMATION,
        chunks::EMBED_ITEM,
        chunks::REBUILD_EMBEDDINGS,
    ];
    if test_jobs {
        names.push(noop::NAME);
    }
    names
}

pub async fn execute(ctx: &Ctx, job: &ClaimedJob, progress: &Progress) -> anyhow::Result<serde_json::Value> {
    match job.name.as_str() {
        podcasts::GENERATE_PODCAST => podcast::run(ctx, job, progress).await,
        sources::PROCESS_SOURCE => source::run(ctx, job, progress).await,
        insights::RUN_TRANSFORMATION => transform::run(ctx, job, progress).await,
        chunks::EMBED_ITEM => embed::run_item(ctx, job, progress).await,
        chunks::REBUILD_EMBEDDINGS => embed::run_rebuild(ctx, job, progress).await,
        noop::NAME => noop::run(job, progress).await,
        other => bail!("unknown job `{other}`"),
    }
}

/// Reports a running job's progress (`{stage, done, total}`); a failed write is only logged,
/// since progress is advisory and the heartbeat guards the lease.
pub struct Progress {
    db: Db,
    id: String,
    worker: String,
}

impl Progress {
    pub fn new(db: Db, id: String, worker: String) -> Progress {
        Progress { db, id, worker }
    }

    pub async fn set(&self, stage: &str, done: u64, total: u64) {
        if let Err(e) = jobs::progress(&self.db, &self.id, &self.worker, stage, done, total).await {
            tracing::debug!("job {}: progress not saved: {e}", self.id);
        }
    }
}

/// Where to call a provider for `owner`: their own key (decrypted here, for this job only) and
/// base URL; else, for `openai` only, the operator's `OPENAI_API_KEY`.
pub async fn provider(ctx: &Ctx, owner: &str, name: &str) -> anyhow::Result<Provider> {
    Ok(crate::ai::provider_for(&ctx.db, &ctx.secrets, &ctx.fallback, &ctx.clients, owner, name).await?)
}

/// A string argument of the job.
pub(crate) fn arg<'a>(job: &'a ClaimedJob, name: &str) -> anyhow::Result<&'a str> {
    match job.args.get(name).and_then(serde_json::Value::as_str) {
        Some(v) => Ok(v),
        None => bail!("the job has no `{name}` argument"),
    }
}
