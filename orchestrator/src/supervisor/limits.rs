//! Memory limits of services: how they are enforced in this run (decided once, at the first
//! service with a limit, and said in the log), and the watch that tells an instance it went
//! over. By the kernel when `ephitup`'s cgroup is writable ([`crate::process::cgroup`]);
//! otherwise, or when `EPHITUP_MEMORY_LIMITS=sample`, by sampling the RSS of the instance's
//! process group every [`SAMPLE_EVERY`].

use std::sync::OnceLock;
use std::time::Duration;

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

/// Resolves when the instance led by `pgid` goes over `limit`: the kernel killed one of its
/// processes (`cgroup`, compared with `oom_before`), or its sampled RSS is above the limit.
/// The answer names the limit.
pub async fn over(limit: u64, pgid: i32, cgroup: Option<&Cgroup>, oom_before: u64) -> String {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match cgroup {
            Some(group) => {
                if group.oom_kills() > oom_before {
                    return killed_message(limit);
                }
            }
            None => {
                let rss = usage::of_group(pgid).rss_bytes;
                if rss > limit {
                    return format!(
                        "memory limit {} exceeded ({} resident)",
                        size(limit),
                        bytesize::ByteSize::b(rss).display().iec()
                    );
                }
            }
        }
    }
}

pub fn killed_message(limit: u64) -> String {
    format!("memory limit {} reached: the kernel killed a process of the group", size(limit))
}
