//! File watching (notify, debounced): the configuration file, whose valid edits are applied
//! while running, and each service's `watch` paths, whose changes restart it (dev watch).
//!
//! The configuration is watched through its directory, not the file itself: editors that save
//! by writing a new file and renaming it over the old one replace the watched inode, and a
//! watch on the file would go silent after the first save.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use tokio::sync::mpsc;

use crate::config::ServiceSpec;
use crate::handle::{Call, Request};

/// Quiet time after the last change before it is acted on: one reload for a burst of saves.
pub const CONFIG_DEBOUNCE: Duration = Duration::from_millis(150);
/// The same for dev watch (builds write many files in a row).
pub const DEV_DEBOUNCE: Duration = Duration::from_millis(300);

/// A running watch; dropping it stops watching.
pub struct Watcher {
    _debouncer: Debouncer<RecommendedWatcher>,
}

/// Watches `config` and sends a reload for each (debounced) change of it.
pub fn watch_config(config: &Path, calls: mpsc::Sender<Call>) -> Option<Watcher> {
    let name = config.file_name().map(OsString::from)?;
    let dir = match config.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let handler = move |result: DebounceEventResult| match result {
        Ok(events) => {
            if events.iter().any(|e| e.path.file_name() == Some(name.as_os_str())) {
                let _ = calls.blocking_send(Call { request: Request::Reload, reply: None });
            }
        }
        Err(e) => tracing::warn!("watching the configuration: {e}"),
    };
    match start(&[(dir.clone(), RecursiveMode::NonRecursive)], CONFIG_DEBOUNCE, handler) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("cannot watch {} for edits ({e}); `ephitup reload` and SIGHUP still work", dir.display());
            None
        }
    }
}

/// Watches every service's `watch` paths; a change restarts that service.
pub fn watch_services(services: &[ServiceSpec], calls: mpsc::Sender<Call>) -> Option<Watcher> {
    let watched: Vec<(String, PathBuf)> =
        services.iter().flat_map(|s| s.watch.iter().map(|p| (s.name.clone(), p.clone()))).collect();
    if watched.is_empty() {
        return None;
    }
    let targets: Vec<(String, PathBuf)> =
        watched.iter().map(|(n, p)| (n.clone(), std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))).collect();
    let routes = targets.clone();
    let handler = move |result: DebounceEventResult| match result {
        Ok(events) => {
            let mut hit: Vec<&str> = routes
                .iter()
                .filter(|(_, root)| events.iter().any(|e| e.path.starts_with(root)))
                .map(|(n, _)| n.as_str())
                .collect();
            hit.dedup();
            for name in hit {
                tracing::info!(service = %name, "{name}: a watched file changed");
                let _ = calls.blocking_send(Call { request: Request::Restart(name.to_string()), reply: None });
            }
        }
        Err(e) => tracing::warn!("dev watch: {e}"),
    };
    let paths: Vec<(PathBuf, RecursiveMode)> =
        targets.iter().map(|(_, p)| (p.clone(), RecursiveMode::Recursive)).collect();
    match start(&paths, DEV_DEBOUNCE, handler) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("dev watch not running: {e}");
            None
        }
    }
}

fn start(
    paths: &[(PathBuf, RecursiveMode)],
    debounce: Duration,
    handler: impl FnMut(DebounceEventResult) + Send + 'static,
) -> anyhow::Result<Watcher> {
    let mut debouncer = new_debouncer(debounce, handler)?;
    let mut watching = 0;
    for (path, mode) in paths {
        // One missing path does not turn off the others.
        match debouncer.watcher().watch(path, *mode) {
            Ok(()) => watching += 1,
            Err(e) => tracing::warn!("cannot watch {}: {e}", path.display()),
        }
    }
    anyhow::ensure!(watching > 0, "nothing to watch");
    Ok(Watcher { _debouncer: debouncer })
}
