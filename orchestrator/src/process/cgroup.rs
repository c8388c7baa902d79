//! Memory limits enforced by the kernel: a child cgroup of `ephitup`'s own per limited
//! instance, with v2 `memory.max` or v1 `memory.limit_in_bytes`, which the child joins
//! between fork and exec (so nothing it starts escapes it). Used only when `ephitup`'s cgroup
//! is writable (root, or a delegated subtree); otherwise limits are enforced by sampling the
//! group's RSS ([`crate::supervisor`] decides, and says which at start).
//!
//! The kernel's OOM killer may kill any process of the group, not only its leader; the
//! group's `oom_kill` counter tells that it did, so the whole service can be stopped and
//! restarted by its policy.

use std::path::{Path, PathBuf};

/// Which cgroup interface holds the memory controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// `ephitup`'s own cgroup, where instances' cgroups are made.
#[derive(Debug, Clone)]
pub struct Root {
    pub version: Version,
    pub dir: PathBuf,
}

/// The cgroup of one instance (a clone names the same cgroup: the memory-limit watch reads
/// its counter; only the instance removes it).
#[derive(Debug, Clone)]
pub struct Cgroup {
    pub version: Version,
    pub dir: PathBuf,
}

impl Root {
    /// Finds `ephitup`'s cgroup with a memory controller and checks that a child can be made
    /// in it; `Err` says why not (then limits are sampled).
    pub fn detect() -> Result<Root, String> {
        let cgroups = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| format!("/proc/self/cgroup: {e}"))?;
        let mountinfo =
            std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
        let mut tried = Vec::new();
        for (version, mount, path) in candidates(&cgroups, &mountinfo) {
            let dir = mount.join(path.trim_start_matches('/'));
            let root = Root { version, dir };
            match root.prepare() {
                Ok(()) => return Ok(root),
                Err(e) => tried.push(e),
            }
        }
        if tried.is_empty() { Err("no cgroup with a memory controller".into()) } else { Err(tried.join("; ")) }
    }

    /// Makes sure children of this cgroup can have a memory limit.
    fn prepare(&self) -> Result<(), String> {
        if self.version == Version::V2 {
            let controllers = std::fs::read_to_string(self.dir.join("cgroup.controllers")).unwrap_or_default();
            if !controllers.split_whitespace().any(|c| c == "memory") {
                return Err(format!("{}: no memory controller", self.dir.display()));
            }
            // v2 lets a cgroup hand controllers to children only when it holds no process
            // itself: ephitup moves into a leaf of its own first if it must.
            if enable_memory(&self.dir).is_err() {
                let leaf = self.dir.join("ephitup.supervisor");
                create_dir(&leaf)?;
                std::fs::write(leaf.join("cgroup.procs"), "0")
                    .map_err(|e| format!("cannot move ephitup into {}: {e}", leaf.display()))?;
                enable_memory(&self.dir).map_err(|e| format!("{}: cannot enable memory: {e}", self.dir.display()))?;
            }
        }
        remove_stale(&self.dir);
        // A child made and removed again proves the directory is writable.
        let probe = self.dir.join(format!("ephitup-{}.probe", std::process::id()));
        create_dir(&probe)?;
        let _ = std::fs::remove_dir(&probe);
        Ok(())
    }

    /// Creates (or reuses) the cgroup `name` with `limit` bytes of memory.
    pub fn create(&self, name: &str, limit: u64) -> Result<Cgroup, String> {
        let dir = self.dir.join(format!("ephitup-{}.{name}", std::process::id()));
        create_dir(&dir)?;
        let group = Cgroup { version: self.version, dir };
        let write = |file: &str, value: String| {
            std::fs::write(group.dir.join(file), value)
                .map_err(|e| format!("cannot write {}: {e}", group.dir.join(file).display()))
        };
        match self.version {
            Version::V2 => {
                write("memory.max", limit.to_string())?;
                // No swapping past the limit: over it means over it (absent without swap).
                let _ = write("memory.swap.max", "0".into());
            }
            Version::V1 => {
                write("memory.limit_in_bytes", limit.to_string())?;
                let _ = write("memory.memsw.limit_in_bytes", limit.to_string());
            }
        }
        Ok(group)
    }
}

impl Cgroup {
    /// The file a child writes `0` to, to join this cgroup.
    pub fn procs(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// How many processes the kernel killed in this cgroup for being over its limit.
    pub fn oom_kills(&self) -> u64 {
        let file = match self.version {
            Version::V2 => "memory.events",
            Version::V1 => "memory.oom_control",
        };
        let text = std::fs::read_to_string(self.dir.join(file)).unwrap_or_default();
        text.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
    }

    /// Removes the cgroup once its processes are gone (a few tries: the last ones may take a
    /// moment to leave after the group was killed).
    pub async fn remove(&self) {
        for _ in 0..20 {
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => return,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        tracing::warn!("cannot remove cgroup {} (processes left in it?)", self.dir.display());
    }
}

/// Removes the empty cgroups an `ephitup` that was SIGKILLed left behind (named after its
/// pid, which no longer runs).
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("ephitup-")).and_then(|n| n.split('.').next()) else {
            continue;
        };
        let Ok(pid) = pid.parse::<i32>() else { continue };
        if pid != std::process::id() as i32 && !Path::new(&format!("/proc/{pid}")).exists() {
            // Fails, harmlessly, while processes are still in it.
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

fn create_dir(dir: &Path) -> Result<(), String> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create {}: {e}", dir.display())),
    }
}

fn enable_memory(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join("cgroup.subtree_control"), "+memory")
}

/// Where the memory controller may be, best first: (version, mount point, ephitup's path
/// below it). v2 first; v1's `memory` hierarchy next.
fn candidates(cgroups: &str, mountinfo: &str) -> Vec<(Version, PathBuf, String)> {
    let mut out = Vec::new();
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let version = if controllers.is_empty() {
            Version::V2
        } else if controllers.split(',').any(|c| c == "memory") {
            Version::V1
        } else {
            continue;
        };
        if let Some((mount, root)) = mount_of(mountinfo, version) {
            // A mount of a subtree (its root is not `/`) shows paths below that root.
            let below = path.strip_prefix(root.as_str()).unwrap_or(path);
            out.push((version, mount, below.to_string()));
        }
    }
    out.sort_by_key(|(v, _, _)| *v == Version::V1);
    out
}

/// The mount point and mount root of the cgroup filesystem of `version` (v1: the one with
/// the memory controller), from `/proc/self/mountinfo`.
fn mount_of(mountinfo: &str, version: Version) -> Option<(PathBuf, String)> {
    mountinfo.lines().find_map(|line| {
        // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
        let (left, right) = line.split_once(" - ")?;
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (root, mount) = (left.get(3)?, left.get(4)?);
        let fstype = right.first()?;
        let ok = match version {
            Version::V2 => *fstype == "cgroup2",
            Version::V1 => *fstype == "cgroup" && right.get(2)?.split(',').any(|o| o == "memory"),
        };
        ok.then(|| (PathBuf::from(mount), if *root == "/" { String::new() } else { root.to_string() }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_v1_memory_and_v2() {
        let mountinfo = "\
30 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
31 25 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 25 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
        let cgroups = "4:memory:/a/b\n1:cpu:/\n0::/c\n";
        let found = candidates(cgroups, mountinfo);
        assert_eq!(
            found,
            [
                (Version::V2, PathBuf::from("/sys/fs/cgroup/unified"), "/c".to_string()),
                (Version::V1, PathBuf::from("/sys/fs/cgroup/memory"), "/a/b".to_string()),
            ]
        );
        assert!(candidates("1:cpu:/\n", mountinfo).is_empty());
    }
}
