//! `noop`: a job that does nothing but wait, for the queue's tests and the benchmark. Only
//! taken by a worker started with `--test-jobs`, so it cannot be queued against production.
//!
//! Args: `sleep_ms` (how long to "work"), `sleep_attempts` (only the first N attempts sleep,
//! so a retaken job finishes quickly), `fail` (end as failed with this message).

use std::time::Duration;

use ephitup_store::repo::jobs::ClaimedJob;
use serde_json::json;

use super::Progress;

pub const NAME: &str = "noop";

pub async fn run(job: &ClaimedJob, progress: &Progress) -> anyhow::Result<serde_json::Value> {
    let sleep_ms = job.args.get("sleep_ms").and_then(serde_json::Value::as_u64).unwrap_or(0);
    let sleep_attempts = job.args.get("sleep_attempts").and_then(serde_json::Value::as_i64).unwrap_or(i64::MAX);
    progress.set("working", 0, 1).await;
    if sleep_ms > 0 && job.attempts <= sleep_attempts {
        tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
    }
    if let Some(message) = job.args.get("fail").and_then(serde_json::Value::as_str) {
        anyhow::bail!("{message}");
    }
    Ok(json!({ "attempt": job.attempts, "pid": std::process::id() }))
}
