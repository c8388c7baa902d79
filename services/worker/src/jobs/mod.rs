//! What the jobs do. [`execute`] dispatches a claimed job by name; each job reads its rows
//! through the store (scoped to the job's owner) and returns the job's `result`.

pub mod noop;
pub mod podcast;
pub mod source;

use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};
use ephitup_store::repo::jobs::{self, ClaimedJob};
use ephitup_store::repo::{podcasts, provider_secrets, sources};
use ephitup_store::{AudioStore, Db, SecretBox, StoreError};

use crate::ai::Provider;

/// What every job may use.
pub struct Ctx {
    pub db: Db,
    /// Decrypts the owner's provider key for one job.
    pub secrets: SecretBox,
    /// Where generated audio goes (files under `DATA_PATH`, or S3).
    pub audio: AudioStore,
    /// For the operator's own endpoint (`OPENAI_BASE_URL`) and the default providers' URLs.
    pub http: reqwest::Client,
    /// For the providers of users' own keys: public addresses only ([`crate::public`]), or the
    /// plain client when `ALLOW_PRIVATE_PROVIDER_URLS=true`.
    pub provider_http: reqwest::Client,
    /// `ALLOW_PRIVATE_PROVIDER_URLS`: users' base URLs may point at private addresses.
    pub private_providers: bool,
    pub data_path: PathBuf,
    /// `OPENAI_API_KEY`: the operator's key, for owners without their own.
    pub fallback_key: Option<String>,
    /// `OPENAI_BASE_URL`: the operator's endpoint, for owners without their own base URL.
    pub fallback_base_url: Option<String>,
    /// Whether link sources may point at private addresses (`--allow-private-links`).
    pub links: crate::fetch::Private,
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

/// Where to call a provider for `owner`: their own key (decrypted here, for this job only) and
/// base URL; else, for `openai` only, the operator's `OPENAI_API_KEY`.
pub async fn provider(ctx: &Ctx, owner: &str, name: &str) -> anyhow::Result<Provider> {
    let default_base = default_base_url(name, ctx.fallback_base_url.as_deref());
    match provider_secrets::get(&ctx.db, owner, name).await {
        Ok(secret) => {
            let key = ctx
                .secrets
                .decrypt(&secret.encrypted_value)
                .map_err(|e| anyhow!("your {name} key cannot be read ({e}); save it again under AI keys"))?;
            let base = secret
                .base_url
                .filter(|u| !u.trim().is_empty())
                .or(default_base)
                .ok_or_else(|| anyhow!("no base URL for provider `{name}`: set one with your key under AI keys"))?;
            if !ctx.private_providers {
                let url = reqwest::Url::parse(&base).map_err(|_| anyhow!("the base URL of `{name}` is not a URL"))?;
                crate::public::check_url(&url).with_context(|| format!("the base URL of `{name}`"))?;
            }
            Ok(Provider::new(name, &base, key, ctx.provider_http.clone()))
        }
        Err(StoreError::NotFound) => match (&ctx.fallback_key, default_base) {
            (Some(key), Some(base)) if name == "openai" => {
                Ok(Provider::new(name, &base, key.clone(), ctx.http.clone()))
            }
            _ => bail!("no API key for provider `{name}`: add one under AI keys"),
        },
        Err(e) => Err(e).context("reading the provider key"),
    }
}

fn default_base_url(provider: &str, openai_override: Option<&str>) -> Option<String> {
    match provider {
        "openai" => Some(openai_override.unwrap_or("https://api.openai.com/v1").to_string()),
        "openrouter" => Some("https://openrouter.ai/api/v1".into()),
        "groq" => Some("https://api.groq.com/openai/v1".into()),
        "mistral" => Some("https://api.mistral.ai/v1".into()),
        "deepseek" => Some("https://api.deepseek.com/v1".into()),
        "xai" => Some("https://api.x.ai/v1".into()),
        _ => None,
    }
}

/// A string argument of the job.
pub(crate) fn arg<'a>(job: &'a ClaimedJob, name: &str) -> anyhow::Result<&'a str> {
    match job.args.get(name).and_then(serde_json::Value::as_str) {
        Some(v) => Ok(v),
        None => bail!("the job has no `{name}` argument"),
    }
}
