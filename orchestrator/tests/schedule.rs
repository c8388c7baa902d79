//! Scheduled one-shots: run on their schedule (`every`, `cron`), never two runs at once (a
//! run time passed during a run is skipped and said so), each run after its dependencies
//! hold, and `status` shows the next run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use support::*;

fn runs(set: &Set) -> usize {
    std::fs::read_to_string(set.path("runs")).map(|t| t.lines().count()).unwrap_or(0)
}

#[test]
fn every_runs_again_and_status_shows_the_next_run() {
    let set = Set::up(
        r#"
[services.job]
kind = "oneshot"
command = ["sh", "-c", "echo run >> runs"]
schedule = { every = "200ms" }
"#,
    );
    eventually("three runs", || runs(&set) >= 3);
    set.wait_state("job", "scheduled");
    let status = set.status();
    let job = instance(&status, "job");
    assert_eq!(job["state"], "scheduled", "{status}");
    assert!(job["next_run_ms"].as_u64().unwrap() > 0);
    assert_eq!(status["services"][0]["schedule"], "every 200ms");
    let (_, table, _) = set.ctl("status", &[]);
    assert!(table.contains("scheduled (next "), "{table}");
    // A scheduled one-shot between runs does not end the set.
    assert!(set.child.id() > 0 && alive(set.pid()));
}

#[test]
fn runs_never_overlap_and_missed_times_are_skipped() {
    let set = Set::up(
        r#"
[services.slow]
kind = "oneshot"
command = ["sh", "-c", "if [ -e running ]; then echo overlap >> bad; fi; touch running; sleep 0.4; rm running; echo run >> runs"]
schedule = { every = "100ms" }
"#,
    );
    set.wait_for("a skip", |v| {
        is_event(v, "slow") && message(v).contains("skipped") && message(v).contains("never overlap")
    });
    eventually("two runs", || runs(&set) >= 2);
    assert!(!set.path("bad").exists(), "two runs overlapped");
}

#[test]
fn each_run_waits_for_its_dependencies() {
    let set = Set::up(
        r#"
[services.gate]
command = ["sh", "-c", "while [ ! -e ready ]; do sleep 0.05; done; echo ready now; exec sleep 1000"]
health = { log = "ready now" }

[services.job]
kind = "oneshot"
command = ["sh", "-c", "echo run >> runs"]
schedule = { every = "100ms" }
depends_on = { gate = "healthy" }
"#,
    );
    set.wait_event("job", "waiting for gate healthy");
    assert_eq!(runs(&set), 0, "ran before its dependency was healthy");
    touch(&set.path("ready"));
    eventually("two runs", || runs(&set) >= 2);
}

#[test]
fn cron_schedules_run_at_their_times() {
    let set = Set::up(
        r#"
[services.tick]
kind = "oneshot"
command = ["sh", "-c", "echo run >> runs"]
schedule = { cron = "* * * * * *" }
"#,
    );
    eventually("two runs, a second apart", || runs(&set) >= 2);
    assert!(set.status()["services"][0]["schedule"].as_str().unwrap().starts_with("cron "));
}

#[test]
fn bad_schedules_are_refused() {
    let cases = [
        ("kind = \"oneshot\"\nschedule = { cron = \"every day\" }", "not a cron expression"),
        ("schedule = { every = \"1h\" }", "only a oneshot"),
        ("kind = \"oneshot\"\nschedule = { every = \"1h\", cron = \"0 3 * * *\" }", "exactly one of"),
        ("kind = \"oneshot\"\nschedule = { every = \"0s\" }", "longer than zero"),
    ];
    for (keys, expected) in cases {
        let (code, _, err) = check(&format!("[services.a]\ncommand = \"true\"\n{keys}\n"));
        assert_eq!(code, Some(2), "{keys}: {err}");
        assert!(err.contains(expected) && err.contains("services.a.schedule"), "{keys}: {err}");
    }
    let (code, _, err) =
        check("[services.a]\ncommand = \"true\"\nkind = \"oneshot\"\nschedule = { cron = \"0 3 * * *\" }\n");
    assert_eq!(code, Some(0), "{err}");
}

/// `depends_on` a scheduled one-shot's `completed` holds once its last run completed: the
/// dependent waits through failed runs, starts after the first run that passes, and the job
/// keeps its schedule (it goes back to `scheduled`, never to `completed`).
#[test]
fn dependents_start_once_a_run_has_completed() {
    let set = Set::up(
        r#"
[services.job]
kind = "oneshot"
command = ["sh", "-c", "if [ -e pass ]; then echo run >> runs; else echo not yet; exit 3; fi"]
schedule = { every = "100ms" }

[services.app]
command = ["sleep", "1000"]
depends_on = { job = "completed" }
"#,
    );
    set.wait_event("app", "waiting for job completed");
    set.wait_for("a failed run", |v| is_event(v, "job") && message(v).contains("failed (exit code 3)"));
    eventually("the failed run in the status", || instance(&set.status(), "job")["last_run_ok"] == false);
    let status = set.status();
    assert_eq!(instance(&status, "app")["state"], "waiting", "{status}");
    let (_, table, _) = set.ctl("status", &[]);
    assert!(table.contains("last run failed"), "{table}");

    touch(&set.path("pass"));
    wait_started(&set, "app");
    let completed = set
        .position(|v| is_event(v, "job") && message(v).contains("completed (exit code 0)"))
        .expect("a completed run before app started");
    assert!(completed < set.position(|v| is_start(v, "app")).unwrap(), "{}", set.transcript());
    assert!(runs(&set) >= 1);
    // The job keeps running on its schedule.
    let from = set.mark();
    set.wait_after(from, "another run", |v| is_event(v, "job") && message(v).contains("completed (exit code 0)"));
    let status = set.status();
    assert_eq!(instance(&status, "job")["last_run_ok"], true, "{status}");
    assert_ne!(instance(&status, "job")["state"], "completed", "{status}");
}

/// A dependent of a scheduled one-shot that is stopped before any run passed never starts:
/// it is blocked, with the reason.
#[test]
fn a_dependent_is_blocked_when_the_job_stops_without_a_completed_run() {
    let set = Set::up(
        r#"
[services.job]
kind = "oneshot"
command = ["sh", "-c", "exit 3"]
schedule = { every = "100ms" }

[services.app]
command = ["sleep", "1000"]
depends_on = { job = "completed" }
"#,
    );
    set.wait_for("a failed run", |v| is_event(v, "job") && message(v).contains("failed (exit code 3)"));
    let (code, out, err) = set.ctl("stop", &["job"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let blocked = set.wait_state("app", "blocked");
    assert!(message(&blocked).contains("dependency `job` is stopped"), "{blocked}");
}
