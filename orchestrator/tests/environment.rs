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

#[test]
fn as_root_the_data_dir_is_handed_to_the_services_user() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: only root hands directories to another user");
        return;
    }
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let nobody = nix::unistd::User::from_name("nobody").expect("lookup").expect("nobody exists");
    let dir = tempfile::tempdir().expect("tempdir");
    // A disk as a platform mounts it: root's, with data from an earlier run.
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("old")).expect("mkdir");
    std::fs::write(data.join("old/file"), "kept").expect("write");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let set = Set::up_in(
        dir,
        r#"
[settings]
log_format = "json"
data_dir = "data"
user = "nobody"

[services.app]
command = ["sh", "-c", 'echo new > "$EPHITUP_DATA_DIR/new" && cat "$EPHITUP_DATA_DIR/old/file" >> "$EPHITUP_DATA_DIR/new" && echo "uid $(id -u) wrote"; exec sleep 1000']
"#,
        &[],
    );
    let line = set.wait_line("app", "wrote");
    assert_eq!(message(&line), format!("uid {} wrote", nobody.uid));
    for path in [data.clone(), data.join("old"), data.join("old/file"), data.join("new")] {
        let meta = std::fs::metadata(&path).expect("stat");
        assert_eq!((meta.uid(), meta.gid()), (nobody.uid.as_raw(), nobody.gid.as_raw()), "{}", path.display());
    }
    assert_eq!(std::fs::read_to_string(data.join("new")).expect("read"), "new\nkept");
}
