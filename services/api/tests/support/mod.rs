//! A real API for tests: a fresh SurrealDB (`TestDb`), migrated, and `ephitup-api serve` on a
//! free port, with a small client that signs requests.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ephitup_testkit::{TestDb, free_port, http_ok};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-of-enough-length";

/// The API binary beside this test's build (where `CARGO_BIN_EXE_ephitup-api` points in a
/// plain run; found at run time, so a copied test directory uses its own copy).
fn api_bin() -> std::path::PathBuf {
    ephitup_testkit::workspace_bin("ephitup-api")
}

pub struct Api {
    pub db: TestDb,
    pub port: u16,
    pub data: tempfile::TempDir,
    child: Child,
    pub http: reqwest::Client,
    /// The extra environment it was started with, which its workers get too.
    env: Vec<(String, String)>,
}

impl Api {
    pub fn start() -> Api {
        Api::start_with(&[])
    }

    /// Starts the API (and later its workers) letting users' provider URLs name loopback, where
    /// the tests' stand-in AI listens (`ALLOW_PRIVATE_PROVIDER_URLS=true`).
    pub fn with_local_ai() -> Api {
        Api::start_with(&[("ALLOW_PRIVATE_PROVIDER_URLS".into(), "true".into())])
    }

    /// Starts the API with extra environment (e.g. the `S3_*` settings of a `TestS3`).
    pub fn start_with(env: &[(String, String)]) -> Api {
        let db = TestDb::start();
        let migrate = Command::new(api_bin()).arg("migrate").envs(db.env()).output().expect("migrate");
        assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
        let data = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let child = Command::new(api_bin())
            .arg("serve")
            .envs(db.env())
            .env("API_BIND", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", JWT_SECRET)
            .env("DATA_PATH", data.path())
            .env_remove("OPENAI_API_KEY")
            // The key is the one generated into DATA_PATH/.secrets, whatever the caller has set.
            .env_remove("FERNET_SECRET_KEY")
            .env_remove("S3_BUCKET_NAME")
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(data.path().join("api.log")).expect("log file"))
            .spawn()
            .expect("spawn ephitup-api serve");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !http_ok(port, "/api/health") {
            assert!(Instant::now() < deadline, "the API did not become healthy");
            std::thread::sleep(Duration::from_millis(20));
        }
        Api { db, port, data, child, http: reqwest::Client::new(), env: env.to_vec() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/api{path}", self.port)
    }

    /// A request with an optional bearer token and JSON body; returns status and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Registers a user and returns (token, user id).
    pub async fn user(&self, email: &str) -> (String, String) {
        let (status, body) = self
            .call(
                Method::POST,
                "/auth/register",
                None,
                Some(json!({"email": email, "password": "Str0ng!pass", "display_name": "T"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["access_token"].as_str().expect("token").to_string(),
            body["user"]["id"].as_str().expect("id").to_string(),
        )
    }
}

/// The `DbSettings` of a test database (its namespace and database included).
pub fn settings(db: &TestDb) -> ephitup_store::DbSettings {
    ephitup_store::DbSettings::from_pairs(&db.env()).expect("settings of the test database")
}

/// A connection to a test database's app namespace, to look behind the API.
pub async fn connect(db: &TestDb) -> ephitup_store::Db {
    ephitup_store::connect_app(&settings(db)).await.expect("connect to the test database")
}

impl Api {
    /// The server's process id (to read its memory from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A line of the server's `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
    pub fn status_kib(&self, field: &str) -> u64 {
        ephitup_testkit::status_kib(self.pid(), field)
    }

    /// Whether the API process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// What the server logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("api.log")).unwrap_or_default()
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real `ephitup-worker` on the API's database and data directory (so it reads the API's
/// key file and uploads), stopped when dropped.
pub struct Worker {
    child: Child,
    pub log: std::path::PathBuf,
}

impl Api {
    /// Starts a worker for this API (it must be built: `ephitup-worker`); waits until it is ready.
    pub fn worker(&self, args: &[&str]) -> Worker {
        let log = self.data.path().join("worker.log");
        let child = Command::new(ephitup_testkit::workspace_bin("ephitup-worker"))
            .args(["--poll-interval", "200ms"])
            .args(args)
            .envs(self.db.env())
            .env("DATA_PATH", self.data.path())
            .env("WORKER_ID", "api-test-worker")
            .env("RUST_LOG", "info")
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("FERNET_SECRET_KEY")
            .env_remove("S3_BUCKET_NAME")
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("worker log"))
            .spawn()
            .expect("spawn ephitup-worker");
        let worker = Worker { child, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !worker.log().contains("ready:") {
            assert!(Instant::now() < deadline, "the worker did not become ready:\n{}", worker.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        worker
    }

    /// Polls `GET path` until `done` holds for its body (at most a minute); returns the body.
    pub async fn wait_for(&self, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, body) = self.call(Method::GET, path, Some(token), None).await;
            if done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "GET {path} never got there: {body}\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Worker {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `check` holds (polling), failing after a minute with `what`.
pub async fn until(what: &str, check: impl AsyncFnMut() -> bool) {
    until_within(what, std::time::Duration::from_secs(60), check).await
}

/// Waits until `check` holds (polling), failing after `timeout` with `what`.
pub async fn until_within(what: &str, timeout: std::time::Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
