//! Worker tests' harness: a migrated real database, a user to own jobs, and real
//! `ephitup-worker` processes with their logs in files (counted to prove how often a job ran).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ephitup_testkit::TestDb;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

pub const FERNET_KEY: &str = "worker-test-fernet-passphrase";

/// The `DbSettings` of a test database.
pub fn settings(db: &TestDb) -> ephitup_store::DbSettings {
    ephitup_store::DbSettings::from_pairs(&db.env()).expect("settings of the test database")
}

pub async fn connect(db: &TestDb) -> ephitup_store::Db {
    ephitup_store::connect_app(&settings(db)).await.expect("connect to the test database")
}

/// A user row to own jobs; returns its id.
pub async fn user(db: &ephitup_store::Db, email: &str) -> String {
    ephitup_store::repo::users::create(db, email, "$argon2id$unused", None).await.expect("user").id
}

/// A running `ephitup-worker`.
pub struct Worker {
    pub child: Option<Child>,
    pub log: PathBuf,
}

impl Worker {
    /// Starts a worker on `db` with `args`, its data in `data`, its log at `data/<name>.log`.
    pub fn start(db: &TestDb, data: &std::path::Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Worker {
        let log = data.join(format!("{name}.log"));
        let child = Command::new(ephitup_testkit::workspace_bin("ephitup-worker"))
            .args(args)
            .envs(db.env())
            .env("DATA_PATH", data)
            .env("FERNET_SECRET_KEY", FERNET_KEY)
            .env("WORKER_ID", name)
            .env("RUST_LOG", "info")
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("S3_BUCKET_NAME")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn ephitup-worker");
        let w = Worker { child: Some(child), log };
        w.wait_log("ready:", Duration::from_secs(60));
        w
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log().contains(needle) {
            assert!(Instant::now() < deadline, "no `{needle}` in the worker's log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().expect("running").id() as i32)
    }

    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("signal");
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let child = self.child.as_mut().expect("running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status.code();
            }
            assert!(Instant::now() < deadline, "the worker did not exit:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many times this worker started `job`.
    pub fn runs_of(&self, job: &str) -> usize {
        self.log().matches(&format!("running job {job} (")).count()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls the job until `done(job)` holds.
pub async fn wait_job(db: &ephitup_store::Db, id: &str, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let job = ephitup_store::repo::jobs::inspect(db, id).await.expect("job");
        if done(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} did not reach the expected state: {job}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn status(job: &Value) -> &str {
    job["status"].as_str().unwrap_or_default()
}
