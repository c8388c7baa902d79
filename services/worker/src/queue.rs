//! The claim loop. It holds one permit of the concurrency limit before it claims, so a worker
//! never takes a job it cannot start at once (a claimed job waiting in a local queue would be
//! invisible to idle workers). It claims until the queue is empty, then sleeps until the live
//! query wakes it or the poll interval passes; each poll also returns expired leases to the
//! queue. On shutdown it stops claiming, lets running jobs finish within the drain timeout,
//! then cancels the rest, which hand their jobs back as `new`.

use std::sync::Arc;
use std::time::Duration;

use ephitup_store::repo::jobs;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::jobs::Ctx;
use crate::settings::Cli;
use crate::task;

pub struct Queue {
    cli: Cli,
    worker_id: String,
    ctx: Arc<Ctx>,
}

impl Queue {
    pub fn new(cli: Cli, worker_id: String, ctx: Arc<Ctx>) -> Queue {
        Queue { cli, worker_id, ctx }
    }

    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let names = crate::jobs::names(self.cli.test_jobs);
        let wake = Arc::new(Notify::new());
        let watch_stop = CancellationToken::new();
        if !self.cli.no_live_query {
            tokio::spawn(crate::wake::watch(self.ctx.db.clone(), wake.clone(), watch_stop.clone()));
        }
        let permits = Arc::new(Semaphore::new(self.cli.max_tasks as usize));
        let tracker = TaskTracker::new();
        // Cancelled when the drain time is up: running jobs stop and hand themselves back.
        let abort = CancellationToken::new();
        let timing = task::Timing { lease: self.cli.lease, heartbeat: self.cli.heartbeat };
        let mut next_sweep = Instant::now();
        let mut failures = 0u32;
        tracing::info!(
            "worker {} ready: up to {} jobs at once ({})",
            self.worker_id,
            self.cli.max_tasks,
            names.join(", ")
        );
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                p = permits.clone().acquire_owned() => p?,
            };
            if Instant::now() >= next_sweep {
                next_sweep = Instant::now() + self.cli.poll_interval;
                match jobs::requeue_expired(&self.ctx.db, self.cli.max_attempts).await {
                    Ok(expired) => {
                        for e in expired {
                            tracing::warn!("job {} lost its worker (lease expired): now {}", e.id, e.status);
                        }
                    }
                    Err(e) => tracing::warn!("looking for expired leases: {e}"),
                }
            }
            match jobs::claim_next(&self.ctx.db, &names, &self.worker_id, self.cli.lease).await {
                Ok(Some(job)) => {
                    failures = 0;
                    tracing::info!("running job {} ({}), attempt {}", job.id, job.name, job.attempts);
                    let (ctx, worker, abort) = (self.ctx.clone(), self.worker_id.clone(), abort.clone());
                    tracker.spawn(async move {
                        task::run(ctx, worker, job, timing, abort).await;
                        drop(permit);
                    });
                    continue;
                }
                Ok(None) => failures = 0,
                Err(e) => {
                    failures += 1;
                    tracing::warn!("claiming a job: {e}");
                }
            }
            drop(permit);
            // Failing database: back off up to the poll interval instead of spinning.
            let pause = if failures > 0 {
                (Duration::from_millis(100) * 2u32.saturating_pow(failures.min(8))).min(self.cli.poll_interval)
            } else {
                self.cli
                    .poll_interval
                    .min(next_sweep.saturating_duration_since(Instant::now()).max(Duration::from_millis(10)))
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = wake.notified(), if failures == 0 => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        watch_stop.cancel();
        tracker.close();
        let running = tracker.len();
        if running > 0 {
            tracing::info!("stopping: {running} jobs running, waiting up to {:?}", self.cli.drain_timeout);
            if tokio::time::timeout(self.cli.drain_timeout, tracker.wait()).await.is_err() {
                tracing::warn!("drain time is up: handing back {} unfinished jobs", tracker.len());
                abort.cancel();
                tracker.wait().await;
            }
        }
        tracing::info!("worker {} stopped", self.worker_id);
        Ok(())
    }
}
