//! The plan `ephitup check` prints: services by startup wave, each with what it waits for,
//! its schedule (with its next run) and its memory limit, then the stop order a shutdown
//! follows, with each service's `stop_timeout`, and a warning when the longest chain of stop
//! timeouts does not fit in `shutdown_timeout` (a platform SIGKILLs everything at its own
//! deadline: Render's is 30 s by default), or when a service waits for a scheduled one-shot's
//! first run.

use std::fmt::Write;
use std::time::Duration;

use crate::config::{Condition, Config, OnDependencyRestart, Schedule, ServiceKind, ServiceSpec};

/// The plan, with next run times counted from now (as if the set started now).
pub fn render(config: &Config) -> String {
    render_at(config, crate::history::now_ms())
}

/// The plan, with next run times counted from `now_ms` (ms since the Unix epoch).
pub fn render_at(config: &Config, now_ms: u64) -> String {
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
            if let Some(schedule) = &s.schedule {
                notes.push(format!("scheduled {}, {}", schedule.describe(), next_run(schedule, now_ms)));
            }
            if let Some(bytes) = s.limits.memory {
                notes.push(format!("memory limit {}", bytesize::ByteSize::b(bytes).display().iec()));
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
                ServiceKind::Oneshot if s.schedule.is_some() => format!(
                    "scheduled oneshot: nothing to stop between runs; if a run is going, {} then SIGKILL after {}",
                    s.stop_signal,
                    show(s.stop_timeout)
                ),
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

/// When a scheduled one-shot runs first: `every` counts from when the set starts, a cron
/// expression gives a time of day.
fn next_run(schedule: &Schedule, now_ms: u64) -> String {
    match (schedule, schedule.next_after(now_ms, now_ms)) {
        (Schedule::Every(every), _) => format!("first run {} after start", humantime::format_duration(*every)),
        (Schedule::Cron(..), Some(next)) => {
            let when = std::time::UNIX_EPOCH + Duration::from_millis(next);
            format!("next run {}", humantime::format_rfc3339_seconds(when))
        }
        (Schedule::Cron(..), None) => "no run time ahead".into(),
    }
}

/// Warnings about a valid file (printed by `check`, which still exits 0).
pub fn warnings(config: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
    // `completed` of a scheduled one-shot holds only once a run has completed.
    for s in &config.services {
        for d in s.depends_on.iter().filter(|d| d.condition == Condition::Completed) {
            let Some(schedule) = config.service(&d.service).and_then(|t| t.schedule.as_ref()) else { continue };
            warnings.push(format!(
                "`{}` waits for `{}` completed, a scheduled one-shot ({}): it starts only once a run of \
                 `{}` has completed ({})",
                s.name,
                d.service,
                schedule.describe(),
                d.service,
                next_run(schedule, crate::history::now_ms())
            ));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let dir = std::env::temp_dir();
        crate::config::parse(&dir.join("ephitup.toml"), text, &|_| None).unwrap_or_else(|e| panic!("{e}"))
    }

    const FILE: &str = r#"
[services.db]
command = ["db"]
limits = { memory = "256MiB" }

[services.backup]
kind = "oneshot"
command = ["backup"]
schedule = { every = "6h" }
depends_on = { db = "started" }
limits = { memory = "64MiB" }

[services.report]
kind = "oneshot"
command = ["report"]
schedule = { cron = "30 3 * * *" }

[services.app]
command = ["app"]
depends_on = { backup = "completed" }
"#;

    #[test]
    fn the_plan_shows_schedules_next_runs_and_memory_limits() {
        // 2024-01-01T00:00:00Z
        let plan = render_at(&config(FILE), 1_704_067_200_000);
        let line = |name: &str| {
            plan.lines().find(|l| l.trim_start().starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{plan}"))
        };
        assert!(line("db").contains("memory limit 256.0 MiB"), "{plan}");
        let backup = line("backup");
        assert!(backup.contains("scheduled every 6h, first run 6h after start"), "{plan}");
        assert!(backup.contains("memory limit 64.0 MiB"), "{plan}");
        assert!(line("report").contains("scheduled cron 30 3 * * * (UTC), next run 2024-01-01T03:30:00Z"), "{plan}");
        assert!(!line("app").contains("memory limit"), "{plan}");
    }

    #[test]
    fn waiting_for_a_scheduled_oneshot_is_warned_about() {
        let warnings = warnings(&config(FILE));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("`app` waits for `backup` completed"), "{warnings:?}");
        assert!(warnings[0].contains("first run 6h after start"), "{warnings:?}");
    }
}
