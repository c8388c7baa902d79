//! What every service instance is doing, shared on one board (a `watch` channel) that
//! dependents read to decide when their conditions hold, and that `status` will report.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::{Condition, Dependency};
use crate::process::ExitStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Dependencies not met yet.
    Waiting,
    /// Spawned; its readiness probe has not passed yet.
    Starting,
    /// Spawned, and ready if it has a readiness probe.
    Running,
    /// Was ready; the readiness probe now fails. Still running.
    Unhealthy,
    /// Exited; will be restarted after a delay.
    Backoff,
    /// Being stopped by `ephitup`.
    Stopping,
    /// Stopped by `ephitup`.
    Stopped,
    /// Exited 0 and will not be restarted (a one-shot that did its job).
    Completed,
    /// Exited with a failure and its restart policy says no more.
    Failed,
    /// Restarted too often within its window: given up.
    Fatal,
    /// A dependency can never be met.
    Blocked,
    /// A scheduled one-shot waiting for its next run.
    Scheduled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Starting => "starting",
            State::Running => "running",
            State::Unhealthy => "unhealthy",
            State::Backoff => "backoff",
            State::Stopping => "stopping",
            State::Stopped => "stopped",
            State::Completed => "completed",
            State::Failed => "failed",
            State::Fatal => "fatal",
            State::Blocked => "blocked",
            State::Scheduled => "scheduled",
        }
    }

    /// Nothing more will happen to this instance by itself.
    pub fn is_final(self) -> bool {
        matches!(self, State::Stopped | State::Completed | State::Failed | State::Fatal | State::Blocked)
    }

    /// Final, and not as intended.
    pub fn is_failure(self) -> bool {
        matches!(self, State::Failed | State::Fatal | State::Blocked)
    }

    /// A process of this instance may be alive.
    pub fn has_process(self) -> bool {
        matches!(self, State::Starting | State::Running | State::Unhealthy | State::Stopping)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceStatus {
    pub state: State,
    pub pid: Option<i32>,
    pub restarts: u32,
    /// Has been spawned at least once.
    pub started: bool,
    /// Its readiness probe passes (or it has none and is running).
    pub ready: bool,
    pub last_exit: Option<String>,
    /// When the current (or last) process was spawned, in ms since the Unix epoch.
    pub since_ms: Option<u64>,
    /// How the last process ended, with its last lines (crash forensics). Shared: the board
    /// is cloned on every read, the record is not.
    #[serde(skip)]
    pub exit: Option<Arc<ExitRecord>>,
    /// A scheduled one-shot's next run, in ms since the Unix epoch.
    pub next_run_ms: Option<u64>,
    /// How a scheduled one-shot's last run ended: completed (`true`) or failed; none before
    /// its first run has ended. A completed last run satisfies `completed` for dependents
    /// (the instance itself goes back to `scheduled`, never to `completed`).
    pub last_run_ok: Option<bool>,
}

/// The end of one process of an instance: what `status --json` and the status page show of
/// it long after its lines have left the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// `exit code 3`, `killed by SIGKILL`, `cannot start: ...`.
    pub status: String,
    pub code: Option<i32>,
    pub signal: Option<String>,
    /// When it ended, in ms since the Unix epoch.
    pub at_ms: u64,
    /// Why `ephitup` ended it, when it did (a stop, a liveness probe, a memory limit).
    pub reason: Option<String>,
    /// Its last lines of output (stdout and stderr, oldest first).
    pub output: Vec<String>,
}

impl Default for InstanceStatus {
    fn default() -> Self {
        Self {
            state: State::Waiting,
            pid: None,
            restarts: 0,
            started: false,
            ready: false,
            last_exit: None,
            since_ms: None,
            exit: None,
            next_run_ms: None,
            last_run_ok: None,
        }
    }
}

impl InstanceStatus {
    pub fn exited(&mut self, status: ExitStatus) {
        self.pid = None;
        self.ready = false;
        self.last_exit = Some(status.to_string());
    }
}

/// Every instance of every service, by service name.
pub type Board = BTreeMap<String, Vec<InstanceStatus>>;

/// Whether a dependency condition holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open,
    Wait,
    /// It never will; why.
    Never(String),
}

pub fn gate(board: &Board, dep: &Dependency) -> Gate {
    let Some(instances) = board.get(&dep.service) else {
        return Gate::Never(format!("`{}` is not part of the set", dep.service));
    };
    let all = |f: &dyn Fn(&InstanceStatus) -> bool| instances.iter().all(f);
    let open = match dep.condition {
        Condition::Started => all(&|i| i.started),
        Condition::Healthy => all(&|i| i.ready && i.state == State::Running),
        // A scheduled one-shot is never `completed` for good: its last run counts.
        Condition::Completed => all(&|i| i.state == State::Completed || i.last_run_ok == Some(true)),
    };
    if open {
        return Gate::Open;
    }
    let dead = instances.iter().find(|i| match dep.condition {
        Condition::Started => i.state.is_final() && !i.started,
        Condition::Healthy | Condition::Completed => i.state.is_final(),
    });
    match dead {
        Some(i) => Gate::Never(format!(
            "dependency `{}` is {}{} and will not become {}",
            dep.service,
            i.state.as_str(),
            i.last_exit.as_ref().map(|e| format!(" ({e})")).unwrap_or_default(),
            dep.condition.as_str()
        )),
        None => Gate::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(state: State, started: bool, ready: bool) -> Board {
        let status = InstanceStatus { state, started, ready, ..InstanceStatus::default() };
        [("db".to_string(), vec![status])].into_iter().collect()
    }

    fn dep(condition: Condition) -> Dependency {
        Dependency { service: "db".into(), condition }
    }

    #[test]
    fn conditions_open_wait_and_never() {
        assert_eq!(gate(&board(State::Starting, true, false), &dep(Condition::Started)), Gate::Open);
        assert_eq!(gate(&board(State::Starting, true, false), &dep(Condition::Healthy)), Gate::Wait);
        assert_eq!(gate(&board(State::Running, true, true), &dep(Condition::Healthy)), Gate::Open);
        assert_eq!(gate(&board(State::Backoff, true, false), &dep(Condition::Completed)), Gate::Wait);
        assert_eq!(gate(&board(State::Completed, true, false), &dep(Condition::Completed)), Gate::Open);
        assert!(matches!(gate(&board(State::Failed, true, false), &dep(Condition::Completed)), Gate::Never(_)));
        assert!(matches!(gate(&board(State::Blocked, false, false), &dep(Condition::Started)), Gate::Never(_)));
    }

    #[test]
    fn a_scheduled_oneshot_is_completed_once_its_last_run_was() {
        let with = |state, last_run_ok| {
            let status = InstanceStatus { state, started: true, last_run_ok, ..InstanceStatus::default() };
            [("db".to_string(), vec![status])].into_iter().collect::<Board>()
        };
        let completed = dep(Condition::Completed);
        assert_eq!(gate(&with(State::Scheduled, None), &completed), Gate::Wait, "before its first run");
        assert_eq!(gate(&with(State::Running, None), &completed), Gate::Wait, "during its first run");
        assert_eq!(gate(&with(State::Scheduled, Some(true)), &completed), Gate::Open);
        assert_eq!(gate(&with(State::Running, Some(true)), &completed), Gate::Open, "the last run still counts");
        assert_eq!(gate(&with(State::Scheduled, Some(false)), &completed), Gate::Wait, "the next run may pass");
        assert!(matches!(gate(&with(State::Stopped, Some(false)), &completed), Gate::Never(_)));
        assert_eq!(gate(&with(State::Stopped, Some(true)), &completed), Gate::Open);
    }
}
