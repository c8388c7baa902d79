//! Stopping and the duties of PID 1: reverse dependency order within the budget, no zombie
//! from orphans, and nothing left alive when `ephitup` itself is SIGKILLed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::*;

const TRAPPED: &str = r#"trap 'echo $EPHITUP_SERVICE >> order; exit 0' TERM; echo up; while true; do sleep 0.05; done"#;

#[test]
fn sigterm_stops_dependents_first_and_exits_zero() {
    let mut set = Set::up(&format!(
        r#"
[services.db]
command = ["sh", "-c", '''{TRAPPED}''']

[services.api]
command = ["sh", "-c", '''{TRAPPED}''']
depends_on = ["db"]

[services.proxy]
command = ["sh", "-c", '''{TRAPPED}''']
depends_on = ["api"]
"#
    ));
    for s in ["db", "api", "proxy"] {
        set.wait_line(s, "up");
    }
    set.signal(Signal::SIGTERM);
    assert_eq!(set.wait_exit(), Some(0), "{}", set.transcript());
    let order = std::fs::read_to_string(set.path("order")).expect("order file");
    assert_eq!(order, "proxy\napi\ndb\n");
}

#[test]
fn shutdown_budget_bounds_a_service_that_ignores_its_stop_signal() {
    let mut set = Set::up(
        r#"
[settings]
log_format = "json"
shutdown_timeout = "1s"

[services.stubborn]
command = ["sh", "-c", '''trap '' TERM; echo up; while true; do sleep 0.05; done''']
stop_timeout = "1h"
"#,
    );
    let pid = wait_started(&set, "stubborn");
    set.wait_line("stubborn", "up");
    let t0 = Instant::now();
    set.signal(Signal::SIGTERM);
    assert_eq!(set.wait_exit(), Some(0));
    assert!(t0.elapsed() < Duration::from_secs(20), "shutdown took {:?} with a 1s budget", t0.elapsed());
    set.wait_event("stubborn", "SIGKILL");
    assert!(!alive(pid));
}

#[test]
fn second_signal_kills_everything_at_once() {
    let mut set = Set::up(
        r#"
[settings]
log_format = "json"
shutdown_timeout = "1h"

[services.stubborn]
command = ["sh", "-c", '''trap '' INT TERM; echo up; while true; do sleep 0.05; done''']
stop_timeout = "1h"
"#,
    );
    let pid = wait_started(&set, "stubborn");
    set.wait_line("stubborn", "up");
    set.signal(Signal::SIGTERM);
    set.wait_state("stubborn", "stopping");
    set.signal(Signal::SIGINT);
    set.wait_exit();
    assert!(!alive(pid));
}

#[test]
fn exited_orphan_grandchild_leaves_no_zombie() {
    let set = Set::up(
        r#"
[services.parent]
command = ["sh", "-c", '''sh -c 'sleep 0.3 & echo orphan $!'; exec sleep 1000''']
"#,
    );
    let line = set.wait_line("parent", "orphan");
    let orphan: i32 = message(&line).trim_start_matches("orphan ").trim().parse().expect("orphan pid");
    // Once its parent shell exits, the orphan is re-parented to ephitup (a subreaper) ...
    eventually("the orphan to exit", || !alive(orphan));
    // ... which must reap it: no zombie stays behind.
    eventually("the orphan to be reaped", || !zombie(orphan));
    let zombies: Vec<i32> = children_of(set.pid()).into_iter().filter(|p| zombie(*p)).collect();
    assert!(zombies.is_empty(), "zombie children of ephitup: {zombies:?}");
}

#[test]
fn sigkill_of_ephitup_leaves_no_child_alive() {
    let set = Set::up(
        r#"
[services.shell]
command = ["sh", "-c", '''sleep 1000 & echo grandchild $!; wait''']

[services.plain]
command = ["sleep", "1000"]
"#,
    );
    let mut pids = vec![wait_started(&set, "shell"), wait_started(&set, "plain")];
    let line = set.wait_line("shell", "grandchild");
    pids.push(message(&line).trim_start_matches("grandchild ").trim().parse().expect("pid"));
    assert!(pids.iter().all(|p| alive(*p)));
    set.signal(Signal::SIGKILL);
    for pid in pids {
        eventually(&format!("pid {pid} to die with ephitup"), || !alive(pid));
    }
}

#[test]
fn forwards_usr1_to_services() {
    let set = Set::up(
        r#"
[services.app]
command = ["sh", "-c", '''trap 'echo got usr1' USR1; echo up; while true; do sleep 0.05; done''']
"#,
    );
    set.wait_line("app", "up");
    set.signal(Signal::SIGUSR1);
    set.wait_line("app", "got usr1");
}

/// Pids whose parent is `pid`.
fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
        let ppid =
            stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)).and_then(|s| s.parse::<i32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}
