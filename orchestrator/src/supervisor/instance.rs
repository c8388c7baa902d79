//! The life of one instance of one service (a replica): wait for its dependencies, spawn,
//! watch its probes, and on exit decide between restart (after a backoff), completion,
//! failure and giving up. Each instance is one task; it reports every state change to the
//! board and to the log.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::backoff::RestartBudget;
use super::schedule::{self, at};
use super::{Shared, limits};
use crate::board::{ExitRecord, Gate, InstanceStatus, State, gate};
use crate::config::{Check, RestartPolicy, Schedule, ServiceKind, ServiceSpec};
use crate::health::check::ProbeContext;
use crate::health::{ProbeEvent, monitor};
use crate::history::now_ms;
use crate::logs::{LineFormat, LineWatch, RecentTarget, RelayTarget, Stream, relay};
use crate::process::cgroup::Cgroup;
use crate::process::{CommandSpec, ExitStatus, Output, signal_group};

/// How long the last lines of an exited service may take to reach the log before its exit is
/// reported.
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);
/// Lines of output kept with each exit.
const EXIT_LINES: usize = 20;

pub struct Instance {
    pub spec: Arc<ServiceSpec>,
    pub replica: u32,
    /// `name`, or `name.N` when the service has replicas.
    pub label: String,
    /// Position of the service in the file, for its colour.
    pub index: usize,
    pub shared: Arc<Shared>,
    /// Set to a deadline when `ephitup` wants this instance stopped.
    pub stop: watch::Receiver<Option<Instant>>,
    /// The service's log file, shared by its replicas.
    pub log_file: Option<Arc<Mutex<crate::logs::file::RotatingFile>>>,
}

/// How one run of the process ended.
enum RunEnd {
    Exited {
        status: ExitStatus,
        good_for: Duration,
    },
    /// Restart asked for by a failing liveness probe.
    Unalive {
        status: ExitStatus,
    },
    /// Stopped for going over its memory limit.
    Limited {
        status: ExitStatus,
    },
    /// Stopped on request.
    Stopped {
        status: ExitStatus,
    },
}

impl Instance {
    pub async fn run(mut self) {
        // A memory limit enforced by the kernel has a cgroup for the instance's whole life.
        let cgroup =
            self.spec.limits.memory.and_then(|limit| {
                self.shared.limits.cgroup_for(&format!("{}.{}", self.spec.name, self.replica), limit)
            });
        let (state, message) = match self.spec.schedule.clone() {
            Some(schedule) => self.run_scheduled(&schedule, cgroup.as_ref()).await,
            None => self.run_to_end(cgroup.as_ref()).await,
        };
        if let Some(group) = &cgroup {
            group.remove().await;
        }
        self.finish(state, message);
    }

    /// A scheduled one-shot: waits for each run time (shown by `status`), runs as any one-shot
    /// (`run_to_end`: dependencies, restart policy), and waits again, until stopped.
    async fn run_scheduled(&mut self, schedule: &Schedule, cgroup: Option<&Cgroup>) -> (State, String) {
        // `every` counts from when the instance was started.
        let anchor = now_ms();
        let mut next = schedule.next_after(anchor, anchor);
        loop {
            let Some(due) = next else {
                return (State::Completed, format!("no run time left in {}", schedule.describe()));
            };
            self.set(|s| {
                s.state = State::Scheduled;
                s.next_run_ms = Some(due);
            });
            self.event(State::Scheduled, format!("next run at {} ({})", at(due), schedule.describe()));
            let mut shutdown = self.shared.shutdown.subscribe();
            let mut stop = self.stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(due.saturating_sub(now_ms()))) => {}
                _ = shutdown.wait_for(|down| *down) => return (State::Stopped, "stopped".into()),
                _ = stop.wait_for(Option::is_some) => return (State::Stopped, "stopped".into()),
            }
            self.set(|s| s.next_run_ms = None);
            let (state, message) = self.run_to_end(cgroup).await;
            if matches!(state, State::Completed | State::Failed | State::Fatal) {
                // What dependents waiting for `completed` read (board::gate).
                self.set(|s| s.last_run_ok = Some(state == State::Completed));
            }
            match state {
                State::Stopped | State::Blocked => return (state, message),
                State::Completed => self.event(State::Completed, format!("run due at {} {message}", at(due))),
                _ => self.event(state, format!("run due at {} {message}; next run as scheduled", at(due))),
            }
            let (after, skipped) = schedule::after_run(schedule, anchor, due, now_ms());
            next = after;
            if skipped > 0 {
                tracing::warn!(
                    service = %self.label,
                    skipped,
                    "{} skipped {skipped} run(s) due while its previous run was still going (runs never overlap)",
                    self.label
                );
                let message = format!("skipped {skipped} run(s): the previous run was still going");
                self.shared.history.record(&self.spec.name, &self.label, State::Scheduled.as_str(), &message);
            }
        }
    }

    /// Waits for the dependencies, then runs (and restarts by policy) until the instance is
    /// done: its final state and why.
    async fn run_to_end(&mut self, cgroup: Option<&Cgroup>) -> (State, String) {
        match self.wait_for_dependencies().await {
            Gate::Open => {}
            Gate::Wait => return (State::Stopped, "stopped before it started".into()),
            Gate::Never(reason) => return (State::Blocked, format!("blocked: {reason}")),
        }
        let mut budget =
            RestartBudget::new(self.spec.backoff.clone(), self.spec.max_restarts, self.spec.restart_window);
        loop {
            if self.stopping() {
                return (State::Stopped, "stopped".into());
            }
            let (status, good_for, limited) = match self.run_once(cgroup).await {
                RunEnd::Stopped { .. } => return (State::Stopped, "stopped".into()),
                RunEnd::Exited { status, good_for } => (status, good_for, false),
                RunEnd::Unalive { status } => (status, Duration::ZERO, false),
                RunEnd::Limited { status } => (status, Duration::ZERO, true),
            };
            // Over its limit counts as a failure, however the process answered the stop.
            let failed = limited || !status.success();
            let restart = match self.spec.restart {
                RestartPolicy::Always => true,
                RestartPolicy::OnFailure => failed,
                RestartPolicy::Never => false,
            };
            if !restart || self.stopping() {
                let (state, what) = match (failed, self.spec.kind) {
                    (false, ServiceKind::Oneshot) => (State::Completed, "completed"),
                    (false, ServiceKind::Daemon) => (State::Completed, "exited"),
                    (true, _) => (State::Failed, "failed"),
                };
                let state = if self.stopping() && failed { State::Stopped } else { state };
                return (state, format!("{what} ({status})"));
            }
            let Some(delay) = budget.next(Instant::now(), good_for) else {
                let window = humantime::format_duration(self.spec.restart_window);
                return (
                    State::Fatal,
                    format!("fatal: {} restarts within {window}, giving up ({status})", self.spec.max_restarts),
                );
            };
            self.set(|s| {
                s.state = State::Backoff;
                s.restarts += 1;
            });
            tracing::info!(
                service = %self.label,
                state = State::Backoff.as_str(),
                exit = %status,
                delay_ms = delay.as_millis() as u64,
                "{} exited ({status}), restarting in {}",
                self.label,
                fmt_duration(delay)
            );
            let mut shutdown = self.shared.shutdown.subscribe();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.wait_for(|down| *down) => {}
                _ = self.stop.wait_for(Option::is_some) => {}
            }
        }
    }

    fn stopping(&self) -> bool {
        *self.shared.shutdown.borrow() || self.stop.borrow().is_some()
    }

    /// Waits until every dependency condition holds, one can never hold, or a stop comes.
    async fn wait_for_dependencies(&mut self) -> Gate {
        if self.spec.depends_on.is_empty() {
            return if self.stopping() { Gate::Wait } else { Gate::Open };
        }
        let mut board = self.shared.board.subscribe();
        let mut shutdown = self.shared.shutdown.subscribe();
        let mut announced = false;
        loop {
            if self.stopping() {
                return Gate::Wait;
            }
            let verdict = {
                let b = board.borrow_and_update();
                let gates: Vec<_> = self.spec.depends_on.iter().map(|d| (d, gate(&b, d))).collect();
                if let Some((_, never)) = gates.iter().find(|(_, g)| matches!(g, Gate::Never(_))) {
                    Some(never.clone())
                } else if gates.iter().all(|(_, g)| *g == Gate::Open) {
                    Some(Gate::Open)
                } else {
                    if !announced {
                        announced = true;
                        let waiting: Vec<String> = gates
                            .iter()
                            .filter(|(_, g)| *g == Gate::Wait)
                            .map(|(d, _)| format!("{} {}", d.service, d.condition.as_str()))
                            .collect();
                        drop(b);
                        self.event(State::Waiting, format!("waiting for {}", waiting.join(", ")));
                    }
                    None
                }
            };
            if let Some(v) = verdict {
                return v;
            }
            tokio::select! {
                changed = board.changed() => if changed.is_err() { return Gate::Wait },
                _ = shutdown.wait_for(|down| *down) => return Gate::Wait,
                _ = self.stop.wait_for(Option::is_some) => return Gate::Wait,
            }
        }
    }

    /// Spawns the process once and follows it until it exits or is stopped.
    async fn run_once(&mut self, cgroup: Option<&Cgroup>) -> RunEnd {
        let spec = Arc::clone(&self.spec);
        let command = CommandSpec {
            argv: spec.command.clone(),
            cwd: spec.cwd.clone(),
            env: self.child_env(),
            user: spec.user.clone(),
            stdout: Output::Piped,
            stderr: Output::Piped,
            cgroup: cgroup.map(Cgroup::procs),
        };
        let spawned = match self.shared.processes.spawn(&command) {
            Ok(s) => s,
            Err(e) => {
                let status = ExitStatus::Code(127);
                let e = if spec.cwd.is_dir() {
                    e.to_string()
                } else {
                    format!("working directory {} does not exist", spec.cwd.display())
                };
                self.set(|s| s.last_exit = Some(format!("cannot start: {e}")));
                self.remember_exit(None, format!("cannot start: {e}"), None);
                self.event(State::Failed, format!("cannot start `{}`: {e}", spec.command[0]));
                return RunEnd::Exited { status, good_for: Duration::ZERO };
            }
        };
        let pid = spawned.pid;
        let mut exit = spawned.exit;
        let started_at = Instant::now();
        // Over the memory limit: the kernel's kills counted from here, or the sampled RSS.
        let oom_before = cgroup.map_or(0, Cgroup::oom_kills);
        let limit = spec.limits.memory;
        let mut over_limit = limit.map(|limit| self.shared.limits.watch(limit, pid.as_raw(), cgroup, oom_before));

        let (log_ready_tx, mut log_ready) = watch::channel(false);
        let line_watch = match spec.health.as_ref().map(|p| &p.check) {
            Some(Check::Log(pattern)) => Some(LineWatch { pattern: pattern.clone(), matched: log_ready_tx }),
            _ => None,
        };
        let relays: Vec<_> = [(spawned.stdout, Stream::Stdout), (spawned.stderr, Stream::Stderr)]
            .into_iter()
            .filter_map(|(fd, stream)| {
                fd.map(|fd| self.shared.relays.spawn(relay(fd, self.relay_target(stream, line_watch.clone()))))
            })
            .collect();

        let (readiness_tx, mut readiness) = mpsc::channel(4);
        let (liveness_tx, mut liveness) = mpsc::channel(4);
        let mut monitors = Vec::new();
        let probe_ctx = ProbeContext {
            http: self.shared.http.clone(),
            processes: Arc::clone(&self.shared.processes),
            cwd: spec.cwd.clone(),
            env: self.child_env(),
            failures: Some(self.shared.counters.of(&spec.name, self.replica)),
        };
        let polled_readiness = spec.health.clone().filter(|p| !matches!(p.check, Check::Log(_)));
        if let Some(probe) = polled_readiness {
            monitors.push(tokio::spawn(monitor(probe, probe_ctx.clone(), readiness_tx)));
        }
        if let Some(probe) = spec.liveness.clone() {
            monitors.push(tokio::spawn(monitor(probe, probe_ctx, liveness_tx)));
        }

        let probed = spec.health.is_some();
        let state = if probed { State::Starting } else { State::Running };
        self.set(|s| {
            s.state = state;
            s.pid = Some(pid.as_raw());
            s.started = true;
            s.since_ms = Some(crate::history::now_ms());
            s.ready = !probed;
        });
        self.event(state, format!("started (pid {pid})"));
        let mut ready_since = (!probed).then(Instant::now);
        let mut ever_ready = !probed;
        // Why ephitup ended the process, when it did.
        let mut ended_by: Option<String> = None;

        let end = loop {
            tokio::select! {
                status = &mut exit => {
                    let status = status.unwrap_or(ExitStatus::Signaled(Signal::SIGKILL));
                    if let (Some(limit), Some(group)) = (limit, cgroup) {
                        if group.oom_kills() > oom_before {
                            let reason = limits::killed_message(limit);
                            self.event(State::Stopping, format!("{reason} ({status})"));
                            ended_by = Some(reason);
                            break RunEnd::Limited { status };
                        }
                    }
                    break RunEnd::Exited { status, good_for: ready_since.map_or(Duration::ZERO, |t| t.elapsed()) };
                }
                answer = answer_of(&mut over_limit), if over_limit.is_some() => {
                    // No answer: the watch is gone (the runtime is ending); never polled again.
                    let Ok(reason) = answer else {
                        over_limit = None;
                        continue;
                    };
                    self.event(State::Stopping, format!("{reason}; stopping (sending {} to the group)", spec.stop_signal));
                    let deadline = super::deadline_after(spec.stop_timeout);
                    let status = self.stop_process(pid, &mut exit, deadline).await;
                    ended_by = Some(reason);
                    break RunEnd::Limited { status };
                }
                Some(event) = readiness.recv() => self.on_readiness(event, &mut ready_since, &mut ever_ready, started_at),
                Ok(true) = async { log_ready.wait_for(|m| *m).await.map(|m| *m) }, if !ever_ready => {
                    self.on_readiness(ProbeEvent::Passing, &mut ready_since, &mut ever_ready, started_at);
                }
                Some(event) = liveness.recv() => {
                    // A passing liveness probe changes nothing; a failing one restarts.
                    if let ProbeEvent::Failing(reason) = event {
                        self.event(State::Stopping, format!("liveness probe failed: {reason}; restarting"));
                        let deadline = super::deadline_after(spec.stop_timeout);
                        let status = self.stop_process(pid, &mut exit, deadline).await;
                        ended_by = Some(format!("liveness probe failed: {reason}"));
                        break RunEnd::Unalive { status };
                    }
                }
                Ok(deadline) = async { self.stop.wait_for(Option::is_some).await.map(|d| *d) } => {
                    let deadline = deadline.unwrap_or_else(Instant::now);
                    let deadline = deadline.min(super::deadline_after(spec.stop_timeout));
                    self.event(State::Stopping, format!("stopping (sending {} to the group)", spec.stop_signal));
                    let status = self.stop_process(pid, &mut exit, deadline).await;
                    ended_by = Some("stopped by ephitup".to_string());
                    break RunEnd::Stopped { status };
                }
            }
        };
        for m in monitors {
            m.abort();
        }
        // Let the last lines reach the log before the exit is reported.
        let _ = tokio::time::timeout(OUTPUT_DRAIN, futures_join(relays)).await;
        match &end {
            RunEnd::Exited { status, .. } | RunEnd::Unalive { status } | RunEnd::Limited { status } => {
                let status = *status;
                self.set(|s| s.exited(status));
                self.remember_exit(Some(status), status.to_string(), ended_by.take());
            }
            RunEnd::Stopped { status } => {
                self.set(|s| {
                    s.pid = None;
                    s.ready = false;
                });
                self.remember_exit(Some(*status), status.to_string(), ended_by.take());
            }
        }
        end
    }

    /// Keeps how the process ended, with its last lines, on the board (crash forensics).
    fn remember_exit(&self, status: Option<ExitStatus>, text: String, reason: Option<String>) {
        let record = ExitRecord {
            status: text,
            code: match status {
                Some(ExitStatus::Code(c)) => Some(c),
                _ => None,
            },
            signal: match status {
                Some(ExitStatus::Signaled(sig)) => Some(sig.as_str().to_string()),
                _ => None,
            },
            at_ms: crate::history::now_ms(),
            reason,
            output: self.shared.recent.last_lines(&self.spec.name, &self.label, EXIT_LINES),
        };
        self.set(|s| s.exit = Some(Arc::new(record)));
    }

    fn on_readiness(
        &self,
        event: ProbeEvent,
        ready_since: &mut Option<Instant>,
        ever_ready: &mut bool,
        started_at: Instant,
    ) {
        match event {
            ProbeEvent::Passing => {
                *ready_since = Some(Instant::now());
                let first = !*ever_ready;
                *ever_ready = true;
                self.set(|s| {
                    s.state = State::Running;
                    s.ready = true;
                });
                let message = if first {
                    format!("healthy ({} after start)", fmt_duration(started_at.elapsed()))
                } else {
                    "healthy again".to_string()
                };
                self.event(State::Running, message);
            }
            ProbeEvent::Failing(reason) if *ever_ready => {
                *ready_since = None;
                self.set(|s| {
                    s.state = State::Unhealthy;
                    s.ready = false;
                });
                self.event(State::Unhealthy, format!("unhealthy: {reason}"));
            }
            ProbeEvent::Failing(reason) => self.event(State::Starting, format!("not ready yet: {reason}")),
        }
    }

    /// Sends the stop signal to the group, then SIGKILL at `deadline`.
    async fn stop_process(&self, pid: Pid, exit: &mut oneshot::Receiver<ExitStatus>, deadline: Instant) -> ExitStatus {
        self.set(|s| s.state = State::Stopping);
        if let Err(e) = signal_group(pid, self.spec.stop_signal) {
            tracing::warn!(service = %self.label, "cannot signal group {pid}: {e}");
        }
        let lost = ExitStatus::Signaled(Signal::SIGKILL);
        match tokio::time::timeout_at(deadline, &mut *exit).await {
            Ok(status) => status.unwrap_or(lost),
            Err(_) => {
                self.event(State::Stopping, "did not stop in time, sending SIGKILL".into());
                let _ = signal_group(pid, Signal::SIGKILL);
                exit.await.unwrap_or(lost)
            }
        }
    }

    fn child_env(&self) -> Vec<(String, String)> {
        let mut env = self.spec.env.clone();
        env.push(("EPHITUP_SERVICE".into(), self.spec.name.clone()));
        env.push(("EPHITUP_REPLICA".into(), self.replica.to_string()));
        env.push(("EPHITUP_DATA_DIR".into(), self.shared.settings.data_dir.display().to_string()));
        env
    }

    fn relay_target(&self, stream: Stream, watch: Option<LineWatch>) -> RelayTarget {
        let prefix = self.shared.palette.prefix(&self.label, self.shared.label_width, self.index);
        RelayTarget {
            sink: Arc::clone(&self.shared.sink),
            format: LineFormat::new(self.shared.settings.log_format, &self.label, stream, prefix),
            stream,
            file: self.log_file.clone(),
            max_line: self.spec.log.max_line,
            watch,
            recent: Some(RecentTarget {
                logs: Arc::clone(&self.shared.recent),
                service: Arc::from(self.spec.name.as_str()),
                label: Arc::from(self.label.as_str()),
            }),
        }
    }

    fn set(&self, change: impl FnOnce(&mut InstanceStatus)) {
        self.shared.board.send_modify(|board| {
            if let Some(status) = board.get_mut(&self.spec.name).and_then(|v| v.get_mut(self.replica as usize)) {
                change(status);
            }
        });
    }

    fn event(&self, state: State, message: String) {
        let pid = self
            .shared
            .board
            .borrow()
            .get(&self.spec.name)
            .and_then(|v| v.get(self.replica as usize))
            .and_then(|s| s.pid);
        self.shared.history.record(&self.spec.name, &self.label, state.as_str(), &message);
        match state {
            State::Failed | State::Fatal | State::Blocked | State::Unhealthy => {
                tracing::warn!(service = %self.label, state = state.as_str(), pid, "{} {message}", self.label)
            }
            _ => tracing::info!(service = %self.label, state = state.as_str(), pid, "{} {message}", self.label),
        }
    }

    /// Final state: recorded, logged, and reported to the set when it matters.
    fn finish(&self, state: State, message: String) {
        self.set(|s| {
            s.state = state;
            s.pid = None;
            s.ready = false;
        });
        self.event(state, message);
        if state.is_failure() && self.spec.critical {
            let _ = self.shared.critical_failures.send(self.label.clone());
        }
    }
}

/// The answer of a watch (pending forever without one).
async fn answer_of(watch: &mut Option<oneshot::Receiver<String>>) -> Result<String, oneshot::error::RecvError> {
    match watch {
        Some(answer) => answer.await,
        None => std::future::pending().await,
    }
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}

pub fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) { format!("{}ms", d.as_millis()) } else { format!("{:.1}s", d.as_secs_f64()) }
}
