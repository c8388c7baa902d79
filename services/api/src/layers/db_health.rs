//! The database's health as the API last saw it: one background task checks it (every second
//! while it is up, every 250 ms while it is down) and every reader gets the cached answer, so
//! `/api/health` costs no query however often it is asked, and requests are turned away at
//! once (503) while the database is known to be down instead of queueing behind a reconnect.
//!
//! Down means a failed query, a port that refuses connections, or no answer at all for
//! [`SILENT_LIMIT`]. A check that only takes long while the port accepts is a busy database,
//! not a down one: under a flood of writes the check waits its turn behind them, and calling
//! that "down" turned every request away and failed the platform's health check (which
//! restarts the container) for being busy.

use std::sync::Arc;
use std::time::Duration;

use ephitup_store::Db;
use tokio::sync::watch;

/// How long one check may take: a database that does not answer within it is busy.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a database may go without answering a check before it counts as down.
const SILENT_LIMIT: Duration = Duration::from_secs(30);
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

/// What one check saw.
enum Seen {
    Answer(Status),
    /// No answer within [`CHECK_TIMEOUT`].
    Slow,
}

/// A cheap, cloneable view of the latest status.
#[derive(Clone)]
pub struct DbHealth {
    status: watch::Receiver<Status>,
}

impl DbHealth {
    /// Starts the checking task (it ends with the runtime).
    /// `url` is the database's (`SURREAL_URL`): its port is tried when a check is slow.
    pub fn start(db: Db, migrations: usize, url: &str) -> DbHealth {
        let addr = host_port(url);
        // The API connected before it serves: it starts as ready, the first check confirms.
        let (tx, rx) = watch::channel(Status::Ready);
        let tx = Arc::new(tx);
        tokio::spawn(async move {
            let mut last_answer = tokio::time::Instant::now();
            loop {
                let status = match check(&db, migrations, &addr).await {
                    Seen::Answer(status) => {
                        last_answer = tokio::time::Instant::now();
                        status
                    }
                    Seen::Slow if last_answer.elapsed() >= SILENT_LIMIT => {
                        Status::Down(format!("no answer for {:?}", last_answer.elapsed()))
                    }
                    // Busy: what the last answer said still holds.
                    Seen::Slow => {
                        tracing::debug!("database check: no answer within {CHECK_TIMEOUT:?} (busy)");
                        tx.borrow().clone()
                    }
                };
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
async fn check(db: &Db, known: usize, addr: &str) -> Seen {
    let query = async { db.query("RETURN count(SELECT * FROM _migration)").await?.take::<Option<i64>>(0) };
    match tokio::time::timeout(CHECK_TIMEOUT, query).await {
        Err(_) => match tokio::time::timeout(CHECK_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => Seen::Slow,
            Ok(Err(e)) => Seen::Answer(Status::Down(format!("{addr}: {e}"))),
            Err(_) => Seen::Answer(Status::Down(format!("{addr}: no connection within {CHECK_TIMEOUT:?}"))),
        },
        Ok(Err(e)) => Seen::Answer(Status::Down(e.to_string())),
        Ok(Ok(applied)) => {
            let applied = applied.unwrap_or(0).max(0) as usize;
            Seen::Answer(if applied < known { Status::Pending { applied, known } } else { Status::Ready })
        }
    }
}

/// `host:port` of a `ws://host:port/...` (or `wss`, `http`, `https`) URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        && !authority.ends_with(']');
    if has_port {
        authority.to_string()
    } else {
        let port = if url.starts_with("wss://") || url.starts_with("https://") { 443 } else { 80 };
        format!("{authority}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn the_port_of_the_database_url() {
        assert_eq!(host_port("ws://127.0.0.1:8000"), "127.0.0.1:8000");
        assert_eq!(host_port("ws://127.0.0.1:8000/rpc"), "127.0.0.1:8000");
        assert_eq!(host_port("wss://db.example.com/rpc"), "db.example.com:443");
        assert_eq!(host_port("ws://[::1]:9000"), "[::1]:9000");
        assert_eq!(host_port("ws://[::1]"), "[::1]:80");
    }
}
