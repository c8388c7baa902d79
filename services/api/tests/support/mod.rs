//! A real API for tests: a fresh SurrealDB (`TestDb`), migrated, and `ephitup-api serve` on a
//! free port, with a small client that signs requests.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ephitup_testkit::{TestDb, free_port, http_ok};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-of-enough-length";

pub struct Api {
    pub db: TestDb,
    pub port: u16,
    pub data: tempfile::TempDir,
    child: Child,
    pub http: reqwest::Client,
}

impl Api {
    pub fn start() -> Api {
        Api::start_with(&[])
    }

    /// Starts the API with extra environment (e.g. the `S3_*` settings of a `TestS3`).
    pub fn start_with(env: &[(String, String)]) -> Api {
        let db = TestDb::start();
        let migrate =
            Command::new(env!("CARGO_BIN_EXE_ephitup-api")).arg("migrate").envs(db.env()).output().expect("migrate");
        assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
        let data = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_ephitup-api"))
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
        Api { db, port, data, child, http: reqwest::Client::new() }
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
    /// The API process's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
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
