//! Dependency conditions gate startup: `started`, `healthy` (with each probe kind) and
//! `completed`; a failed one-shot blocks its dependents.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use support::*;

/// `app` depends on `dep` being healthy through `probe`; nothing lets `dep` pass its probe
/// until `open` runs. Checks that `app` waits, then starts once `dep` is healthy.
fn healthy_gate(dep_command: &str, probe: &str, probe_fails_visibly: bool, open: impl FnOnce(&Set)) {
    let set = Set::up(&format!(
        r#"
[services.dep]
command = ["sh", "-c", '''{dep_command}''']
health = {probe}

[services.app]
command = ["sleep", "1000"]
depends_on = {{ dep = "healthy" }}
"#
    ));
    set.wait_event("app", "waiting for dep healthy");
    if probe_fails_visibly {
        set.wait_event("dep", "not ready yet");
    } else {
        set.wait_line("dep", "booting");
    }
    assert!(
        set.events("app").iter().all(|e| !message(e).contains(STARTED)),
        "app started before dep was healthy\n{}",
        set.transcript()
    );
    open(&set);
    let healthy = set.wait_event("dep", "healthy");
    set.wait_event("app", STARTED);
    let healthy_at = set.position(|v| *v == healthy).expect("healthy event");
    let started_at = set.position(|v| is_start(v, "app")).expect("started");
    assert!(healthy_at < started_at, "{}", set.transcript());
}

#[test]
fn http_probe_gates_dependents() {
    let port = free_port();
    healthy_gate(
        "exec sleep 1000",
        &format!(r#"{{ http = "http://127.0.0.1:{port}/ready", interval = "50ms", retries = 1 }}"#),
        true,
        |_| serve_http_ok(std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind probe port")),
    );
}

#[test]
fn tcp_probe_gates_dependents() {
    let port = free_port();
    let listener = std::sync::Mutex::new(None);
    healthy_gate(
        "exec sleep 1000",
        &format!(r#"{{ tcp = "127.0.0.1:{port}", interval = "50ms", retries = 1 }}"#),
        true,
        |_| *listener.lock().expect("lock") = Some(std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind")),
    );
}

#[test]
fn exec_probe_gates_dependents() {
    healthy_gate(
        "exec sleep 1000",
        r#"{ exec = ["test", "-f", "ready"], interval = "50ms", retries = 1 }"#,
        true,
        |set| touch(&set.path("ready")),
    );
}

#[test]
fn log_line_probe_gates_dependents() {
    healthy_gate(
        "echo booting; while [ ! -f go ]; do sleep 0.02; done; echo 'listening on :8000'; exec sleep 1000",
        r#"{ log = "listening on :\\d+" }"#,
        false,
        |set| touch(&set.path("go")),
    );
}

#[test]
fn started_condition_waits_for_the_dependency_to_spawn() {
    let set = Set::up(
        r#"
[services.gate]
command = ["sleep", "1000"]
health = { exec = ["test", "-f", "go"], interval = "50ms", retries = 1 }

[services.first]
command = ["sleep", "1000"]
depends_on = { gate = "healthy" }

[services.second]
command = ["sleep", "1000"]
depends_on = ["first"]
"#,
    );
    set.wait_event("second", "waiting for first started");
    set.wait_event("gate", "not ready yet");
    assert!(set.events("first").iter().all(|e| !message(e).contains(STARTED)));
    assert!(set.events("second").iter().all(|e| !message(e).contains(STARTED)));
    touch(&set.path("go"));
    set.wait_event("second", STARTED);
    let first = set.position(|v| is_start(v, "first")).expect("first started");
    let second = set.position(|v| is_start(v, "second")).expect("second started");
    assert!(first < second, "{}", set.transcript());
}

#[test]
fn completed_condition_waits_for_the_oneshot_to_exit_zero() {
    let set = Set::up(
        r#"
[services.migrate]
kind = "oneshot"
command = ["sh", "-c", '''while [ ! -f go ]; do sleep 0.02; done; echo migrated''']

[services.api]
command = ["sleep", "1000"]
depends_on = { migrate = "completed" }
"#,
    );
    set.wait_event("api", "waiting for migrate completed");
    set.wait_event("migrate", STARTED);
    assert!(set.events("api").iter().all(|e| !message(e).contains(STARTED)));
    touch(&set.path("go"));
    set.wait_line("migrate", "migrated");
    set.wait_state("migrate", "completed");
    set.wait_event("api", STARTED);
}

#[test]
fn failed_oneshot_blocks_its_dependents() {
    let mut set = Set::up(
        r#"
[services.migrate]
kind = "oneshot"
command = ["sh", "-c", "echo 'bad statement'; exit 3"]

[services.api]
command = ["sleep", "1000"]
depends_on = { migrate = "completed" }

[services.proxy]
command = ["sleep", "1000"]
depends_on = { api = "started" }
"#,
    );
    set.wait_state("migrate", "failed");
    let blocked = set.wait_state("api", "blocked");
    assert!(message(&blocked).contains("dependency `migrate` is failed (exit code 3)"), "{blocked}");
    set.wait_state("proxy", "blocked");
    assert_eq!(set.wait_exit(), Some(1), "a set that ended in failure exits non-zero");
    assert!(set.events("api").iter().all(|e| !message(e).contains(STARTED)), "{}", set.transcript());
}
