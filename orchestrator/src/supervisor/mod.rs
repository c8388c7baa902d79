//! Supervision of the whole set: one [`instance`] task per service replica, a shared board of
//! their states ([`state`]), and the coordinator here, which answers signals, orders the
//! shutdown (dependents first, within one budget) and decides `ephitup`'s exit code.

mod backoff;
mod instance;
pub mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

pub use instance::fmt_duration;
use instance::{Instance, LogFiles};
use state::{Board, InstanceStatus, State};

use crate::config::{Config, Settings};
use crate::health::check::{HttpClient, http_client};
use crate::logs::file::RotatingFile;
use crate::logs::{LogSink, Palette};
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
    pub log_files: LogFiles,
    /// Labels of critical instances that failed for good.
    pub critical_failures: mpsc::UnboundedSender<String>,
    /// The log relays, waited for before exiting so no line is lost.
    pub relays: TaskTracker,
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
) -> anyhow::Result<i32> {
    let labels = labels(&config);
    let label_width = labels.iter().map(|(_, l)| l.len()).chain(["ephitup".len()]).max().unwrap_or(7);
    let board: Board = config
        .services
        .iter()
        .map(|s| (s.name.clone(), vec![InstanceStatus::default(); s.replicas as usize]))
        .collect();
    let (board, _) = watch::channel(board);
    let (shutdown, _) = watch::channel(false);
    let (critical_tx, mut critical_rx) = mpsc::unbounded_channel();
    let mut log_files = HashMap::new();
    for s in &config.services {
        if let Some(path) = &s.log.file {
            let file = RotatingFile::open(path, s.log.max_size, s.log.max_files)
                .map_err(|e| anyhow::anyhow!("cannot open log file {} of {}: {e}", path.display(), s.name))?;
            log_files.insert(s.name.clone(), Arc::new(Mutex::new(file)));
        }
    }
    std::fs::create_dir_all(&config.settings.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create data_dir {}: {e}", config.settings.data_dir.display()))?;
    let shared = Arc::new(Shared {
        processes: Arc::clone(&processes),
        sink,
        board,
        shutdown,
        http: http_client(),
        settings: config.settings.clone(),
        palette,
        label_width,
        log_files,
        critical_failures: critical_tx,
        relays: TaskTracker::new(),
    });

    let mut stops: HashMap<String, watch::Sender<Option<Instant>>> = HashMap::new();
    let mut tasks = JoinSet::new();
    for (index, spec) in config.services.iter().enumerate() {
        let spec = Arc::new(spec.clone());
        let (stop_tx, stop_rx) = watch::channel(None);
        stops.insert(spec.name.clone(), stop_tx);
        for replica in 0..spec.replicas {
            let label = if spec.replicas > 1 { format!("{}.{replica}", spec.name) } else { spec.name.clone() };
            let instance = Instance {
                spec: Arc::clone(&spec),
                replica,
                label,
                index,
                shared: Arc::clone(&shared),
                stop: stop_rx.clone(),
            };
            tasks.spawn(instance.run());
        }
    }

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
        if board_rx.borrow_and_update().values().flatten().all(|i| i.state.is_final()) {
            let failed = board_rx.borrow().values().flatten().any(|i| i.state.is_failure());
            tracing::info!("every service has ended; exiting");
            break if failed { EXIT_FAILED } else { 0 };
        }
        tokio::select! {
            _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping all services"); break 0 }
            _ = sigint.recv() => { tracing::info!("SIGINT: stopping all services"); break 0 }
            _ = sighup.recv() => tracing::info!("SIGHUP received: not forwarded (it stops some servers, SurrealDB among them)"),
            _ = sigusr1.recv() => forward(&shared, Signal::SIGUSR1),
            _ = sigusr2.recv() => forward(&shared, Signal::SIGUSR2),
            Some(label) = critical_rx.recv() => {
                tracing::error!(service = %label, "critical service {label} failed: stopping all services");
                break EXIT_CRITICAL;
            }
            changed = board_rx.changed() => if changed.is_err() { break 0 },
        }
    };

    shutdown_set(&config, &shared, &stops, &mut tasks, &mut sigterm, &mut sigint).await;
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

/// `name`, or `name.N` for each replica.
fn labels(config: &Config) -> Vec<(String, String)> {
    config
        .services
        .iter()
        .flat_map(|s| {
            (0..s.replicas)
                .map(move |r| (s.name.clone(), if s.replicas > 1 { format!("{}.{r}", s.name) } else { s.name.clone() }))
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
    stops: &HashMap<String, watch::Sender<Option<Instant>>>,
    tasks: &mut JoinSet<()>,
    sigterm: &mut tokio::signal::unix::Signal,
    sigint: &mut tokio::signal::unix::Signal,
) {
    let budget = config.settings.shutdown_timeout;
    let deadline = Instant::now() + budget;
    shared.shutdown.send_replace(true);

    let mut stoppers = JoinSet::new();
    for spec in &config.services {
        let dependents: Vec<String> =
            crate::graph::dependents_of(&config.services, &spec.name).into_iter().map(str::to_string).collect();
        let Some(stop) = stops.get(&spec.name).cloned() else { continue };
        let mut board = shared.board.subscribe();
        stoppers.spawn(async move {
            let _ = board
                .wait_for(|b| {
                    dependents.iter().all(|d| b.get(d).is_none_or(|v| v.iter().all(|i| !i.state.has_process())))
                })
                .await;
            stop.send_replace(Some(deadline));
        });
    }

    let all_done = async { while tasks.join_next().await.is_some() {} };
    let forced = tokio::select! {
        _ = all_done => false,
        _ = tokio::time::sleep_until(deadline + Duration::from_secs(1)) => {
            tracing::warn!("shutdown budget of {} spent: killing what is left", humantime::format_duration(budget));
            true
        }
        _ = sigterm.recv() => { tracing::warn!("second signal: killing every service now"); true }
        _ = sigint.recv() => { tracing::warn!("second signal: killing every service now"); true }
    };
    stoppers.abort_all();
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
