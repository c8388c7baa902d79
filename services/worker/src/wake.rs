//! Wakes the claim loop when a job is queued: a `LIVE SELECT` on `new` jobs. Live queries end
//! when the connection drops, so this re-subscribes after a pause, and the claim loop polls
//! anyway ([`crate::settings::Cli::poll_interval`]): a missed notification costs at most one
//! interval, never a job.

use std::sync::Arc;
use std::time::Duration;

use ephitup_store::Db;
use futures::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Keeps a live query open until `stop`, calling `notify_one` on every new job.
pub async fn watch(db: Db, wake: Arc<Notify>, stop: CancellationToken) {
    let mut announced = false;
    while !stop.is_cancelled() {
        match subscribe(&db).await {
            Ok(mut stream) => {
                if !announced {
                    tracing::info!("watching the queue (live query)");
                    announced = true;
                }
                // A subscription made after jobs were queued missed them: look once.
                wake.notify_one();
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        item = stream.next() => match item {
                            Some(Ok(_)) => wake.notify_one(),
                            Some(Err(e)) => tracing::warn!("live query: {e}"),
                            None => {
                                tracing::warn!("live query ended; subscribing again");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("cannot subscribe to the queue (polling meanwhile): {e}"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn subscribe(db: &Db) -> Result<surrealdb::method::QueryStream<surrealdb::types::Value>, surrealdb::Error> {
    let mut response = db.query("LIVE SELECT id FROM command WHERE status = 'new'").await?;
    response.stream::<surrealdb::types::Value>(0)
}
