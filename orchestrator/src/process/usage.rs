//! What the process groups of services use, read from `/proc`: resident memory (RSS) and CPU
//! time, summed over every member of a group (a service's whole tree, since each service
//! leads a group of its own). One pass over `/proc` answers for every group at once, so a
//! scrape costs the same however many services there are.
//!
//! A memory limit that is sampled ([`held_by_group`]) counts less than RSS: only the pages the
//! kernel cannot give back without swap (anonymous and shared memory, `RssAnon + RssShmem` of
//! `/proc/PID/status`). File-backed pages (the program's own code, mapped files) are re-read
//! from disk when needed, and a kernel-enforced limit reclaims them before it kills anyone: a
//! program whose 120 MB binary is resident is not over a 100 MiB limit for it.
//!
//! `/proc/PID/stat` and the two `status` lines are parsed by hand: a few fields of two files
//! do not need a crate.

use std::collections::HashMap;
#[cfg(test)]
use std::os::unix::process::CommandExt;

/// Memory and CPU of one process group.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Resident set size of every member, in bytes.
    pub rss_bytes: u64,
    /// User and system time of every member (and of the children they reaped), in seconds.
    pub cpu_seconds: f64,
}

/// Usage of every process group that has a member now, by group id.
pub fn by_group() -> HashMap<i32, Usage> {
    let page = page_size();
    let tick = clock_ticks();
    let mut groups: HashMap<i32, Usage> = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return groups };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { continue };
        // A process may end between the listing and the read: then it uses nothing.
        let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else { continue };
        if let Some((pgrp, usage)) = parse_stat(&stat, page, tick) {
            let group = groups.entry(pgrp).or_default();
            group.rss_bytes += usage.rss_bytes;
            group.cpu_seconds += usage.cpu_seconds;
        }
    }
    groups
}

/// The usage of the groups led by `leaders`, reading only their process trees (each
/// leader's descendants through `/proc/PID/task/TID/children`), not every process of the
/// machine; falls back to [`by_group`] where the kernel has no `children` files. A member
/// that left the leader's tree (an orphan, reparented to `ephitup`) is not counted.
pub fn of_groups(leaders: &[i32]) -> HashMap<i32, Usage> {
    if !std::path::Path::new("/proc/self/task").exists() {
        return by_group();
    }
    let page = page_size();
    let tick = clock_ticks();
    let mut groups = HashMap::new();
    for &leader in leaders {
        let mut total = Usage::default();
        walk_group(leader, page, tick, |_, usage| {
            total.rss_bytes += usage.rss_bytes;
            total.cpu_seconds += usage.cpu_seconds;
        });
        groups.insert(leader, total);
    }
    groups
}

/// The memory held by the group led by `pgid` that the kernel cannot reclaim: anonymous and
/// shared pages of each member (see the module docs), in bytes. A member whose `status` has no
/// such lines (a kernel before 4.5) counts its whole RSS.
pub fn held_by_group(pgid: i32) -> u64 {
    let mut held = 0;
    walk_group(pgid, page_size(), clock_ticks(), |pid, usage| {
        held += std::fs::read(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| held_in_status(&status))
            .unwrap_or(usage.rss_bytes);
    });
    held
}

/// Calls `member` with the pid and usage of each process of `leader`'s tree that is in its
/// group.
fn walk_group(leader: i32, page: u64, tick: f64, mut member: impl FnMut(i32, Usage)) {
    let mut stack = vec![leader];
    let mut seen = 0usize;
    while let Some(pid) = stack.pop() {
        seen += 1;
        if seen > MAX_TREE {
            break;
        }
        let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else { continue };
        let Some((pgrp, usage)) = parse_stat(&stat, page, tick) else { continue };
        if pgrp == leader {
            member(pid, usage);
        }
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else { continue };
            stack.extend(children.split_ascii_whitespace().filter_map(|c| c.parse::<i32>().ok()));
        }
    }
}

/// Processes walked in one group's tree at most (a fork bomb does not stall a scrape).
const MAX_TREE: usize = 100_000;

/// The group id and usage in one `/proc/PID/stat` line. Fields after the command (which is
/// in parentheses and may hold spaces or parentheses, hence the last `)`): state (3), ppid,
/// pgrp (5), ..., utime (14), stime, cutime, cstime (17), ..., rss (24, in pages).
fn parse_stat(stat: &[u8], page: u64, tick: f64) -> Option<(i32, Usage)> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 2..)?).ok()?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // Index 0 is field 3 (state).
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<i64>().ok());
    let pgrp = i32::try_from(field(5)?).ok()?;
    let ticks: i64 = (14..=17).filter_map(field).map(|t| t.max(0)).sum();
    let rss_pages = u64::try_from(field(24)?.max(0)).ok()?;
    Some((pgrp, Usage { rss_bytes: rss_pages * page, cpu_seconds: ticks as f64 / tick }))
}

/// `RssAnon + RssShmem` of a `/proc/PID/status`, in bytes; `None` without an `RssAnon` line.
fn held_in_status(status: &[u8]) -> Option<u64> {
    let status = std::str::from_utf8(status).ok()?;
    let kib = |key: &str| {
        status.lines().find_map(|line| {
            let value = line.strip_prefix(key)?.strip_prefix(':')?.trim().strip_suffix("kB")?;
            value.trim().parse::<u64>().ok()
        })
    };
    Some((kib("RssAnon")? + kib("RssShmem").unwrap_or(0)) * 1024)
}

fn page_size() -> u64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE) {
        Ok(Some(n)) if n > 0 => n as u64,
        _ => 4096,
    }
}

fn clock_ticks() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(n)) if n > 0 => n as f64,
        _ => 100.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_an_awkward_command() {
        let line =
            b"42 (a) b (c) S 1 40 40 0 -1 4194560 100 0 0 0 150 50 10 40 20 0 1 0 123 4096000 300 18446744073709551615";
        let (pgrp, usage) = parse_stat(line, 4096, 100.0).unwrap();
        assert_eq!(pgrp, 40);
        assert_eq!(usage.rss_bytes, 300 * 4096);
        assert!((usage.cpu_seconds - 2.5).abs() < 1e-9);
        assert!(parse_stat(b"garbage", 4096, 100.0).is_none());
    }

    #[test]
    fn held_memory_is_anonymous_and_shared_pages() {
        let status =
            b"Name:\tdb\nVmRSS:\t  130000 kB\nRssAnon:\t    9000 kB\nRssFile:\t  120000 kB\nRssShmem:\t    1000 kB\n";
        assert_eq!(held_in_status(status), Some(10_000 * 1024));
        assert_eq!(held_in_status(b"Name:\told\nVmRSS:\t 100 kB\n"), None);
        // This kernel has the lines, and this process holds some anonymous memory.
        let own = std::fs::read("/proc/self/status").unwrap();
        assert!(held_in_status(&own).unwrap() > 0);
    }

    #[test]
    fn a_group_is_counted_through_its_tree() {
        // A child in a group of its own, with a grandchild in the same group.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 1000 & exec sleep 1000"])
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id() as i32;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let members = || by_group().get(&pgid).copied().unwrap_or_default();
        while members().rss_bytes == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // The tree walk finds the leader and the grandchild (more than the leader alone), once
        // the shell has forked it.
        let measure = || {
            let leader = std::fs::read(format!("/proc/{pgid}/stat")).unwrap();
            let (_, alone) = parse_stat(&leader, page_size(), clock_ticks()).unwrap();
            (of_groups(&[pgid])[&pgid], alone)
        };
        let (mut walked, mut alone) = measure();
        while walked.rss_bytes <= alone.rss_bytes && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            (walked, alone) = measure();
        }
        assert!(walked.rss_bytes > alone.rss_bytes, "{walked:?} vs {alone:?}");
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
    }
}
