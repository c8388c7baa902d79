//! What the jobs do. [`execute`] dispatches a claimed job by name; each job reads its rows
//! through the store (scoped to the job's owner) and returns the job's `result`.

pub mod noop;
pub mod podcast;
pub mod source;

use std::path::PathBuf;

use anyhow::bail;
use ephitup_store::repo::jobs::{self, ClaimedJob};
use ephitup_store::repo::{podcasts, sources};
use ephitup_store::{Db, SecretBox};

use crate::storage::Storage;

/// What every job may use.
pub struct Ctx {
    pub db: Db,
    /// Decrypts the owner's provider key for one job.
    pub secrets: SecretBox,
    pub storage: Storage,
    pub http: reqwest::Client,
    pub data_path: PathBuf,
    /// `OPENAI_API_KEY`: the operator's key, for owners without their own.
    pub fallback_key: Option<String>,
    /// `OPENAI_BASE_URL`: the operator's endpoint, for owners without their own base URL.
    pub fallback_base_url: Option<String>,
}

/// The job names this worker takes.
pub fn names(test_jobs: bool) -> Vec<&'static str> {
    let mut names = vec![podcasts::GENERATE_PODCAST, sources::PROCESS_SOURCE];
    if test_jobs {
        names.push(noop::NAME);
    }
    names
}

pub async fn execute(ctx: &Ctx, job: &ClaimedJob, progress: &Progress) -> anyhow::Result<serde_json::Value> {
    match job.name.as_str() {
        podcasts::GENERATE_PODCAST => podcast::run(ctx, job, progress).await,
        sources::PROCESS_SOURCE => source::run(ctx, job, progress).await,
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

/// A string argument of the job.
pub(crate) fn arg<'a>(job: &'a ClaimedJob, name: &str) -> anyhow::Result<&'a str> {
    match job.args.get(name).and_then(serde_json::Value::as_str) {
        Some(v) => Ok(v),
        None => bail!("the job has no `{name}` argument"),
    }
}
