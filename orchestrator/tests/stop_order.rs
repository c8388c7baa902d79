//! The stop order holds through any chain: a service is asked to stop only once every service
//! depending on it, directly or through others (a completed one-shot among them, which has no
//! process), has exited. The services are shell scripts that write a timestamped line to a
//! shared file when they get SIGTERM and when they are done draining; the file proves the
//! order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::collections::HashMap;

use nix::sys::signal::Signal;
use support::*;

/// A service that drains for `$1` seconds after SIGTERM, noting when it got the signal and
/// when it was done (nanoseconds since the epoch, from GNU date).
const DRAINING: &str = r#"
drain=$1
note() { echo "$(date +%s%N) $EPHITUP_SERVICE $1" >> events; }
trap 'note term; sleep "$drain"; note exit; exit 0' TERM
echo up
while true; do sleep 0.05; done
"#;

/// db ← migrate (one-shot) ← api, worker (slow drains) ← proxy (depends on api), as the app's
/// own file declares them.
fn app(db_drain: &str, api_drain: &str) -> String {
    format!(
        r#"
[services.db]
command = ["sh", "drain.sh", "{db_drain}"]
health = {{ log = "up" }}

[services.migrate]
kind = "oneshot"
command = ["sh", "-c", "echo migrated"]
depends_on = {{ db = "healthy" }}

[services.api]
command = ["sh", "drain.sh", "{api_drain}"]
depends_on = {{ migrate = "completed" }}
health = {{ log = "up" }}

[services.worker]
command = ["sh", "drain.sh", "0.6"]
depends_on = {{ migrate = "completed" }}

[services.proxy]
command = ["sh", "drain.sh", "0.1"]
depends_on = {{ api = "healthy" }}
"#
    )
}

fn start(toml: &str) -> Set {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("drain.sh"), DRAINING).expect("write script");
    Set::up_in(dir, toml, &[])
}

/// `service event` → timestamp, from the events file; each pair at most once.
fn events(set: &Set) -> HashMap<String, u128> {
    let text = std::fs::read_to_string(set.path("events")).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(t), Some(service), Some(what)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("bad line {line:?}")
        };
        let previous = out.insert(format!("{service} {what}"), t.parse::<u128>().expect("timestamp"));
        assert!(previous.is_none(), "{service} {what} twice:\n{text}");
    }
    out
}

fn at(events: &HashMap<String, u128>, key: &str) -> u128 {
    *events.get(key).unwrap_or_else(|| panic!("no `{key}` in {events:?}"))
}

#[test]
fn shutdown_stops_the_database_only_after_every_client_behind_a_completed_oneshot() {
    let mut set = start(&app("0.1", "0.4"));
    for s in ["db", "api", "worker", "proxy"] {
        set.wait_line(s, "up");
    }
    set.wait_state("migrate", "completed");
    set.signal(Signal::SIGTERM);
    assert_eq!(set.wait_exit(), Some(0), "{}", set.transcript());

    let e = events(&set);
    // The proxy goes first; the API only once the proxy has gone.
    assert!(at(&e, "proxy exit") <= at(&e, "api term"), "{e:?}");
    // The database is asked only after both clients behind the one-shot have drained.
    for client in ["api", "worker"] {
        assert!(at(&e, &format!("{client} exit")) <= at(&e, "db term"), "db stopped before {client} ended: {e:?}");
    }
    assert!(e.contains_key("db exit"), "{e:?}");
    // The worker has no dependent: it is asked at once, with the proxy.
    assert!(at(&e, "worker term") < at(&e, "api term"), "{e:?}");
}

#[test]
fn a_reload_changing_a_database_and_its_client_stops_the_client_first() {
    let set = start(&app("0.1", "0.4"));
    for s in ["db", "api", "worker", "proxy"] {
        set.wait_line(s, "up");
    }
    set.wait_state("migrate", "completed");
    let mark = set.mark();
    // db and api change; migrate between them does not (it stays completed).
    set.save(&app("0.2", "0.5"));
    set.wait_after(mark, "the reload", |v| message(v).contains("reload: changed db, api"));
    set.wait_after(mark, "db started again", |v| is_start(v, "db"));
    let e = events(&set);
    assert!(at(&e, "api exit") <= at(&e, "db term"), "db stopped before the API ended: {e:?}");
    // Untouched services were not stopped.
    for untouched in ["worker", "proxy"] {
        assert!(!e.contains_key(&format!("{untouched} term")), "{untouched} was stopped: {e:?}");
    }
}

#[test]
fn a_restart_stops_its_wait_dependents_in_order_through_a_oneshot_between_them() {
    // x ← a ← seed (one-shot) ← b, and b also on x: both `wait` for x. Restarting x stops b,
    // then a (b depends on it through the completed one-shot), then x.
    let set = start(
        r#"
[services.x]
command = ["sh", "drain.sh", "0.1"]

[services.a]
command = ["sh", "drain.sh", "0.1"]
depends_on = ["x"]
on_dependency_restart = "wait"

[services.seed]
kind = "oneshot"
command = ["sh", "-c", "echo seeded"]
depends_on = ["a"]

[services.b]
command = ["sh", "drain.sh", "0.5"]
depends_on = { x = "started", seed = "completed" }
on_dependency_restart = "wait"
"#,
    );
    for s in ["x", "a", "b"] {
        set.wait_line(s, "up");
    }
    set.wait_state("seed", "completed");
    set.wait_control();
    let (code, out, err) = set.ctl("restart", &["x"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let e = events(&set);
    assert!(at(&e, "b exit") <= at(&e, "a term"), "a stopped before b ended: {e:?}");
    assert!(at(&e, "a exit") <= at(&e, "x term"), "x stopped before a ended: {e:?}");
}
