//! Crash forensics: the last exit of each instance (code or signal, time, why ephitup ended
//! it) with its last 20 lines of output, in `status --json` and on the status page.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use support::*;

#[test]
fn a_crash_is_kept_with_its_last_twenty_lines() {
    let port = free_port();
    let set = Set::up(&format!(
        r#"[settings]
log_format = "json"
http = "127.0.0.1:{port}"
[services.crash]
command = ["sh", "-c", "for i in $(seq 1 30); do echo line $i; done; echo to stderr >&2; exit 3"]
restart = "never"
[services.idle]
command = ["sleep", "1000"]
"#
    ));
    set.wait_state("crash", "failed");
    let status = set.status();
    let exit = &instance(&status, "crash")["exit"];
    assert_eq!(exit["code"], 3, "{status}");
    assert_eq!(exit["status"], "exit code 3");
    assert!(exit["signal"].is_null());
    assert!(exit["at_ms"].as_u64().unwrap() > 0);
    let output: Vec<&str> = exit["output"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(output.len(), 20, "{output:?}");
    assert_eq!(output[0], "line 12");
    assert_eq!(output[18], "line 30");
    assert_eq!(output[19], "to stderr");
    // A service that never exited has no exit.
    assert!(instance(&status, "idle")["exit"].is_null());

    // The public page shows the exit, not the output (logs stay on the socket).
    let (code, page) = http_get_body(port, "/");
    assert_eq!(code, 200);
    assert!(page.contains("Last exits") && page.contains("exit code 3"), "{page}");
    assert!(!page.contains("line 30"), "output on the public page: {page}");
    let (_, public) = http_get_body(port, "/status");
    let public: serde_json::Value = serde_json::from_str(&public).unwrap();
    assert_eq!(instance(&public, "crash")["exit"]["output"], serde_json::json!([]));
}

#[test]
fn a_signal_and_a_stop_are_told_apart() {
    let set = Set::up(
        r#"
[services.victim]
command = ["sh", "-c", "echo about to die; exec sleep 1000"]
backoff = { initial = "10ms" }
"#,
    );
    let pid = wait_started(&set, "victim");
    set.wait_line("victim", "about to die");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    set.wait_for("a restart", |v| is_start(v, "victim") && started_pid(v) != pid);
    let exit = instance(&set.status(), "victim")["exit"].clone();
    assert_eq!(exit["signal"], "SIGKILL", "{exit}");
    assert!(exit["code"].is_null() && exit["reason"].is_null());
    assert_eq!(exit["output"], serde_json::json!(["about to die"]));

    let (code, _, err) = set.ctl("stop", &["victim"]);
    assert_eq!(code, Some(0), "{err}");
    let exit = instance(&set.status(), "victim")["exit"].clone();
    assert_eq!(exit["reason"], "stopped by ephitup", "{exit}");
    assert_eq!(exit["signal"], "SIGTERM");
}
