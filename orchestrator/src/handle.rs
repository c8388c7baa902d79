//! What the outside of a running set talks to the coordinator with: the [`Request`]s it can
//! make, the [`Call`] carrying one with its answer, and the [`Handle`] the control API and the
//! HTTP listener read the set through. The control API ([`crate::control`]) and the file
//! watcher ([`crate::watch`]) send; the coordinator ([`crate::supervisor`]) answers. Living
//! here, below all three, it keeps them from importing each other.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use crate::board::{Board, State};
use crate::config::Config;
use crate::history::History;
use crate::logs::RecentLogs;

/// What can be asked of a running set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Start(String),
    Stop(String),
    Restart(String),
    /// Read the file again and apply the difference.
    Reload,
    /// Restart `service` because a dependency of it came back (`on_dependency_restart`).
    DependencyBack {
        service: String,
        start_only: bool,
    },
}

/// A request and where its answer goes (a sentence for people, or why it was refused).
#[derive(Debug)]
pub struct Call {
    pub request: Request,
    pub reply: Option<oneshot::Sender<Result<String, String>>>,
}

/// What the control API and the HTTP listener see of a running set.
#[derive(Clone)]
pub struct Handle {
    pub board: watch::Receiver<Board>,
    pub config: watch::Receiver<Arc<Config>>,
    pub calls: mpsc::Sender<Call>,
    pub recent: Arc<RecentLogs>,
    pub history: Arc<History>,
    pub counters: Arc<crate::counters::Counters>,
    /// When `ephitup` started, in ms since the Unix epoch.
    pub started_ms: u64,
}

impl Handle {
    /// Sends `request` to the coordinator and waits for its answer.
    pub async fn call(&self, request: Request) -> Result<String, String> {
        let (tx, rx) = oneshot::channel();
        self.calls.send(Call { request, reply: Some(tx) }).await.map_err(|_| "ephitup is shutting down".to_string())?;
        rx.await.map_err(|_| "ephitup is shutting down".to_string())?
    }

    /// Every critical service is ready (or completed, for one-shots); every service, when
    /// none is marked critical.
    pub fn ready(&self) -> bool {
        let config = self.config.borrow().clone();
        let board = self.board.borrow();
        let any_critical = config.services.iter().any(|s| s.critical);
        config.services.iter().filter(|s| s.critical || !any_critical).all(|s| {
            board.get(&s.name).is_some_and(|instances| {
                instances.iter().all(|i| {
                    (i.ready && i.state == State::Running) || matches!(i.state, State::Completed | State::Scheduled)
                })
            })
        })
    }
}
