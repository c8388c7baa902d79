//! What a service finds when it starts: its environment (global, file, own, interpolated),
//! its working directory, sibling binaries first on `PATH`, its replica number, its user.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use support::*;

#[test]
fn services_get_env_in_order_of_precedence_and_their_cwd() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("work")).expect("mkdir");
    std::fs::write(dir.path().join("app.env"), "FROM_FILE=file\nOVERRIDDEN=file\n").expect("env file");
    let set = Set::up_in(
        dir,
        r#"
[settings]
log_format = "json"

[env]
GLOBAL = "global"
OVERRIDDEN = "global"

[services.app]
command = ["sh", "-c", 'echo "$GLOBAL $FROM_FILE $OVERRIDDEN $OWN $EPHITUP_SERVICE $(pwd)"; exec sleep 1000']
cwd = "work"
env_file = "app.env"
env = { OVERRIDDEN = "own", OWN = "${TEST_OWN:-default}" }
"#,
        &[("TEST_OWN", "interpolated")],
    );
    let line = set.wait_line("app", "global");
    let cwd = std::fs::canonicalize(set.path("work")).expect("canonical");
    assert_eq!(message(&line), format!("global file own interpolated app {}", cwd.display()));
}

#[test]
fn children_find_sibling_binaries_first_on_path() {
    let set = Set::up(
        r#"
[services.which]
command = ["sh", "-c", "command -v ephitup; exec sleep 1000"]
"#,
    );
    let line = set.wait_line("which", "ephitup");
    assert_eq!(message(&line), ephitup());
}

#[test]
fn replicas_run_as_separate_instances() {
    let set = Set::up(
        r#"
[services.worker]
command = ["sh", "-c", 'echo "replica $EPHITUP_REPLICA"; exec sleep 1000']
replicas = 2
"#,
    );
    let a = started_pid(&set.wait_event("worker.0", STARTED));
    let b = started_pid(&set.wait_event("worker.1", STARTED));
    assert_ne!(a, b);
    set.wait_line("worker.0", "replica 0");
    set.wait_line("worker.1", "replica 1");
}

#[test]
fn a_service_runs_as_its_configured_user() {
    let set = Set::up(
        r#"
[services.app]
command = ["sh", "-c", 'echo "uid $(id -u) home $HOME"; exec sleep 1000']
user = "nobody"
"#,
    );
    if nix::unistd::geteuid().is_root() {
        let nobody = nix::unistd::User::from_name("nobody").expect("lookup").expect("nobody exists");
        let line = set.wait_line("app", "uid");
        assert_eq!(message(&line), format!("uid {} home {}", nobody.uid, nobody.dir.display()));
    } else {
        // Only root can switch users: the refusal must be clear, not a silent run as us.
        set.wait_event("app", "cannot start");
    }
}

#[test]
fn an_empty_set_exits_at_once() {
    let mut set = Set::up("");
    assert_eq!(set.wait_exit(), Some(0));
}
