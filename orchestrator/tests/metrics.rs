//! `/metrics` on the HTTP listener (and the socket): Prometheus text per service and
//! instance, whose values follow what happens (a restart counted, memory of a live group,
//! probe failures), and the memory and CPU columns of `ephitup status`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use support::*;

/// The value of `metric{service="service",instance="0"}` in a scrape.
fn value(text: &str, metric: &str, service: &str) -> Option<f64> {
    let prefix = format!("{metric}{{service=\"{service}\",instance=\"0\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().parse().unwrap())
}

#[test]
fn metrics_follow_restarts_memory_and_probes() {
    let port = free_port();
    let set = Set::up(&format!(
        r#"[settings]
log_format = "json"
http = "127.0.0.1:{port}"
[services.app]
command = ["sleep", "1000"]
backoff = {{ initial = "10ms" }}
[services.flaky]
command = ["sleep", "1000"]
health = {{ exec = ["false"], interval = "20ms" }}
"#
    ));
    let first = wait_started(&set, "app");
    let scrape = || {
        let (code, text) = http_get_body(port, "/metrics");
        assert_eq!(code, 200);
        text
    };
    let text = scrape();
    assert!(text.contains("# TYPE ephitup_service_restarts counter"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(value(&text, "ephitup_service_up", "app"), Some(1.0), "{text}");
    assert_eq!(value(&text, "ephitup_service_ready", "app"), Some(1.0));
    assert_eq!(value(&text, "ephitup_service_restarts_total", "app"), Some(0.0));
    assert!(value(&text, "ephitup_service_memory_bytes", "app").unwrap() > 0.0, "{text}");
    assert!(value(&text, "ephitup_service_cpu_seconds_total", "app").is_some());
    assert_eq!(value(&text, "ephitup_service_last_exit_code", "app"), None, "no exit yet");
    assert_eq!(value(&text, "ephitup_service_ready", "flaky"), Some(0.0));

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first), nix::sys::signal::Signal::SIGKILL).unwrap();
    set.wait_for("a restart", |v| is_start(v, "app") && started_pid(v) != first);
    eventually("the restart in the metrics", || {
        let text = scrape();
        value(&text, "ephitup_service_restarts_total", "app") == Some(1.0)
            && value(&text, "ephitup_service_last_exit_code", "app") == Some(137.0)
            && value(&text, "ephitup_service_up", "app") == Some(1.0)
    });
    eventually("probe failures counted", || {
        value(&scrape(), "ephitup_service_probe_failures_total", "flaky").is_some_and(|n| n >= 3.0)
    });

    // The status table has the memory and CPU of each instance.
    let (code, table, _) = set.ctl("status", &[]);
    assert_eq!(code, Some(0));
    let header = table.lines().next().unwrap();
    assert!(header.contains("MEM") && header.contains("CPU"), "{table}");
    let status = set.status();
    assert!(instance(&status, "app")["memory_bytes"].as_u64().unwrap() > 0, "{status}");
    assert!(instance(&status, "flaky")["probe_failures"].as_u64().unwrap() >= 3);
}

/// `ephitup`'s own resident memory (VmRSS, KiB).
fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Once quiet after start-up, and again after each busy moment (here a scrape), `ephitup`
/// gives back the pages idling does not need (`process::trim`), and goes on working.
#[test]
fn pages_are_given_back_once_quiet_after_a_scrape() {
    let port = free_port();
    let set = Set::up_in(
        tempfile::tempdir().unwrap(),
        &format!(
            r#"[settings]
log_format = "json"
http = "127.0.0.1:{port}"
[services.app]
command = ["sleep", "1000"]
limits = {{ memory = "64MiB" }}
"#
        ),
        &[("EPHITUP_LOG", "debug"), ("EPHITUP_MEMORY_LIMITS", "sample")],
    );
    let trimmed = |v: &serde_json::Value| message(v).contains("gave back pages");
    set.wait_for("a trim once started", trimmed);
    let from = set.mark();
    let (code, text) = http_get_body(port, "/metrics");
    assert_eq!(code, 200, "{text}");
    let busy = rss_kib(set.pid());
    set.wait_after(from, "a trim after the scrape", trimmed);
    let idle = rss_kib(set.pid());
    assert!(idle < busy, "resident memory {idle} KiB once quiet, {busy} KiB after the scrape");
    // Code given back is read in again when needed: the set still answers and restarts.
    let first = wait_started(&set, "app");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first), nix::sys::signal::Signal::SIGKILL).unwrap();
    set.wait_for("a restart", |v| is_start(v, "app") && started_pid(v) != first);
    assert!(
        http_get_body(port, "/metrics").1.contains("ephitup_service_restarts_total{service=\"app\",instance=\"0\"} 1")
    );
}
