//! Restart policy: liveness failures restart, delays grow and reset, too many restarts are
//! fatal, and a fatal critical service takes the whole set down with a non-zero exit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use support::*;

fn delays(set: &Set, service: &str) -> Vec<u64> {
    set.events(service).iter().filter(|e| e["state"] == "backoff").filter_map(|e| e["delay_ms"].as_u64()).collect()
}

#[test]
fn liveness_failure_restarts_the_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    touch(&dir.path().join("alive"));
    let set = Set::up_in(
        dir,
        r#"
[settings]
log_format = "json"

[services.app]
command = ["sleep", "1000"]
liveness = { exec = ["test", "-f", "alive"], interval = "50ms", retries = 2 }
backoff = { initial = "10ms" }
"#,
        &[],
    );
    let first = wait_started(&set, "app");
    std::fs::remove_file(set.path("alive")).expect("rm alive");
    set.wait_event("app", "liveness probe failed");
    touch(&set.path("alive"));
    let second = set.wait_for("a second start", |v| is_start(v, "app") && v["pid"].as_i64() != Some(first as i64));
    assert_ne!(started_pid(&second), first);
    eventually("the unhealthy process to be gone", || !alive(first));
}

#[test]
fn backoff_grows_to_its_cap_and_resets_after_a_good_run() {
    let set = Set::up(
        r#"
[services.crash]
command = ["sh", "-c", '''if [ -f long ]; then rm long; sleep 0.6; fi; exit 1''']
backoff = { initial = "40ms", max = "160ms", jitter = 0.0, reset_after = "400ms" }
max_restarts = 1000
"#,
    );
    eventually("five restarts", || delays(&set, "crash").len() >= 5);
    assert_eq!(delays(&set, "crash")[..5], [40, 80, 160, 160, 160], "{}", set.transcript());
    touch(&set.path("long"));
    eventually("the long run to happen", || !set.path("long").exists());
    let before = delays(&set, "crash").len();
    eventually("two restarts after the long run", || delays(&set, "crash").len() >= before + 2);
    // The restart that ended the long run may be the first or second one counted here,
    // depending on whether the file was taken before or after `before` was read.
    let after = &delays(&set, "crash")[before..];
    assert!(after.windows(2).any(|w| w == [40, 80]), "delay did not reset: {after:?}\n{}", set.transcript());
}

#[test]
fn too_many_restarts_within_the_window_make_a_service_fatal() {
    let mut set = Set::up(
        r#"
[services.crash]
command = ["sh", "-c", "exit 7"]
backoff = { initial = "10ms" }
max_restarts = 2
restart_window = "1m"
"#,
    );
    let fatal = set.wait_state("crash", "fatal");
    assert!(message(&fatal).contains("2 restarts within 1m"), "{fatal}");
    assert_eq!(delays(&set, "crash").len(), 2);
    let starts = set.events("crash").iter().filter(|e| message(e).contains(STARTED)).count();
    assert_eq!(starts, 3, "one start and two restarts");
    assert_eq!(set.wait_exit(), Some(1));
}

#[test]
fn fatal_critical_service_stops_everything_and_exits_non_zero() {
    let mut set = Set::up(
        r#"
[services.db]
command = ["sh", "-c", "exit 1"]
critical = true
backoff = { initial = "10ms" }
max_restarts = 1

[services.other]
command = ["sleep", "1000"]
"#,
    );
    let other = wait_started(&set, "other");
    set.wait_state("db", "fatal");
    assert_eq!(set.wait_exit(), Some(1));
    set.wait_state("other", "stopped");
    eventually("other to be gone", || !alive(other));
}

#[test]
fn restart_never_and_on_failure_are_respected() {
    let mut set = Set::up(
        r#"
[services.done]
command = ["sh", "-c", "exit 0"]
restart = "on-failure"

[services.broken]
command = ["sh", "-c", "exit 4"]
restart = "never"
"#,
    );
    set.wait_state("done", "completed");
    set.wait_state("broken", "failed");
    assert_eq!(set.wait_exit(), Some(1));
    assert!(delays(&set, "done").is_empty() && delays(&set, "broken").is_empty());
}
