//! The binary refuses a broken configuration before starting anything, and `check` prints the
//! startup plan. (Each class of error is covered by the config module's unit tests.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::process::Command;

use support::*;

#[test]
fn broken_config_starts_nothing_and_names_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("ephitup.toml");
    std::fs::write(
        &config,
        "[services.marker]\ncommand = [\"touch\", \"started\"]\n\n[services.api]\ncommand = [\"sleep\", \"1\"]\ndepends_on = { db = \"healthy\" }\n",
    )
    .expect("write");
    let out = Command::new(ephitup()).args(["up", "-f"]).arg(&config).current_dir(dir.path()).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:6:14: `services.api.depends_on.db`: unknown service `db`", config.display())),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was started"), "{stderr}");
    assert!(!dir.path().join("started").exists(), "a service ran despite the broken config");
}

#[test]
fn check_prints_the_startup_waves() {
    let (code, stdout, stderr) = check(
        r#"
[services.proxy]
command = ["proxy"]
depends_on = { api = "healthy" }

[services.db]
command = ["db"]
health = { http = "http://127.0.0.1:8000/ready" }

[services.migrate]
kind = "oneshot"
command = ["api", "migrate"]
depends_on = { db = "healthy" }

[services.api]
command = ["api", "serve"]
depends_on = { migrate = "completed" }
health = { http = "http://127.0.0.1:5055/api/health" }

[services.worker]
command = ["worker"]
depends_on = { migrate = "completed" }
"#,
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (start, stop) = stdout.split_once("stop order").expect("a stop order");
    let waves: Vec<&str> = start.lines().filter(|l| l.starts_with("wave") || l.starts_with("  ")).collect();
    let names: Vec<String> = waves.iter().map(|l| l.split_whitespace().next().unwrap_or("").to_string()).collect();
    assert_eq!(names, ["wave", "db", "wave", "migrate", "wave", "api", "worker", "wave", "proxy"], "{stdout}");
    assert!(stdout.contains("after db healthy"), "{stdout}");
    // The mirror image: what nothing depends on first; db last, after the one-shot between
    // it and its clients.
    let steps: Vec<&str> = stop.lines().filter(|l| l.starts_with("step") || l.starts_with("  ")).collect();
    let names: Vec<&str> = steps.iter().map(|l| l.split_whitespace().next().unwrap_or("")).collect();
    assert_eq!(names, ["step", "proxy", "worker", "step", "api", "step", "migrate", "step", "db"], "{stdout}");
    assert!(stop.contains("SIGTERM then SIGKILL after 10s"), "{stdout}");
    assert!(stderr.is_empty(), "no warning within the budget: {stderr}");
}

#[test]
fn check_prints_schedules_and_memory_limits() {
    let (code, stdout, stderr) = check(
        r#"
[services.db]
command = ["db"]
limits = { memory = "512MiB" }

[services.backup]
kind = "oneshot"
command = ["backup"]
schedule = { cron = "0 3 * * *" }
depends_on = { db = "started" }

[services.app]
command = ["app"]
depends_on = { backup = "completed" }
"#,
    );
    assert_eq!(code, Some(0), "{stderr}");
    let line = |name: &str| stdout.lines().find(|l| l.starts_with(&format!("  {name} "))).unwrap().to_string();
    assert!(line("db").contains("memory limit 512.0 MiB"), "{stdout}");
    let backup = line("backup");
    assert!(backup.contains("scheduled cron 0 3 * * * (UTC), next run 20"), "{stdout}");
    assert!(backup.contains("T03:00:00Z"), "{stdout}");
    assert!(stdout.contains("scheduled oneshot: nothing to stop between runs"), "{stdout}");
    assert!(stderr.contains("warning: `app` waits for `backup` completed, a scheduled one-shot"), "{stderr}");
}

#[test]
fn check_warns_when_the_longest_chain_of_stop_timeouts_exceeds_the_shutdown_budget() {
    let file = |budget: &str| {
        format!(
            r#"
[settings]
shutdown_timeout = "{budget}"

[services.db]
command = ["db"]
stop_timeout = "20s"

[services.migrate]
kind = "oneshot"
command = ["migrate"]
depends_on = ["db"]

[services.api]
command = ["api"]
depends_on = ["migrate"]
stop_timeout = "10s"

[services.worker]
command = ["worker"]
depends_on = ["migrate"]
stop_timeout = "25s"
"#
        )
    };
    let (code, stdout, stderr) = check(&file("30s"));
    assert_eq!(code, Some(0), "a warning, not an error: {stderr}");
    assert!(stdout.contains("longest stop: worker 25s → db 20s = 45s"), "{stdout}");
    assert!(stdout.contains("worker   SIGTERM then SIGKILL after 25s"), "{stdout}");
    assert!(
        stderr.starts_with(
            "warning: the longest chain of stop timeouts, worker 25s → db 20s = 45s, exceeds shutdown_timeout (30s)"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = check(&file("45s"));
    assert_eq!(code, Some(0));
    assert!(stderr.is_empty(), "the chain fits in 45s: {stderr}");
}

#[test]
fn check_refuses_what_up_refuses() {
    let (code, _, stderr) = check("[services.a]\ncommand = [\"x\"]\nrestart = \"sometimes\"\n");
    assert_eq!(code, Some(2));
    assert!(stderr.contains(":3:11: `services.a.restart`: unknown value `sometimes`"), "{stderr}");
}
