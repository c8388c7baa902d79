//! The plan `ephitup check` prints: services by startup wave, each with what it waits for,
//! then the stop order a shutdown follows, with each service's `stop_timeout`, and a warning
//! when the longest chain of stop timeouts does not fit in `shutdown_timeout` (a platform
//! SIGKILLs everything at its own deadline: Render's is 30 s by default).

use std::fmt::Write;
use std::time::Duration;

use crate::config::{Config, OnDependencyRestart, ServiceKind, ServiceSpec};

pub fn render(config: &Config) -> String {
    let mut out = String::new();
    let n = config.services.len();
    let _ = writeln!(out, "{}: valid, {n} service{}", config.path.display(), if n == 1 { "" } else { "s" });
    let width = config.services.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let graph = config.graph();
    for (i, wave) in graph.startup_waves().iter().enumerate() {
        let _ = writeln!(out, "wave {}:", i + 1);
        for s in wave.iter().map(|&i| &config.services[i]) {
            let kind = match s.kind {
                ServiceKind::Daemon => "daemon",
                ServiceKind::Oneshot => "oneshot",
            };
            let mut notes = Vec::new();
            if !s.depends_on.is_empty() {
                let deps: Vec<String> =
                    s.depends_on.iter().map(|d| format!("{} {}", d.service, d.condition.as_str())).collect();
                notes.push(format!("after {}", deps.join(", ")));
            }
            if let Some(h) = &s.health {
                notes.push(format!("ready: {}", h.check.describe()));
            }
            if let Some(l) = &s.liveness {
                notes.push(format!("alive: {}", l.check.describe()));
            }
            if s.replicas > 1 {
                notes.push(format!("{} replicas", s.replicas));
            }
            if s.critical {
                notes.push("critical".into());
            }
            match s.on_dependency_restart {
                OnDependencyRestart::Ignore => {}
                OnDependencyRestart::Restart => notes.push("restarts with its dependencies".into()),
                OnDependencyRestart::Wait => notes.push("stops while a dependency restarts".into()),
            }
            if !s.watch.is_empty() {
                let paths: Vec<String> = s.watch.iter().map(|p| p.display().to_string()).collect();
                notes.push(format!("restarts on changes in {}", paths.join(", ")));
            }
            let _ = writeln!(out, "  {:<width$}  {kind:<7}  {}", s.name, notes.join("; "));
        }
    }
    render_stop(&mut out, config, width);
    out
}

/// The stop order: steps in which a shutdown asks services to stop (a service only once every
/// service depending on it, directly or not, has stopped), each service with its timeout.
fn render_stop(out: &mut String, config: &Config, width: usize) {
    if config.services.is_empty() {
        return;
    }
    let budget = humantime::format_duration(config.settings.shutdown_timeout);
    let _ = writeln!(out, "stop order (SIGTERM, SIGINT; within shutdown_timeout {budget}):");
    for (i, step) in config.graph().stop_steps().iter().enumerate() {
        let _ = writeln!(out, "step {}:", i + 1);
        for s in step.iter().map(|&i| &config.services[i]) {
            let what = match s.kind {
                ServiceKind::Daemon => format!("{} then SIGKILL after {}", s.stop_signal, show(s.stop_timeout)),
                ServiceKind::Oneshot => format!(
                    "oneshot: nothing to stop once completed; if still running, {} then SIGKILL after {}",
                    s.stop_signal,
                    show(s.stop_timeout)
                ),
            };
            let _ = writeln!(out, "  {:<width$}  {what}", s.name);
        }
    }
    let (total, chain) = stop_chain(config);
    if chain.len() > 1 || total > Duration::ZERO {
        let _ = writeln!(out, "longest stop: {}", describe_chain(config, total, &chain));
    }
}

/// Warnings about a valid file (printed by `check`, which still exits 0).
pub fn warnings(config: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
    let (total, chain) = stop_chain(config);
    let budget = config.settings.shutdown_timeout;
    if total > budget {
        warnings.push(format!(
            "the longest chain of stop timeouts, {}, exceeds shutdown_timeout ({}): a shutdown may SIGKILL \
             what is still stopping then (and a platform kills at its own deadline: Render's is 30s by default)",
            describe_chain(config, total, &chain),
            show(budget)
        ));
    }
    warnings
}

/// The longest chain of stop timeouts: what a shutdown takes when every service uses all of
/// its `stop_timeout`. One-shots count as completed (nothing to stop).
fn stop_chain(config: &Config) -> (Duration, Vec<usize>) {
    config.graph().longest_stop_chain(|i| stop_time(&config.services[i]))
}

fn stop_time(s: &ServiceSpec) -> Duration {
    match s.kind {
        ServiceKind::Daemon => s.stop_timeout,
        ServiceKind::Oneshot => Duration::ZERO,
    }
}

/// `worker 25s → db 20s = 45s` (one-shots on the way are left out, and the middle of a long
/// chain).
fn describe_chain(config: &Config, total: Duration, chain: &[usize]) -> String {
    const SHOWN: usize = 8;
    let mut parts: Vec<String> = chain
        .iter()
        .map(|&i| &config.services[i])
        .filter(|s| s.kind == ServiceKind::Daemon)
        .map(|s| format!("{} {}", s.name, show(s.stop_timeout)))
        .collect();
    if parts.len() > SHOWN + 2 {
        let left = parts.len() - SHOWN - 1;
        parts.drain(SHOWN..parts.len() - 1);
        parts.insert(SHOWN, format!("… {left} more …"));
    }
    format!("{} = {}", parts.join(" → "), show(total))
}

fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
