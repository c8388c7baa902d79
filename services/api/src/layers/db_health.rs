//! The database's health as the API last saw it: one background task checks it (every second
//! while it is up, every 250 ms while it is down) and every reader gets the cached answer, so
//! `/api/health` costs no query however often it is asked, and requests are turned away at
//! once (503) while the database is known to be down instead of queueing behind a reconnect.

use std::sync::Arc;
use std::time::Duration;

use ephitup_store::Db;
use tokio::sync::watch;

/// How long one check may take: a database that does not answer within it is down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
const INTERVAL_UP: Duration = Duration::from_secs(1);
const INTERVAL_DOWN: Duration = Duration::from_millis(250);

/// What the last check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The database answers and has every migration this build knows.
    Ready,
    /// It answers, but migrations are pending (`applied` of `known`).
    Pending { applied: usize, known: usize },
    /// It did not answer (the reason).
    Down(String),
}

/// A cheap, cloneable view of the latest status.
#[derive(Clone)]
pub struct DbHealth {
    status: watch::Receiver<Status>,
}

impl DbHealth {
    /// Starts the checking task (it ends with the runtime).
    pub fn start(db: Db, migrations: usize) -> DbHealth {
        // The API connected before it serves: it starts as ready, the first check confirms.
        let (tx, rx) = watch::channel(Status::Ready);
        let tx = Arc::new(tx);
        tokio::spawn(async move {
            loop {
                let status = check(&db, migrations).await;
                let interval = if matches!(status, Status::Down(_)) { INTERVAL_DOWN } else { INTERVAL_UP };
                tx.send_if_modified(|current| {
                    if *current == status {
                        return false;
                    }
                    match &status {
                        Status::Down(why) => tracing::warn!("database down: {why}"),
                        Status::Pending { applied, known } => {
                            tracing::warn!("database migrations pending: {applied} of {known} applied")
                        }
                        Status::Ready => tracing::info!("database ready"),
                    }
                    *current = status;
                    true
                });
                tokio::time::sleep(interval).await;
            }
        });
        DbHealth { status: rx }
    }

    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Whether the last check found the database not answering.
    pub fn is_down(&self) -> bool {
        matches!(*self.status.borrow(), Status::Down(_))
    }
}

/// One check, straight on the SDK (not through the pool's bounded room, which a flood fills:
/// a busy database is not a down one).
async fn check(db: &Db, known: usize) -> Status {
    let query = async { db.query("RETURN count(SELECT * FROM _migration)").await?.take::<Option<i64>>(0) };
    match tokio::time::timeout(CHECK_TIMEOUT, query).await {
        Err(_) => Status::Down(format!("no answer within {CHECK_TIMEOUT:?}")),
        Ok(Err(e)) => Status::Down(e.to_string()),
        Ok(Ok(applied)) => {
            let applied = applied.unwrap_or(0).max(0) as usize;
            if applied < known { Status::Pending { applied, known } } else { Status::Ready }
        }
    }
}
