#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The queue with real workers on a real database: exactly-once under contention, retake of
//! a dead worker's job, attempts running out, SIGTERM hand-back, failures with their reason.
//! Jobs are the test-only `noop` (`--test-jobs`); a run is counted from the worker's log line
//! `running job <id> (`, written once per successful claim.

mod support;

use std::time::Duration;

use ephitup_store::repo::jobs;
use ephitup_testkit::TestDb;
use nix::sys::signal::Signal;
use serde_json::json;
use support::{Worker, connect, status, user, wait_job};

const FAST: &[&str] = &["--test-jobs", "--lease", "2s", "--heartbeat", "300ms", "--poll-interval", "200ms"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    FAST.iter().copied().chain(extra.iter().copied()).collect()
}

async fn exactly_once(workers: usize) {
    let db = TestDb::start_migrated();
    let data = tempfile::tempdir().unwrap();
    let conn = connect(&db).await;
    let owner = user(&conn, "q@example.com").await;
    // Claims under contention are what is tested here, not lease expiry: a lease long enough
    // that a starved machine (CI, parallel builds) cannot lose it between two heartbeats.
    let contention = ["--test-jobs", "--lease", "15s", "--heartbeat", "1s", "--poll-interval", "200ms"];
    let started: Vec<Worker> =
        (0..workers).map(|i| Worker::start(&db, data.path(), &format!("w{i}"), &contention, &[])).collect();
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(jobs::enqueue(&conn, &owner, "noop", json!({"sleep_ms": 20})).await.unwrap());
    }
    for id in &ids {
        let job = wait_job(&conn, id, Duration::from_secs(60), |j| status(j) == "completed").await;
        assert_eq!(job["attempts"], 1, "{job}");
    }
    let mut per_worker = vec![0; workers];
    for id in &ids {
        let runs: Vec<usize> = started.iter().map(|w| w.runs_of(id)).collect();
        assert_eq!(runs.iter().sum::<usize>(), 1, "job {id} ran {runs:?} times");
        for (i, r) in runs.iter().enumerate() {
            per_worker[i] += r;
        }
    }
    eprintln!("{workers} workers: jobs per worker {per_worker:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_of_50_jobs_runs_exactly_once_with_two_workers() {
    exactly_once(2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_of_50_jobs_runs_exactly_once_with_three_workers() {
    exactly_once(3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_workers_job_is_retaken_and_completes() {
    let db = TestDb::start_migrated();
    let data = tempfile::tempdir().unwrap();
    let conn = connect(&db).await;
    let owner = user(&conn, "k@example.com").await;
    let mut a = Worker::start(&db, data.path(), "a", &args(&[]), &[]);
    // Only the first attempt hangs: the retake finishes at once.
    let id = jobs::enqueue(&conn, &owner, "noop", json!({"sleep_ms": 600_000, "sleep_attempts": 1})).await.unwrap();
    wait_job(&conn, &id, Duration::from_secs(30), |j| status(j) == "running").await;
    a.signal(Signal::SIGKILL);
    a.wait_exit(Duration::from_secs(10));
    let b = Worker::start(&db, data.path(), "b", &args(&[]), &[]);
    let job = wait_job(&conn, &id, Duration::from_secs(30), |j| status(j) == "completed").await;
    assert_eq!(job["attempts"], 2, "{job}");
    assert_eq!(job["result"]["attempt"], 2, "{job}");
    assert!(b.log().contains("lost its worker"), "{}", b.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_worker_keeps_dying_fails_with_the_reason() {
    let db = TestDb::start_migrated();
    let data = tempfile::tempdir().unwrap();
    let conn = connect(&db).await;
    let owner = user(&conn, "d@example.com").await;
    let mut a = Worker::start(&db, data.path(), "a", &args(&["--max-attempts", "1"]), &[]);
    let id = jobs::enqueue(&conn, &owner, "noop", json!({"sleep_ms": 600_000})).await.unwrap();
    wait_job(&conn, &id, Duration::from_secs(30), |j| status(j) == "running").await;
    a.signal(Signal::SIGKILL);
    a.wait_exit(Duration::from_secs(10));
    let _b = Worker::start(&db, data.path(), "b", &args(&["--max-attempts", "1"]), &[]);
    let job = wait_job(&conn, &id, Duration::from_secs(30), |j| status(j) == "failed").await;
    assert!(job["error_message"].as_str().unwrap().contains("lease expired"), "{job}");
    assert_eq!(job["attempts"], 1, "{job}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_short_jobs_finish_and_hands_back_the_rest() {
    let db = TestDb::start_migrated();
    let data = tempfile::tempdir().unwrap();
    let conn = connect(&db).await;
    let owner = user(&conn, "t@example.com").await;
    let mut a = Worker::start(&db, data.path(), "a", &args(&["--drain-timeout", "3s"]), &[]);
    let short = jobs::enqueue(&conn, &owner, "noop", json!({"sleep_ms": 1000})).await.unwrap();
    let long = jobs::enqueue(&conn, &owner, "noop", json!({"sleep_ms": 600_000, "sleep_attempts": 1})).await.unwrap();
    for id in [&short, &long] {
        wait_job(&conn, id, Duration::from_secs(30), |j| status(j) == "running").await;
    }
    a.signal(Signal::SIGTERM);
    assert_eq!(a.wait_exit(Duration::from_secs(20)), Some(0), "{}", a.log());
    let s = jobs::inspect(&conn, &short).await.unwrap();
    assert_eq!(status(&s), "completed", "the short job finished during the drain: {s}");
    let l = jobs::inspect(&conn, &long).await.unwrap();
    assert_eq!(status(&l), "new", "the long job was handed back: {l}");
    assert!(l["lease_owner"].is_null(), "{l}");
    // Nothing is lost: the next worker finishes it.
    let _b = Worker::start(&db, data.path(), "b", &args(&[]), &[]);
    wait_job(&conn, &long, Duration::from_secs(30), |j| status(j) == "completed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_job_ends_failed_with_its_reason() {
    let db = TestDb::start_migrated();
    let data = tempfile::tempdir().unwrap();
    let conn = connect(&db).await;
    let owner = user(&conn, "f@example.com").await;
    let _w = Worker::start(&db, data.path(), "w", &args(&[]), &[]);
    let id = jobs::enqueue(&conn, &owner, "noop", json!({"fail": "the provider said no"})).await.unwrap();
    let job = wait_job(&conn, &id, Duration::from_secs(30), |j| status(j) != "new" && status(j) != "running").await;
    assert_eq!(status(&job), "failed", "{job}");
    assert_eq!(job["error_message"], "the provider said no", "{job}");
}
