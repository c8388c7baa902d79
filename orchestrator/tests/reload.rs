#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Live reload: an edit of ephitup.toml (saved in place or by rename, as editors do), SIGHUP
//! and `ephitup reload` apply the difference; untouched services keep their process; an
//! invalid edit changes nothing; dependents follow `on_dependency_restart`.

mod support;

use nix::sys::signal::Signal;
use support::*;

fn is_reload(v: &serde_json::Value) -> bool {
    v["level"].is_string() && message(v).starts_with("reload: ")
}

#[test]
fn add_remove_change_keep_untouched() {
    let set = Set::up(
        r#"
[services.keep]
command = "sleep 1001"
[services.change]
command = "sleep 1002"
[services.gone]
command = "sleep 1003"
"#,
    );
    let keep = wait_started(&set, "keep");
    let change = wait_started(&set, "change");
    let gone = wait_started(&set, "gone");
    let mark = set.mark();
    set.save(
        r#"
[services.keep]
command = "sleep 1001"
[services.change]
command = "sleep 1004"
[services.new]
command = ["sh", "-c", "echo new is here; exec sleep 1005"]
depends_on = { keep = "started" }
"#,
    );
    let event = set.wait_after(mark, "the reload", is_reload);
    assert_eq!(message(&event), "reload: added new; removed gone; changed change");
    set.wait_after(mark, "new started", |v| is_start(v, "new"));
    let changed = started_pid(&set.wait_after(mark, "change restarted", |v| is_start(v, "change")));
    set.wait_line("new", "new is here");
    assert_ne!(changed, change);
    eventually("old processes gone", || !alive(change) && !alive(gone));
    assert!(alive(keep));
    assert_eq!(set.status_pid("keep"), Some(keep as i64));
    let names: Vec<String> =
        set.status()["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["keep", "change", "new"]);
    // The keep service saw no event after the reload.
    assert!(set.records()[mark..].iter().all(|v| !is_event(v, "keep")));
}

#[test]
fn invalid_edit_changes_nothing_and_is_located() {
    let set = Set::up("[services.a]\ncommand = \"sleep 1000\"\n");
    let a = wait_started(&set, "a");
    let mark = set.mark();
    set.write_in_place(
        "[services.a]\ncommand = \"sleep 1000\"\nrestart = \"sometimes\"\n[services.b]\ncommand = \"sleep 1\"\n",
    );
    let error = set.wait_after(mark, "the refused reload", |v| v["level"] == "ERROR");
    let text = message(&error);
    assert!(text.contains("nothing changed"), "{text}");
    assert!(text.contains("ephitup.toml:6:11"), "{text}");
    assert!(text.contains("services.a.restart"), "{text}");
    assert!(alive(a));
    assert_eq!(set.status_pid("a"), Some(a as i64));
    assert_eq!(set.status()["services"].as_array().unwrap().len(), 1);

    // The verb reports the same, with its location, and fails.
    let (code, _, err) = set.ctl("reload", &["--socket", set.path("data/ephitup.sock").to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("ephitup.toml:6:11"), "{err}");
}

#[test]
fn burst_of_saves_ends_on_the_last_one() {
    let set = Set::up("[services.a]\ncommand = \"sleep 1000\"\n");
    let a = wait_started(&set, "a");
    let mark = set.mark();
    for version in 1..=8 {
        set.write_in_place(&format!(
            "[services.a]\ncommand = \"sleep 1000\"\n[services.b]\ncommand = [\"sh\", \"-c\", \"echo version {version}; exec sleep 1000\"]\n"
        ));
    }
    set.wait_line("b", "version 8");
    // Debounced: far fewer reloads than saves, and b runs the last version only once settled.
    eventually("status shows b running", || set.status_pid("b").is_some());
    let reloads = set.records()[mark..].iter().filter(|v| is_reload(v)).count();
    assert!((1..8).contains(&reloads), "{reloads} reloads for 8 saves");
    assert_eq!(set.status_pid("a"), Some(a as i64));
}

#[test]
fn dependency_change_restarts_the_dependent_only() {
    let set = Set::up(
        r#"
[services.one]
command = "sleep 1001"
[services.two]
command = "sleep 1002"
[services.app]
command = "sleep 1003"
depends_on = { one = "started" }
"#,
    );
    let one = wait_started(&set, "one");
    let two = wait_started(&set, "two");
    let app = wait_started(&set, "app");
    let mark = set.mark();
    set.save(
        r#"
[services.one]
command = "sleep 1001"
[services.two]
command = "sleep 1002"
[services.app]
command = "sleep 1003"
depends_on = { two = "started" }
"#,
    );
    assert_eq!(message(&set.wait_after(mark, "the reload", is_reload)), "reload: changed app");
    let again = started_pid(&set.wait_after(mark, "app restarted", |v| is_start(v, "app")));
    assert_ne!(again, app);
    assert!(alive(one) && alive(two));
}

#[test]
fn on_dependency_restart_policies() {
    let set = Set::up(
        r#"
[services.db]
command = ["sh", "-c", "echo db up; exec sleep 1000"]
health = { log = "db up" }
[services.follows]
command = "sleep 1001"
depends_on = { db = "healthy" }
on_dependency_restart = "restart"
[services.waits]
command = "sleep 1002"
depends_on = { db = "healthy" }
on_dependency_restart = "wait"
[services.ignores]
command = "sleep 1003"
depends_on = { db = "healthy" }
"#,
    );
    let db = wait_started(&set, "db");
    let follows = wait_started(&set, "follows");
    let waits = wait_started(&set, "waits");
    let ignores = wait_started(&set, "ignores");
    set.wait_control();
    let mark = set.mark();
    let (code, _, err) = set.ctl("restart", &["db"]);
    assert_eq!(code, Some(0), "{err}");
    let db_again = set.wait_after(mark, "db back", |v| is_start(v, "db"));
    let db_back = set.position(|v| v == &db_again).unwrap();
    let f = set.wait_after(mark, "follows restarted", |v| is_start(v, "follows"));
    let w = set.wait_after(mark, "waits started again", |v| is_start(v, "waits"));
    assert_ne!(started_pid(&f), follows);
    assert_ne!(started_pid(&w), waits);
    assert_ne!(started_pid(&db_again), db);
    // `wait` was stopped before db went down and came back after it.
    let waits_stopped = set.position(|v| is_event(v, "waits") && v["state"] == "stopped").unwrap();
    let db_stopped = set.position(|v| is_event(v, "db") && v["state"] == "stopped").unwrap();
    assert!(waits_stopped < db_stopped);
    assert!(set.position(|v| v == &w).unwrap() > db_back);
    assert!(alive(ignores));
    assert_eq!(set.status_pid("ignores"), Some(ignores as i64));
}

#[test]
fn sighup_and_reload_verb_without_file_watch() {
    let set = Set::up(
        r#"[settings]
log_format = "json"
reload = false
[services.a]
command = "sleep 1000"
"#,
    );
    let a = wait_started(&set, "a");
    set.wait_control();
    let next = |extra: &str| {
        format!("[settings]\nlog_format = \"json\"\nreload = false\n[services.a]\ncommand = \"sleep 1000\"\n{extra}")
    };
    set.write_in_place(&next("[services.b]\ncommand = \"sleep 1001\"\n"));
    let mark = set.mark();
    set.signal(Signal::SIGHUP);
    assert_eq!(message(&set.wait_after(mark, "reload on SIGHUP", is_reload)), "reload: added b");
    wait_started(&set, "b");

    set.write_in_place(&next(""));
    let (code, out, err) = set.ctl("reload", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "removed b");
    // SIGHUP never reached the service.
    assert!(alive(a));
    assert_eq!(set.status_pid("a"), Some(a as i64));
}

#[test]
fn dev_watch_restarts_on_change() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let set = Set::up_in(
        dir,
        "[services.dev]\ncommand = \"sleep 1000\"\nwatch = [\"src\"]\n[services.other]\ncommand = \"sleep 1001\"\n",
        &[],
    );
    let dev = wait_started(&set, "dev");
    let other = wait_started(&set, "other");
    set.wait_control();
    let mark = set.mark();
    std::fs::write(set.path("src/main.rs"), "fn main() {}\n").unwrap();
    let again = started_pid(&set.wait_after(mark, "dev restarted", |v| is_start(v, "dev")));
    assert_ne!(again, dev);
    assert_eq!(set.status_pid("other"), Some(other as i64));
}

#[test]
fn on_dependency_restart_after_a_crash() {
    let set = Set::up(
        r#"
[services.db]
command = ["sh", "-c", "echo db up; exec sleep 1000"]
health = { log = "db up" }
[services.follows]
command = "sleep 1001"
depends_on = { db = "healthy" }
on_dependency_restart = "restart"
[services.waits]
command = "sleep 1002"
depends_on = { db = "healthy" }
on_dependency_restart = "wait"
[services.ignores]
command = "sleep 1003"
depends_on = { db = "healthy" }
"#,
    );
    let db = wait_started(&set, "db");
    let follows = wait_started(&set, "follows");
    let waits = wait_started(&set, "waits");
    let ignores = wait_started(&set, "ignores");
    let mark = set.mark();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(db), Signal::SIGKILL).unwrap();
    set.wait_after(mark, "db back", |v| is_start(v, "db"));
    let f = set.wait_after(mark, "follows restarted", |v| is_start(v, "follows"));
    let w = set.wait_after(mark, "waits started again", |v| is_start(v, "waits"));
    assert_ne!(started_pid(&f), follows);
    assert_ne!(started_pid(&w), waits);
    set.wait_after(mark, "waits was stopped", |v| is_event(v, "waits") && v["state"] == "stopped");
    assert!(!alive(follows) && !alive(waits));
    assert_eq!(set.status_pid("ignores"), Some(ignores as i64));
}
