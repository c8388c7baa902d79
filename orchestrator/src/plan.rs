//! The startup plan `ephitup check` prints: services by wave, each with what it waits for.

use std::fmt::Write;

use crate::config::{Config, OnDependencyRestart, ServiceKind};
use crate::graph::startup_waves;

pub fn render(config: &Config) -> String {
    let mut out = String::new();
    let n = config.services.len();
    let _ = writeln!(out, "{}: valid, {n} service{}", config.path.display(), if n == 1 { "" } else { "s" });
    let width = config.services.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for (i, wave) in startup_waves(&config.services).iter().enumerate() {
        let _ = writeln!(out, "wave {}:", i + 1);
        for s in wave {
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
    out
}
