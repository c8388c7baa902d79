//! Live reload: the file is read and validated again; an invalid file changes nothing (its
//! errors are reported with their location); a valid one is compared with the running set
//! and only the difference is applied. Removed and changed services stop (dependents
//! first), then added and changed ones start (each waits for its dependencies, as at
//! startup). Untouched services keep running, same process.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Coordinator, OnDependencyRestart};
use crate::config::{self, Config, ServiceSpec};

/// What a reload changes, by service name, each list in declaration order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// In both, declared differently: restarted.
    pub changed: Vec<String>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (what, names) in [("added", &self.added), ("removed", &self.removed), ("changed", &self.changed)] {
            if !names.is_empty() {
                parts.push(format!("{what} {}", names.join(", ")));
            }
        }
        if parts.is_empty() { "no service changed".to_string() } else { parts.join("; ") }
    }
}

/// Two declarations of a service are the same when every resolved field is (the resolved
/// model, so `${VAR}` values count as what they expand to).
fn same(a: &ServiceSpec, b: &ServiceSpec) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

pub fn diff(old: &Config, new: &Config) -> Diff {
    // By name through maps: linear however many services the files declare.
    let old_by_name: HashMap<&str, &ServiceSpec> = old.services.iter().map(|s| (s.name.as_str(), s)).collect();
    let new_names: HashSet<&str> = new.services.iter().map(|s| s.name.as_str()).collect();
    let mut d = Diff::default();
    for s in &new.services {
        match old_by_name.get(s.name.as_str()) {
            None => d.added.push(s.name.clone()),
            Some(o) if !same(o, s) => d.changed.push(s.name.clone()),
            Some(_) => {}
        }
    }
    d.removed = old.services.iter().filter(|s| !new_names.contains(s.name.as_str())).map(|s| s.name.clone()).collect();
    d
}

impl Coordinator {
    /// Reads the file again and applies the difference; the answer says what changed.
    pub(super) async fn reload(&mut self) -> Result<String, String> {
        let path = self.config.path.clone();
        let new = match config::load(&path) {
            Ok(c) => c,
            Err(e) => {
                let text = e.to_string();
                tracing::error!("reload: {} is not valid, nothing changed:\n{}", path.display(), text.trim_end());
                return Err(format!("{} is not valid, nothing changed:\n{text}", path.display()));
            }
        };
        if new.settings != self.config.settings {
            tracing::warn!("reload: [settings] changed; settings apply at the next start of ephitup");
        }
        let d = diff(&self.config, &new);
        if d.is_empty() {
            tracing::info!("reload: no service changed");
            return Ok(d.describe());
        }
        tracing::info!("reload: {}", d.describe());
        let touched: HashSet<&str> = d.added.iter().chain(&d.removed).chain(&d.changed).map(String::as_str).collect();
        let changed: HashSet<&str> = d.changed.iter().map(String::as_str).collect();

        // Untouched dependents that stop while a changed dependency restarts, by dependency
        // (one pass over the dependencies, not one per changed service).
        let mut waiting_on: HashMap<&str, Vec<String>> = HashMap::new();
        for s in &new.services {
            if s.on_dependency_restart != OnDependencyRestart::Wait
                || touched.contains(s.name.as_str())
                || self.is_final(&s.name)
            {
                continue;
            }
            for dep in s.depends_on.iter().filter(|dep| changed.contains(dep.service.as_str())) {
                waiting_on.entry(dep.service.as_str()).or_default().push(s.name.clone());
            }
        }
        let waiting: Vec<(String, Vec<String>)> =
            d.changed.iter().map(|c| (c.clone(), waiting_on.remove(c.as_str()).unwrap_or_default())).collect();
        let mut stopping: Vec<String> = d.removed.iter().chain(&d.changed).cloned().collect();
        stopping.extend(waiting.iter().flat_map(|(_, w)| w.iter().cloned()));
        let mut seen = HashSet::new();
        stopping.retain(|name| seen.insert(name.clone()));
        // Still the old configuration: removed services are in its graph.
        self.stop_services(&stopping).await;

        for name in &d.removed {
            self.services.remove(name);
            self.held.remove(name);
            self.seen_restarts.remove(name);
            self.shared.recent.forget(name);
            self.shared.counters.forget(name);
            self.shared.board.send_modify(|b| {
                b.remove(name);
            });
            self.shared.history.record(name, name, "removed", "removed from the configuration");
        }
        self.config = Arc::new(new);
        self.index = super::Index::of(&self.config);
        self.config_tx.send_replace(Arc::clone(&self.config));
        let mut failures = Vec::new();
        let added: HashSet<&str> = d.added.iter().map(String::as_str).collect();
        for (index, spec) in self.config.services.clone().iter().enumerate() {
            let is_added = added.contains(spec.name.as_str());
            if is_added || changed.contains(spec.name.as_str()) {
                let what = if is_added { "added by reload" } else { "changed by reload" };
                self.shared.history.record(&spec.name, &spec.name, "waiting", what);
                if let Err(e) = self.spawn_service(Arc::new(spec.clone()), index) {
                    tracing::error!(service = %spec.name, "reload: {e:#}");
                    failures.push(format!("{e:#}"));
                }
            }
        }
        let exclude: HashSet<String> = d.added.iter().chain(&d.changed).cloned().collect();
        for (changed, w) in &waiting {
            self.after_dependency_down(changed, w, &exclude);
        }
        self.dev_watch = crate::watch::watch_services(&self.config.services, self.calls.clone());
        if failures.is_empty() { Ok(d.describe()) } else { Err(format!("{}; {}", d.describe(), failures.join("; "))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        match config::parse(std::path::Path::new("/tmp/ephitup.toml"), text, &|_| None) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn diff_finds_added_removed_changed() {
        let old = parse(
            "[services.a]\ncommand = \"sleep 1\"\n[services.b]\ncommand = \"sleep 2\"\n[services.c]\ncommand = \"sleep 3\"\n",
        );
        let new = parse(
            "[services.a]\ncommand = \"sleep 1\"\n[services.b]\ncommand = \"sleep 9\"\n[services.d]\ncommand = \"sleep 4\"\n",
        );
        let d = diff(&old, &new);
        assert_eq!(d.added, ["d"]);
        assert_eq!(d.removed, ["c"]);
        assert_eq!(d.changed, ["b"]);
        assert!(diff(&old, &old).is_empty());
    }
}
