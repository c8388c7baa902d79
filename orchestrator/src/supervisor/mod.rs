//! Supervision of the whole set: one [`instance`] task per service replica, a shared board of
//! their states ([`state`]), and the coordinator here. The coordinator answers signals and
//! requests (from the control API, the file watcher, SIGHUP), applies reloads ([`reload`]),
//! starts, stops and restarts single services, orders the shutdown (dependents first,
//! within one budget) and decides `ephitup`'s exit code.
//!
//! Requests are handled one at a time, in the order they arrive: two reloads, or a reload and
//! a restart, never interleave.

mod backoff;
mod instance;
pub mod limits;
pub mod reload;
mod schedule;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use instance::Instance;
pub use instance::fmt_duration;

use crate::board::{self, Board, InstanceStatus, State, gate};
use crate::config::{Config, OnDependencyRestart, ServiceSpec, Settings};
use crate::handle::{Call, Handle, Request};
use crate::health::check::{HttpClient, http_client};
use crate::history::{self, History};
use crate::logs::file::RotatingFile;
use crate::logs::{LogSink, Palette, RecentLogs};
use crate::process::{ProcessTable, signal_group};

/// What every instance task shares.
pub struct Shared {
    pub processes: Arc<ProcessTable>,
    pub sink: Arc<LogSink>,
    pub board: watch::Sender<Board>,
    /// Once true, nothing new is started.
    pub shutdown: watch::Sender<bool>,
    pub http: HttpClient,
    pub settings: Settings,
    pub palette: Palette,
    pub label_width: usize,
    /// Labels of critical instances that failed for good.
    pub critical_failures: mpsc::UnboundedSender<String>,
    /// The log relays, waited for before exiting so no line is lost.
    pub relays: TaskTracker,
    pub recent: Arc<RecentLogs>,
    pub history: Arc<History>,
    pub counters: Arc<crate::counters::Counters>,
    pub limits: limits::Limits,
}

impl Shared {
    /// `name`, or `name.N` when the service has replicas.
    fn label(&self, service: &str, replica: u32) -> String {
        let replicas = self.board.borrow().get(service).map_or(1, Vec::len);
        if replicas > 1 { format!("{service}.{replica}") } else { service.to_string() }
    }
}

/// How `ephitup up` was asked to run, beyond the file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The control socket (default: `ephitup.sock` in `data_dir`).
    pub socket: Option<PathBuf>,
}

/// How long, after the last service stopped, its remaining output may take to be written.
const RELAY_DRAIN: Duration = Duration::from_secs(10);

/// Exit code when a critical service failed for good.
pub const EXIT_CRITICAL: i32 = 1;
/// Exit code when the set ended by itself and something in it failed.
pub const EXIT_FAILED: i32 = 1;

/// Runs the set until a signal, a critical failure, or until nothing is left to run.
/// Returns `ephitup`'s exit code.
pub async fn run(
    config: Config,
    processes: Arc<ProcessTable>,
    sink: Arc<LogSink>,
    palette: Palette,
    options: RunOptions,
) -> anyhow::Result<i32> {
    let label_width = labels(&config).iter().map(String::len).chain(["ephitup".len()]).max().unwrap_or(7);
    let (board, _) = watch::channel(Board::new());
    let (shutdown, _) = watch::channel(false);
    let (critical_tx, mut critical_rx) = mpsc::unbounded_channel();
    crate::data_dir::prepare(&config.settings.data_dir, config.settings.user.as_ref())?;
    let shared = Arc::new(Shared {
        processes: Arc::clone(&processes),
        sink,
        board,
        shutdown,
        http: http_client(),
        settings: config.settings.clone(),
        palette,
        label_width,
        critical_failures: critical_tx,
        relays: TaskTracker::new(),
        recent: Arc::new(RecentLogs::default()),
        history: Arc::new(History::default()),
        counters: Arc::default(),
        limits: limits::Limits::default(),
    });
    let config = Arc::new(config);
    let (calls_tx, mut calls_rx) = mpsc::channel(64);
    let (config_tx, config_rx) = watch::channel(Arc::clone(&config));
    let handle = Handle {
        board: shared.board.subscribe(),
        config: config_rx,
        calls: calls_tx.clone(),
        recent: Arc::clone(&shared.recent),
        history: Arc::clone(&shared.history),
        counters: Arc::clone(&shared.counters),
        started_ms: history::now_ms(),
    };

    // Watching starts before the socket answers: once `ephitup status` works, an edit counts.
    let _config_watch =
        if config.settings.reload { crate::watch::watch_config(&config.path, calls_tx.clone()) } else { None };
    // Then the control socket: a second `ephitup up` on the same data_dir stops here.
    let socket = options.socket.clone().unwrap_or_else(|| crate::control::socket_path(&config.settings.data_dir));
    crate::control::refuse_if_running(&socket)?;
    // Without its socket the set still runs (supervision matters more than control).
    let control = match crate::control::serve_socket(&socket, handle.clone()) {
        Ok(task) => Some(task),
        Err(e) => {
            tracing::warn!("{e:#}; `ephitup status` and the other control verbs will not reach this ephitup");
            None
        }
    };
    let http = match config.settings.http {
        Some(addr) => Some(crate::control::serve_http(addr, handle.clone()).await?),
        None => None,
    };

    let mut co = Coordinator {
        config: Arc::clone(&config),
        shared: Arc::clone(&shared),
        services: HashMap::new(),
        tasks: JoinSet::new(),
        task_owners: HashMap::new(),
        held: HashSet::new(),
        seen_restarts: HashMap::new(),
        calls: calls_tx,
        config_tx,
        dev_watch: None,
        index: Index::of(&config),
    };
    for (index, spec) in config.services.iter().enumerate() {
        co.spawn_service(Arc::new(spec.clone()), index)?;
    }
    co.dev_watch = crate::watch::watch_services(&config.services, co.calls.clone());
    // Once started (and after every busy moment), the code that only busy moments need leaves
    // memory (see process::trim). Aborted on exit with the task's handle.
    let trim = tokio::spawn(crate::process::trim::trim_when_quiet());
    crate::process::trim::touched();

    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigusr1 = signal(SignalKind::user_defined1())?;
    let mut sigusr2 = signal(SignalKind::user_defined2())?;
    let mut board_rx = shared.board.subscribe();

    if config.services.is_empty() {
        tracing::info!("no services declared; nothing to run");
    }
    let code = loop {
        let (all_final, failed) = {
            let b = board_rx.borrow_and_update();
            (b.values().flatten().all(|i| i.state.is_final()), b.values().flatten().any(|i| i.state.is_failure()))
        };
        if all_final && co.held.is_empty() {
            tracing::info!("every service has ended; exiting");
            break if failed { EXIT_FAILED } else { 0 };
        }
        co.notice_restarts().await;
        tokio::select! {
            _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping all services"); break 0 }
            _ = sigint.recv() => { tracing::info!("SIGINT: stopping all services"); break 0 }
            // Never forwarded: it stops some servers, SurrealDB among them.
            _ = sighup.recv() => {
                tracing::info!("SIGHUP: reloading the configuration (not forwarded to services)");
                crate::process::trim::touched();
                let _ = co.reload().await;
            }
            _ = sigusr1.recv() => forward(&shared, Signal::SIGUSR1),
            _ = sigusr2.recv() => forward(&shared, Signal::SIGUSR2),
            Some(label) = critical_rx.recv() => {
                tracing::error!(service = %label, "critical service {label} failed: stopping all services");
                break EXIT_CRITICAL;
            }
            Some(call) = calls_rx.recv() => {
                crate::process::trim::touched();
                let answer = co.handle(call.request).await;
                if let Some(reply) = call.reply {
                    let _ = reply.send(answer);
                }
            }
            Some(joined) = co.tasks.join_next_with_id(), if !co.tasks.is_empty() => co.task_ended(joined),
            changed = board_rx.changed() => if changed.is_err() { break 0 },
        }
    };

    trim.abort();
    if let Some(task) = control {
        task.abort();
    }
    if let Some(h) = http {
        h.abort();
    }
    crate::control::remove_socket(&socket);
    co.dev_watch = None;
    shutdown_set(&co.config, &shared, &co.services, &mut co.tasks, &mut sigterm, &mut sigint).await;
    // Every process is gone, so every pipe reaches its end: relay what is left in them.
    shared.relays.close();
    if tokio::time::timeout(RELAY_DRAIN, shared.relays.wait()).await.is_err() {
        tracing::warn!(
            "output still unread after {}s: the reader of ephitup's output is not keeping up; the rest is lost",
            RELAY_DRAIN.as_secs()
        );
    }
    Ok(code)
}

/// A service of the running set.
struct Running {
    spec: Arc<ServiceSpec>,
    stop: watch::Sender<Option<Instant>>,
}

/// The coordinator's state: the set as it runs now.
struct Coordinator {
    config: Arc<Config>,
    shared: Arc<Shared>,
    services: HashMap<String, Running>,
    tasks: JoinSet<()>,
    /// Which instance each task of `tasks` supervises (service, replica).
    task_owners: HashMap<tokio::task::Id, (String, u32)>,
    /// Services stopped on purpose (by an operator, or waiting for a dependency to come
    /// back): while any is, `ephitup` does not exit when everything else has ended.
    held: HashSet<String>,
    /// Restarts seen per service, to notice a dependency restarting.
    seen_restarts: HashMap<String, u32>,
    calls: mpsc::Sender<Call>,
    config_tx: watch::Sender<Arc<Config>>,
    dev_watch: Option<crate::watch::Watcher>,
    /// Lookups by name into `config.services`, rebuilt with it.
    index: Index,
}

/// Positions and dependents by name: a request or reload costs no scan of the whole set per
/// service it touches.
struct Index {
    position: HashMap<String, usize>,
    /// Positions of the services depending on each name, directly.
    dependents: HashMap<String, Vec<usize>>,
}

impl Index {
    fn of(config: &Config) -> Self {
        let position = config.services.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
        let mut dependents: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in config.services.iter().enumerate() {
            for d in &s.depends_on {
                let of = dependents.entry(d.service.clone()).or_default();
                // A name listed twice is one dependency.
                if of.last() != Some(&i) {
                    of.push(i);
                }
            }
        }
        Self { position, dependents }
    }
}

impl Coordinator {
    async fn handle(&mut self, request: Request) -> Result<String, String> {
        match request {
            Request::Reload => self.reload().await,
            Request::Start(name) => self.start(&name).await,
            Request::Stop(name) => self.stop(&name).await,
            Request::Restart(name) => self.restart(&name, "restarting on request").await,
            Request::DependencyBack { service, start_only } => {
                if !self.services.contains_key(&service) {
                    return Ok(String::new());
                }
                if start_only {
                    if !self.held.contains(&service) {
                        return Ok(String::new());
                    }
                    tracing::info!(service = %service, "{service}: its dependency is back, starting it");
                    self.start(&service).await
                } else {
                    self.restart(&service, "restarting: a dependency restarted").await
                }
            }
        }
    }

    fn spec(&self, name: &str) -> Result<Arc<ServiceSpec>, String> {
        self.services.get(name).map(|r| Arc::clone(&r.spec)).ok_or_else(|| {
            let names: Vec<&str> = self.config.services.iter().map(|s| s.name.as_str()).collect();
            format!("no service named `{name}` (services: {})", names.join(", "))
        })
    }

    fn is_final(&self, name: &str) -> bool {
        self.shared.board.borrow().get(name).is_none_or(|v| v.iter().all(|i| i.state.is_final()))
    }

    /// Puts a fresh entry for `spec` on the board and spawns its instances.
    fn spawn_service(&mut self, spec: Arc<ServiceSpec>, index: usize) -> anyhow::Result<()> {
        let log_file = match &spec.log.file {
            Some(path) => Some(Arc::new(Mutex::new(
                RotatingFile::open(path, spec.log.max_size, spec.log.max_files)
                    .map_err(|e| anyhow::anyhow!("cannot open log file {} of {}: {e}", path.display(), spec.name))?,
            ))),
            None => None,
        };
        self.shared.board.send_modify(|b| {
            b.insert(spec.name.clone(), vec![InstanceStatus::default(); spec.replicas as usize]);
        });
        // A fresh entry counts restarts from zero.
        self.seen_restarts.insert(spec.name.clone(), 0);
        let (stop_tx, stop_rx) = watch::channel(None);
        for replica in 0..spec.replicas {
            let label = if spec.replicas > 1 { format!("{}.{replica}", spec.name) } else { spec.name.clone() };
            let instance = Instance {
                spec: Arc::clone(&spec),
                replica,
                label,
                index,
                shared: Arc::clone(&self.shared),
                stop: stop_rx.clone(),
                log_file: log_file.clone(),
            };
            let task = self.tasks.spawn(instance.run());
            self.task_owners.insert(task.id(), (spec.name.clone(), replica));
        }
        self.held.remove(&spec.name);
        self.services.insert(spec.name.clone(), Running { spec, stop: stop_tx });
        Ok(())
    }

    /// An instance task ended. Normally it has reported its final state itself; if it
    /// panicked (a bug), tokio caught the panic and the rest of the set runs on: its instance
    /// is marked failed and its process group killed, since nothing supervises it any more.
    fn task_ended(&mut self, joined: Result<(tokio::task::Id, ()), tokio::task::JoinError>) {
        let (id, panic) = match joined {
            Ok((id, ())) => (id, None),
            Err(e) => (e.id(), e.is_panic().then(|| e.into_panic())),
        };
        let owner = self.task_owners.remove(&id);
        let (Some(panic), Some((service, replica))) = (panic, owner) else { return };
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let label = self.shared.label(&service, replica);
        tracing::error!(service = %label, "internal error supervising {label} ({what}): it is stopped and marked failed");
        let mut pid = None;
        self.shared.board.send_modify(|b| {
            if let Some(status) = b.get_mut(&service).and_then(|v| v.get_mut(replica as usize)) {
                pid = status.pid.take();
                status.state = State::Failed;
                status.ready = false;
                status.last_exit = Some("internal error".into());
            }
        });
        if let Some(pid) = pid {
            let _ = signal_group(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
        }
        if self.services.get(&service).is_some_and(|r| r.spec.critical) {
            let _ = self.shared.critical_failures.send(label);
        }
    }

    fn index_of(&self, name: &str) -> usize {
        self.index.position.get(name).copied().unwrap_or(0)
    }

    /// Stops `names` and waits until each has ended: a service is asked once every service
    /// of `names` depending on it, directly or through any chain, has no process left.
    async fn stop_services(&self, names: &[String]) {
        let mut longest = Duration::ZERO;
        let mut stops = HashMap::new();
        for name in names {
            let Some(running) = self.services.get(name) else { continue };
            longest = longest.max(running.spec.stop_timeout);
            stops.insert(name.as_str(), (running.stop.clone(), running.spec.stop_timeout));
        }
        let ordered = stop_in_order(&self.config, names, self.shared.board.subscribe(), |name| {
            if let Some((stop, timeout)) = stops.get(name) {
                stop.send_replace(Some(deadline_after(*timeout)));
            }
        });
        let all_ended = async {
            ordered.await;
            let mut board = self.shared.board.subscribe();
            let _ = board
                .wait_for(|b| names.iter().all(|n| b.get(n).is_none_or(|v| v.iter().all(|i| i.state.is_final()))))
                .await;
        };
        // Each stop is bounded by its stop_timeout, then SIGKILL; the margin covers the rest.
        let budget = longest.saturating_mul(u32::try_from(names.len()).unwrap_or(u32::MAX).max(1));
        if tokio::time::timeout(budget.saturating_add(Duration::from_secs(5)), all_ended).await.is_err() {
            tracing::warn!("{} did not report their end in time", names.join(", "));
        }
    }

    async fn start(&mut self, name: &str) -> Result<String, String> {
        let spec = self.spec(name)?;
        if !self.is_final(name) {
            return Ok(format!("{name} is already running"));
        }
        let index = self.index_of(name);
        self.spawn_service(spec, index).map_err(|e| format!("{e:#}"))?;
        self.shared.history.record(name, name, "waiting", "started on request");
        Ok(format!("{name} started"))
    }

    async fn stop(&mut self, name: &str) -> Result<String, String> {
        self.spec(name)?;
        if self.is_final(name) {
            return Ok(format!("{name} is not running"));
        }
        // Held: ephitup stays up for it, even when everything else has ended.
        self.held.insert(name.to_string());
        tracing::info!(service = %name, "stopping {name} on request");
        self.stop_services(&[name.to_string()]).await;
        Ok(format!("{name} stopped"))
    }

    /// Stops and starts `name` again; its dependents follow their `on_dependency_restart`.
    async fn restart(&mut self, name: &str, why: &str) -> Result<String, String> {
        let spec = self.spec(name)?;
        tracing::info!(service = %name, "{name}: {why}");
        self.shared.history.record(name, name, "stopping", why);
        let waiting = self.dependents_with(name, OnDependencyRestart::Wait);
        let mut stopping = waiting.clone();
        stopping.push(name.to_string());
        self.stop_services(&stopping).await;
        let index = self.index_of(name);
        self.spawn_service(spec, index).map_err(|e| format!("{e:#}"))?;
        self.after_dependency_down(name, &waiting, &HashSet::new());
        Ok(format!("{name} restarted"))
    }

    fn dependents_with(&self, name: &str, policy: OnDependencyRestart) -> Vec<String> {
        let dependents = self.index.dependents.get(name).map_or(&[][..], Vec::as_slice);
        dependents
            .iter()
            .map(|&i| &self.config.services[i])
            .filter(|s| s.on_dependency_restart == policy)
            .map(|s| s.name.clone())
            .collect()
    }

    /// `dependency` went down (it is restarting): `wait` dependents (already stopped, in
    /// `stopped`) start again, `restart` dependents restart, once it is back.
    /// `exclude`: services restarting anyway (changed by a reload).
    fn after_dependency_down(&mut self, dependency: &str, stopped: &[String], exclude: &HashSet<String>) {
        for d in stopped {
            self.held.insert(d.clone());
        }
        let mut restart = self.dependents_with(dependency, OnDependencyRestart::Restart);
        restart.retain(|r| !exclude.contains(r));
        for (service, start_only) in
            stopped.iter().map(|s| (s.clone(), true)).chain(restart.into_iter().map(|s| (s, false)))
        {
            let Some(dep) = self
                .index
                .position
                .get(&service)
                .map(|&i| &self.config.services[i])
                .and_then(|s| s.depends_on.iter().find(|d| d.service == dependency))
                .cloned()
            else {
                continue;
            };
            let mut board = self.shared.board.subscribe();
            let calls = self.calls.clone();
            tokio::spawn(async move {
                let back = board
                    .wait_for(|b| {
                        let up = b
                            .get(&dep.service)
                            .is_some_and(|v| v.iter().all(|i| i.state.has_process() || i.state == State::Completed));
                        up && gate(b, &dep) == board::Gate::Open || b.get(&dep.service).is_none()
                    })
                    .await
                    .map(|b| b.contains_key(&dep.service))
                    .unwrap_or(false);
                if back {
                    let _ = calls
                        .send(Call { request: Request::DependencyBack { service, start_only }, reply: None })
                        .await;
                }
            });
        }
    }

    /// Notices services that restarted by themselves (their process exited and is being
    /// restarted) and applies their dependents' `on_dependency_restart`.
    async fn notice_restarts(&mut self) {
        let mut restarted = Vec::new();
        {
            let board = self.shared.board.borrow();
            for (name, v) in board.iter() {
                let now: u32 = v.iter().map(|i| i.restarts).sum();
                if now > self.seen_restarts.get(name).copied().unwrap_or(0) {
                    self.seen_restarts.insert(name.clone(), now);
                    restarted.push(name.clone());
                }
            }
        }
        for name in restarted {
            let waiting = self.dependents_with(&name, OnDependencyRestart::Wait);
            let has_policy =
                !waiting.is_empty() || !self.dependents_with(&name, OnDependencyRestart::Restart).is_empty();
            if !has_policy {
                continue;
            }
            let running: Vec<String> = waiting.into_iter().filter(|w| !self.is_final(w)).collect();
            if !running.is_empty() {
                tracing::info!(service = %name, "{name} is restarting: stopping {} until it is back", running.join(", "));
                self.stop_services(&running).await;
            }
            self.after_dependency_down(&name, &running, &HashSet::new());
        }
    }
}

/// `name`, or `name.N` for each replica.
fn labels(config: &Config) -> Vec<String> {
    config
        .services
        .iter()
        .flat_map(|s| {
            (0..s.replicas).map(move |r| if s.replicas > 1 { format!("{}.{r}", s.name) } else { s.name.clone() })
        })
        .collect()
}

fn forward(shared: &Shared, sig: Signal) {
    for (name, instances) in shared.board.borrow().iter() {
        for pid in instances.iter().filter_map(|i| i.pid) {
            tracing::info!(service = %name, "forwarding {sig} to {name}");
            let _ = signal_group(nix::unistd::Pid::from_raw(pid), sig);
        }
    }
}

/// Stops everything in reverse dependency order: a service is asked to stop once none of
/// its dependents has a process left. The whole set gets `shutdown_timeout`; each service's
/// `stop_timeout` is cut to what is left of it. A second SIGTERM/SIGINT kills at once.
async fn shutdown_set(
    config: &Config,
    shared: &Arc<Shared>,
    services: &HashMap<String, Running>,
    tasks: &mut JoinSet<()>,
    sigterm: &mut tokio::signal::unix::Signal,
    sigint: &mut tokio::signal::unix::Signal,
) {
    let budget = config.settings.shutdown_timeout;
    let deadline = deadline_after(budget);
    shared.shutdown.send_replace(true);

    let names: Vec<String> = services.keys().cloned().collect();
    let ordered = stop_in_order(config, &names, shared.board.subscribe(), |name| {
        if let Some(running) = services.get(name) {
            running.stop.send_replace(Some(deadline));
        }
    });
    let all_done = async {
        ordered.await;
        while tasks.join_next().await.is_some() {}
    };
    let forced = tokio::select! {
        _ = all_done => false,
        _ = tokio::time::sleep_until(deadline.checked_add(Duration::from_secs(1)).unwrap_or(deadline)) => {
            tracing::warn!("shutdown budget of {} spent: killing what is left", humantime::format_duration(budget));
            true
        }
        _ = sigterm.recv() => { tracing::warn!("second signal: killing every service now"); true }
        _ = sigint.recv() => { tracing::warn!("second signal: killing every service now"); true }
    };
    if forced {
        for pid in shared.processes.pids() {
            let _ = signal_group(pid, Signal::SIGKILL);
        }
        let _ =
            tokio::time::timeout(Duration::from_secs(2), async { while tasks.join_next().await.is_some() {} }).await;
    }
    let left = shared.board.borrow().values().flatten().filter(|i| i.state == State::Stopping).count();
    if left > 0 {
        tracing::warn!("{left} instance(s) did not report their exit");
    }
}

/// Asks each of `names` to stop (`ask`) as soon as no service depending on it, directly or
/// through any chain, is among `names` and still has a process ([`crate::graph::Graph::ready_to_stop`]): a
/// completed one-shot between a database and its clients has no process, yet the database
/// still waits for the clients. Returns once every one of `names` has been asked.
async fn stop_in_order(
    config: &Config,
    names: &[String],
    mut board: watch::Receiver<Board>,
    mut ask: impl FnMut(&str),
) {
    let graph = config.graph();
    let mut stopping = vec![false; graph.len()];
    for name in names {
        if let Some(i) = graph.index_of(name) {
            stopping[i] = true;
        }
    }
    // Names not in the graph (not in the file any more) have nothing to wait for.
    for name in names.iter().filter(|n| graph.index_of(n).is_none()) {
        ask(name);
    }
    let mut asked = vec![false; graph.len()];
    let mut left = stopping.iter().filter(|s| **s).count();
    while left > 0 {
        let ready = {
            let b = board.borrow_and_update();
            let alive =
                |i: usize| b.get(graph.name(i)).is_some_and(|v| v.iter().any(|instance| instance.state.has_process()));
            graph.ready_to_stop(&stopping, &asked, alive)
        };
        for i in ready {
            asked[i] = true;
            left -= 1;
            ask(graph.name(i));
        }
        if left > 0 && board.changed().await.is_err() {
            return;
        }
    }
}

/// `Instant::now() + d`, or a far future when that would not fit (a deadline never panics).
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).or_else(|| now.checked_add(Duration::from_secs(10 * 365 * 24 * 3600))).unwrap_or(now)
}
