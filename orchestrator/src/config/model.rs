//! The resolved configuration: every default applied, every string interpreted, every
//! reference checked. This is what the supervisor runs; it never sees raw TOML.

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use regex::bytes::Regex;

use crate::graph::Graph;

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from.
    pub path: PathBuf,
    pub settings: Settings,
    /// In declaration order.
    pub services: Vec<ServiceSpec>,
    /// `[export] secret`: variables marked secret (true) or not (false), by name; only
    /// `ephitup export` reads it.
    pub export_secret: std::collections::BTreeMap<String, bool>,
}

impl Config {
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The dependency graph of the services; node `i` is `services[i]`.
    pub fn graph(&self) -> Graph<'_> {
        Graph::new(self.services.iter().map(|s| (s.name.as_str(), s.depends_on.iter().map(|d| d.service.as_str()))))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub log_color: LogColor,
    /// Budget for stopping the whole set on SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    /// Address of the optional HTTP listener (`/healthz`, `/readyz`, status page).
    pub http: Option<std::net::SocketAddr>,
    /// Watch the configuration file and apply valid edits.
    pub reload: bool,
    /// Default user of the services; when ephitup runs as root, it also owns `data_dir`.
    pub user: Option<RunAs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `name | line`, coloured on a terminal.
    Pretty,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogColor {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    /// Program and arguments; never run through a shell.
    pub command: Vec<String>,
    pub cwd: PathBuf,
    /// Variables added to (or overriding) the inherited environment, in order.
    pub env: Vec<(String, String)>,
    pub kind: ServiceKind,
    pub depends_on: Vec<Dependency>,
    pub restart: RestartPolicy,
    pub backoff: Backoff,
    /// More restarts than this within `restart_window` make the service fatal.
    pub max_restarts: u32,
    pub restart_window: Duration,
    /// A fatal critical service stops the whole set and `ephitup` exits non-zero.
    pub critical: bool,
    pub stop_signal: Signal,
    pub stop_timeout: Duration,
    /// Readiness: gates dependents waiting for `healthy`.
    pub health: Option<Probe>,
    /// Liveness: `retries` consecutive failures restart the service.
    pub liveness: Option<Probe>,
    pub replicas: u32,
    pub user: Option<RunAs>,
    pub log: ServiceLog,
    pub on_dependency_restart: OnDependencyRestart,
    /// Changes under these paths restart the service (relative ones are against the file).
    pub watch: Vec<PathBuf>,
    pub limits: Limits,
    /// A one-shot run on a schedule instead of once.
    pub schedule: Option<Schedule>,
}

/// What a service may use; over it, it is stopped and restarted by its policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Resident memory of the whole process group, in bytes.
    pub memory: Option<u64>,
}

/// When a scheduled one-shot runs.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every interval, counted from when the set started.
    Every(Duration),
    /// At the times of a cron expression (UTC); the text as written, for messages.
    Cron(Box<cron::Schedule>, String),
}

impl Schedule {
    /// The first run time strictly after `after_ms` (ms since the Unix epoch), counted for
    /// `Every` from `anchor_ms`. None if the expression has no future time.
    pub fn next_after(&self, anchor_ms: u64, after_ms: u64) -> Option<u64> {
        match self {
            Schedule::Every(every) => {
                let step = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
                let passed = after_ms.saturating_sub(anchor_ms) / step + 1;
                Some(anchor_ms.saturating_add(passed.saturating_mul(step)))
            }
            Schedule::Cron(schedule, _) => {
                let after = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(i64::try_from(after_ms).ok()?)?;
                let next = schedule.after(&after).next()?;
                u64::try_from(next.timestamp_millis()).ok()
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Schedule::Every(d) => format!("every {}", humantime::format_duration(*d)),
            Schedule::Cron(_, text) => format!("cron {text} (UTC)"),
        }
    }
}

/// What a dependent does when one of its dependencies restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDependencyRestart {
    /// Keep running (the default).
    Ignore,
    /// Keep running while the dependency is down; restart once it is back.
    Restart,
    /// Stop while the dependency is down; start again once its condition holds.
    Wait,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// Runs until stopped.
    Daemon,
    /// Runs to completion; exit 0 means `completed`.
    Oneshot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub service: String,
    pub condition: Condition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The dependency's process has been spawned.
    Started,
    /// The dependency's readiness probe has passed.
    Healthy,
    /// The dependency (a one-shot) exited with status 0.
    Completed,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Healthy => "healthy",
            Condition::Completed => "completed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    /// Fraction of each delay added or removed at random, 0.0..=1.0.
    pub jitter: f64,
    /// Running (and ready, if probed) this long resets the delay to `initial`.
    pub reset_after: Duration,
}

#[derive(Debug, Clone)]
pub struct Probe {
    pub check: Check,
    pub interval: Duration,
    pub timeout: Duration,
    /// Consecutive failures before the probe counts as failed.
    pub retries: u32,
    /// Failures during this period after start are not counted.
    pub start_period: Duration,
}

#[derive(Debug, Clone)]
pub enum Check {
    /// GET answering 2xx.
    Http(hyper::Uri),
    /// A TCP connection that opens, `host:port`.
    Tcp(String),
    /// A program that exits 0.
    Exec(Vec<String>),
    /// A line of the service's output matching the pattern.
    Log(Regex),
}

impl Check {
    pub fn describe(&self) -> String {
        match self {
            Check::Http(uri) => format!("http {uri}"),
            Check::Tcp(addr) => format!("tcp {addr}"),
            Check::Exec(argv) => format!("exec {}", argv.join(" ")),
            Check::Log(re) => format!("log /{}/", re.as_str()),
        }
    }
}

/// A Unix account to run the service as (only possible when `ephitup` runs as root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceLog {
    pub file: Option<PathBuf>,
    pub max_size: u64,
    pub max_files: u32,
    pub max_line: usize,
}
