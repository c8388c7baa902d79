//! One claimed job, from claim to its end: runs it while a heartbeat renews its lease, then
//! writes the outcome — `completed` with its result, `failed` with the reason, or handed back
//! as `new` when the worker stops first. If the heartbeat finds the job is no longer ours (the
//! lease expired and another worker retook it), the run is dropped and nothing is written.

use std::sync::Arc;
use std::time::Duration;

use ephitup_store::repo::jobs::{self, ClaimedJob};
use tokio_util::sync::CancellationToken;

use crate::jobs::{Ctx, Progress};

#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub lease: Duration,
    pub heartbeat: Duration,
}

enum Outcome {
    Done(anyhow::Result<serde_json::Value>),
    Aborted,
    Lost,
}

pub async fn run(ctx: Arc<Ctx>, worker: String, job: ClaimedJob, timing: Timing, abort: CancellationToken) {
    let lost = CancellationToken::new();
    let heartbeat = tokio::spawn(beat(ctx.clone(), job.id.clone(), worker.clone(), timing, lost.clone()));
    let progress = Progress::new(ctx.db.clone(), job.id.clone(), worker.clone());
    let outcome = tokio::select! {
        r = crate::jobs::execute(&ctx, &job, &progress) => Outcome::Done(r),
        _ = abort.cancelled() => Outcome::Aborted,
        _ = lost.cancelled() => Outcome::Lost,
    };
    // Stopped before the last write, so the two never race for the row.
    heartbeat.abort();
    let _ = heartbeat.await;
    // Each outcome is logged once it is written, so the log's `completed` is a recorded outcome:
    // a run cut short between its end and its write (a killed worker, a database down) runs
    // again after its lease expires, and only that run's outcome is told.
    let (written, failure) = match &outcome {
        Outcome::Done(Ok(result)) => (retry(|| jobs::complete(&ctx.db, &job.id, &worker, result.clone())).await, None),
        Outcome::Done(Err(e)) => {
            let reason = format!("{e:#}");
            (retry(|| jobs::fail(&ctx.db, &job.id, &worker, &reason)).await, Some(reason))
        }
        Outcome::Aborted => (retry(|| jobs::hand_back(&ctx.db, &job.id, &worker)).await, None),
        Outcome::Lost => {
            tracing::warn!("job {} was taken over by another worker; dropping this run", job.id);
            return;
        }
    };
    match (written, &outcome, failure) {
        (Ok(true), Outcome::Aborted, _) => tracing::info!("job {} handed back", job.id),
        (Ok(true), _, Some(reason)) => tracing::warn!("job {} failed: {reason}", job.id),
        (Ok(true), _, None) => tracing::info!("job {} completed", job.id),
        (Ok(false), _, _) => tracing::warn!("job {}: the lease was lost before its outcome was written", job.id),
        (Err(e), _, _) => tracing::error!("job {}: cannot write its outcome: {e}", job.id),
    }
}

/// Renews the lease every `heartbeat`; cancels `lost` when the job is no longer ours.
async fn beat(ctx: Arc<Ctx>, id: String, worker: String, timing: Timing, lost: CancellationToken) {
    let mut ticks = tokio::time::interval(timing.heartbeat);
    ticks.tick().await; // the claim itself set the lease
    loop {
        ticks.tick().await;
        match jobs::heartbeat(&ctx.db, &id, &worker, timing.lease).await {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // A transient failure: the lease has room for a few missed beats.
            Err(e) => tracing::warn!("job {id}: heartbeat: {e}"),
        }
    }
}

/// A final write, retried briefly on transient errors (a conflict with a progress update).
async fn retry<F, Fut>(mut write: F) -> Result<bool, ephitup_store::StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, ephitup_store::StoreError>>,
{
    let mut pause = Duration::from_millis(50);
    for _ in 0..5 {
        match write().await {
            Err(ephitup_store::StoreError::Database(e)) => {
                tracing::debug!("retrying a job write: {e}");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other,
        }
    }
    write().await
}
