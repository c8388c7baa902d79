//! What the process groups of services use, read from `/proc`: resident memory (RSS) and CPU
//! time, summed over every member of a group (a service's whole tree, since each service
//! leads a group of its own). One pass over `/proc` answers for every group at once, so a
//! scrape costs the same however many services there are.
//!
//! `/proc/PID/stat` is parsed by hand: three fields of one line do not need a crate.

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
                total.rss_bytes += usage.rss_bytes;
                total.cpu_seconds += usage.cpu_seconds;
            }
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
            for task in tasks.flatten() {
                let Ok(children) = std::fs::read_to_string(task.path().join("children")) else { continue };
                stack.extend(children.split_ascii_whitespace().filter_map(|c| c.parse::<i32>().ok()));
            }
        }
        groups.insert(leader, total);
    }
    groups
}

/// Processes walked in one group's tree at most (a fork bomb does not stall a scrape).
const MAX_TREE: usize = 100_000;

/// The usage of one group (its leader's process tree).
pub fn of_group(pgid: i32) -> Usage {
    of_groups(&[pgid]).get(&pgid).copied().unwrap_or_default()
}

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
            (of_group(pgid), alone)
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
