//! Memory limits of services: how they are enforced in this run (decided once, at the first
//! service with a limit, and said in the log), and the watch that tells an instance it went
//! over. By the kernel when `ephitup`'s cgroup is writable ([`crate::process::cgroup`]);
//! otherwise, or when `EPHITUP_MEMORY_LIMITS=sample`, by sampling the memory the instance's
//! process group holds every [`SAMPLE_EVERY`]: its RSS without file-backed pages, which the
//! kernel would reclaim before killing ([`usage::held_by_group`]).
//!
//! One task looks at every limited instance on each tick (and sleeps without a timer when none
//! is limited): an idle set wakes once per tick, not once per service, and touches only the
//! sampling code, not every instance's supervision (`process::trim` keeps the idle working set
//! small).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use crate::process::cgroup::{Cgroup, Root};
use crate::process::usage;

/// How often a limited group's memory (or the kernel's OOM counter) is looked at.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// The environment variable that forces sampling (`sample`) even where cgroups work.
pub const MODE_VAR: &str = "EPHITUP_MEMORY_LIMITS";

#[derive(Debug)]
pub enum Enforcement {
    Kernel(Root),
    Sampling,
}

/// Decided once per run.
#[derive(Debug, Default)]
pub struct Limits {
    enforcement: OnceLock<Enforcement>,
    watched: Arc<Watched>,
    /// The watching task has been spawned.
    watching: AtomicBool,
}

/// The limited instances the watching task looks at.
#[derive(Debug, Default)]
struct Watched {
    list: Mutex<Vec<Watch>>,
    /// One was added (the task sleeps on it while the list is empty).
    added: Notify,
}

/// One process of a limited instance.
#[derive(Debug)]
struct Watch {
    limit: u64,
    pgid: i32,
    /// Its cgroup when the kernel enforces the limit, with its OOM kills before it started.
    cgroup: Option<(Cgroup, u64)>,
    /// Told why, once over (dropped by the instance when the process ends).
    over: oneshot::Sender<String>,
}

impl Limits {
    pub fn enforcement(&self) -> &Enforcement {
        self.enforcement.get_or_init(|| {
            if std::env::var(MODE_VAR).is_ok_and(|v| v == "sample") {
                tracing::info!("memory limits: sampled every {}ms ({MODE_VAR}=sample)", SAMPLE_EVERY.as_millis());
                return Enforcement::Sampling;
            }
            match Root::detect() {
                Ok(root) => {
                    tracing::info!(
                        "memory limits: enforced by the kernel (cgroup {:?} under {})",
                        root.version,
                        root.dir.display()
                    );
                    Enforcement::Kernel(root)
                }
                Err(why) => {
                    tracing::info!(
                        "memory limits: sampled every {}ms (no writable cgroup: {why})",
                        SAMPLE_EVERY.as_millis()
                    );
                    Enforcement::Sampling
                }
            }
        })
    }

    /// The cgroup of an instance with a memory limit, when the kernel enforces limits.
    pub fn cgroup_for(&self, name: &str, limit: u64) -> Option<Cgroup> {
        let Enforcement::Kernel(root) = self.enforcement() else { return None };
        match root.create(name, limit) {
            Ok(group) => Some(group),
            Err(e) => {
                tracing::warn!("{name}: {e}; its memory limit is sampled instead");
                None
            }
        }
    }
}

/// `256 MiB` for a limit as written in whole units, else `262.1 MiB`.
pub fn size(bytes: u64) -> String {
    for (unit, name) in [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
        if bytes >= unit && bytes % unit == 0 {
            return format!("{} {name}", bytes / unit);
        }
    }
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

impl Limits {
    /// Watches the instance led by `pgid` until it goes over `limit` (the answer names the
    /// limit) or the receiver is dropped: the kernel killed one of its processes (`cgroup`,
    /// compared with `oom_before`), or the memory it holds (sampled) is above the limit.
    pub fn watch(&self, limit: u64, pgid: i32, cgroup: Option<&Cgroup>, oom_before: u64) -> oneshot::Receiver<String> {
        let (over, answer) = oneshot::channel();
        let cgroup = cgroup.map(|g| (g.clone(), oom_before));
        self.watched.list.lock().unwrap_or_else(PoisonError::into_inner).push(Watch { limit, pgid, cgroup, over });
        if !self.watching.swap(true, Ordering::AcqRel) {
            tokio::spawn(watch_all(Arc::clone(&self.watched)));
        }
        self.watched.added.notify_one();
        answer
    }
}

/// Looks at every watched instance each [`SAMPLE_EVERY`]; while none is watched, waits for one.
async fn watch_all(watched: Arc<Watched>) {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let empty = watched.list.lock().unwrap_or_else(PoisonError::into_inner).is_empty();
        if empty {
            watched.added.notified().await;
            // The first look comes at once, as it would for an instance watched alone.
            tick.reset_immediately();
        }
        tick.tick().await;
        let mut list = watched.list.lock().unwrap_or_else(PoisonError::into_inner);
        let mut i = 0;
        while i < list.len() {
            if list[i].over.is_closed() {
                list.swap_remove(i);
                continue;
            }
            if let Some(reason) = over(&list[i]) {
                let _ = list.swap_remove(i).over.send(reason);
                continue;
            }
            i += 1;
        }
    }
}

/// Why `w` is over its limit now, if it is.
fn over(w: &Watch) -> Option<String> {
    match &w.cgroup {
        Some((group, oom_before)) => (group.oom_kills() > *oom_before).then(|| killed_message(w.limit)),
        None => {
            let held = usage::held_by_group(w.pgid);
            (held > w.limit).then(|| {
                format!(
                    "memory limit {} exceeded ({} resident, file-backed pages not counted)",
                    size(w.limit),
                    bytesize::ByteSize::b(held).display().iec()
                )
            })
        }
    }
}

pub fn killed_message(limit: u64) -> String {
    format!("memory limit {} reached: the kernel killed a process of the group", size(limit))
}
