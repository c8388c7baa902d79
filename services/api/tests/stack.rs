//! The root `ephitup.toml` under the real `ephitup`: `db` becomes healthy, then `migrate`
//! completes, then `api` and `worker` are healthy, then `proxy`, and a SIGTERM stops the set
//! cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ephitup_testkit::{free_port, workspace_bin};

#[test]
fn ephitup_up_brings_db_healthy_then_migrate_completed_then_api_healthy() {
    let data = tempfile::tempdir().expect("tempdir");
    // At run time: the compile-time path goes stale when checkouts elsewhere share the build cache.
    let root = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("../../ephitup.toml");
    // Debug builds need the raised memory limits (scripts/lib/debug-limits.env).
    let limits = std::fs::read_to_string(root.with_file_name("scripts/lib/debug-limits.env")).unwrap();
    let limits: Vec<(&str, &str)> =
        limits.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('=')).collect();
    let mut child = Command::new(workspace_bin("ephitup"))
        .args(["up", "-f"])
        .arg(&root)
        .envs(limits)
        .env("DATA_PATH", data.path())
        .env("SURREAL_PORT", free_port().to_string())
        .env("API_PORT", free_port().to_string())
        .env("PORT", free_port().to_string())
        .env("EPHITUP_LOG_FORMAT", "json")
        .env("SURREAL_NAMESPACE", "stack")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ephitup");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let mut seen = Vec::new();
    // Services of one wave become ready in any order: an event seen while waiting for
    // another one counts.
    let mut wait_for = |what: &str, pred: &dyn Fn(&serde_json::Value) -> bool| loop {
        if let Some(i) = seen.iter().position(pred) {
            return i;
        }
        let v = rx.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("no {what}; saw:\n{seen:#?}"));
        let hit = pred(&v);
        seen.push(v);
        if hit {
            return seen.len() - 1;
        }
    };
    let event = |service: &'static str, state: &'static str| {
        move |v: &serde_json::Value| v["level"].is_string() && v["service"] == service && v["state"] == state
    };
    let healthy = wait_for("db healthy", &|v| {
        event("db", "running")(v) && v["message"].as_str().unwrap_or("").contains("healthy")
    });
    let completed = wait_for("migrate completed", &event("migrate", "completed"));
    let api = wait_for("api healthy", &|v| {
        event("api", "running")(v) && v["message"].as_str().unwrap_or("").contains("healthy")
    });
    let proxy = wait_for("proxy healthy", &|v| {
        event("proxy", "running")(v) && v["message"].as_str().unwrap_or("").contains("healthy")
    });
    let worker = wait_for("worker healthy", &|v| {
        event("worker", "running")(v) && v["message"].as_str().unwrap_or("").contains("healthy")
    });
    assert!(healthy < completed && completed < api && api < proxy && completed < worker);
    assert!(data.path().join("mydatabase.db").exists(), "the database lives under DATA_PATH");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM)
        .expect("term");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}
