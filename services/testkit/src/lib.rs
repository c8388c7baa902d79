//! Test support for the services: where the workspace's binaries were built, and [`TestDb`],
//! a real `ephitup-db` (SurrealDB) server on a free port with its data in a temp dir, started
//! and stopped by the test that owns it (by pid, never by name); [`TestApi`], the real API on
//! such a database; [`TestS3`], a local S3-compatible server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support fails loudly by design

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to become ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A binary of the workspace, from the same build as the running test (`target/<profile>/`).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // Tests run from target/<profile>/deps/; binaries sit one level up.
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is not built: run the tests with `cargo test --workspace` (or scripts/test)",
        bin.display()
    );
    bin
}

/// A TCP port that nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A line of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`, `RssAnon`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status.lines().find(|l| l.starts_with(&format!("{field}:"))).expect("the field");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number of kB")
}

/// `GET path` on 127.0.0.1:port answered with 200?
pub fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// A running SurrealDB server owned by a test.
pub struct TestDb {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    /// The server's `--log` filter; its output goes to `db.log` in `dir` ([`TestDb::log`]).
    log_filter: &'static str,
}

/// The log level at which a server logs every RPC request it gets with its method and
/// connection id (the fields of its `rpc/call` span, which a filter for the request's own
/// target alone leaves out).
const RPC_LOG: &str = "debug";

impl TestDb {
    pub const USER: &'static str = "root";
    pub const PASSWORD: &'static str = "test-password";

    /// Starts a server on a fresh data directory.
    pub fn start() -> TestDb {
        Self::start_in(tempfile::tempdir().expect("tempdir"))
    }

    /// Starts a server on the data in `dir` (kept from an earlier server).
    pub fn start_in(dir: tempfile::TempDir) -> TestDb {
        Self::start_logging(dir, "warn")
    }

    fn start_logging(dir: tempfile::TempDir, log_filter: &'static str) -> TestDb {
        let mut db = TestDb { port: 0, dir, child: None, log_filter };
        for _ in 0..3 {
            db.port = free_port();
            if db.spawn_and_wait() {
                return db;
            }
            // Most likely the port was taken in between: try another one.
        }
        panic!("ephitup-db did not become ready");
    }

    /// Starts the server on its port and data directory; whether it became ready.
    fn spawn_and_wait(&mut self) -> bool {
        let mut child = Command::new(workspace_bin("ephitup-db"))
            .args(["start", "--bind", &format!("127.0.0.1:{}", self.port), "--log", self.log_filter])
            .arg(format!("rocksdb:{}", self.dir.path().join("db").display()))
            .env("SURREAL_USER", Self::USER)
            .env("SURREAL_PASS", Self::PASSWORD)
            .stdin(Stdio::null())
            .stdout(
                std::fs::File::options()
                    .create(true)
                    .append(true)
                    .open(self.log_path())
                    .expect("the server's log file"),
            )
            .spawn()
            .expect("spawn ephitup-db");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if http_ok(self.port, "/ready") {
                self.child = Some(child);
                return true;
            }
            if child.try_wait().expect("try_wait").is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILLs the server (a crash): its data stays for [`TestDb::restart`].
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data directory (after [`TestDb::crash`]);
    /// returns once it is ready.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        assert!(self.spawn_and_wait(), "ephitup-db did not come back on port {}", self.port);
    }

    /// Starts a server on a fresh data directory and applies the migrations with the real
    /// `ephitup-api migrate` (which must be built).
    pub fn start_migrated() -> TestDb {
        Self::migrated(Self::start())
    }

    /// As [`TestDb::start_migrated`], with a log of every RPC request the server gets (its
    /// method and connection id), read with [`TestDb::log`].
    pub fn start_migrated_logging_rpc() -> TestDb {
        Self::migrated(Self::start_logging(tempfile::tempdir().expect("tempdir"), RPC_LOG))
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("db.log")
    }

    fn migrated(db: TestDb) -> TestDb {
        let out = Command::new(workspace_bin("ephitup-api")).arg("migrate").envs(db.env()).output().expect("migrate");
        assert!(out.status.success(), "migrate failed: {}", String::from_utf8_lossy(&out.stderr));
        db
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The `SURREAL_*` environment for a client of this server (namespace and database
    /// unique to the test).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SURREAL_URL".into(), self.url()),
            ("SURREAL_USER".into(), Self::USER.into()),
            ("SURREAL_PASSWORD".into(), Self::PASSWORD.into()),
            ("SURREAL_NAMESPACE".into(), "test".into()),
            ("SURREAL_DATABASE".into(), "test".into()),
            ("SURREAL_CONNECT_TIMEOUT".into(), "30".into()),
        ]
    }

    /// Stops the server gracefully (SIGINT, as `ephitup` would) and keeps its data.
    pub fn stop(mut self) -> tempfile::TempDir {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(30);
            while child.try_wait().expect("try_wait").is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A real API (`ephitup-api serve`) on a database of its own, migrated, on a port the test
/// chose (so a test can point a client at it before it runs, e.g. to see it come up).
pub struct TestApi {
    pub db: TestDb,
    pub port: u16,
    pub data: tempfile::TempDir,
    child: Option<Child>,
}

impl TestApi {
    pub const JWT_SECRET: &'static str = "test-secret-of-enough-length";

    /// Starts a database, migrates it, and starts the API on `port`; returns once it is healthy.
    pub fn start_on(port: u16) -> TestApi {
        let db = TestDb::start();
        let api = workspace_bin("ephitup-api");
        let migrate = Command::new(&api).arg("migrate").envs(db.env()).output().expect("migrate");
        assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
        let data = tempfile::tempdir().expect("tempdir");
        let child = Command::new(&api)
            .arg("serve")
            .envs(db.env())
            .env("API_BIND", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", Self::JWT_SECRET)
            .env("DATA_PATH", data.path())
            .env_remove("OPENAI_API_KEY")
            .env_remove("FERNET_SECRET_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(data.path().join("api.log")).expect("log file"))
            .spawn()
            .expect("spawn ephitup-api serve");
        let mut api = TestApi { db, port, data, child: Some(child) };
        let deadline = Instant::now() + READY_TIMEOUT;
        while !http_ok(port, "/api/health") {
            let exited = api.child.as_mut().and_then(|c| c.try_wait().expect("try_wait"));
            assert!(exited.is_none() && Instant::now() < deadline, "the API did not become healthy:\n{}", api.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        api
    }

    /// What the server logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("api.log")).unwrap_or_default()
    }

    /// Kills the API (the database keeps running).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestApi {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A request with a JSON body to 127.0.0.1:port (plain HTTP/1.1, one connection); returns the
/// status and the body.
pub fn http_json(port: u16, method: &str, path: &str, body: Option<&serde_json::Value>) -> (u16, String) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let (status, body) = http_raw(port, method, path, &[("Content-Type", "application/json")], body.as_bytes());
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A request to 127.0.0.1:port (plain HTTP/1.1, one connection, read to its end); returns the
/// status and the body's bytes.
pub fn http_raw(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let headers: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("write");
    stream.write_all(body).expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "chunked answer to {method} {path}");
    (status, response[split..].to_vec())
}

/// A local S3-compatible server (moto's, from PyPI; `scripts/setup` installs it next to the
/// schema validators) with one bucket, owned by a test.
pub struct TestS3 {
    pub port: u16,
    pub bucket: String,
    child: Child,
}

impl TestS3 {
    /// moto wants requests signed by someone (anonymous reads are refused) but does not check
    /// signatures: the test's own reads carry this stand-in.
    const SIGNED: (&'static str, &'static str) = (
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=test-access-key/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
    );

    pub fn start(bucket: &str) -> TestS3 {
        let tools = std::env::var_os("EPHITUP_VALIDATORS").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/ephitup/validators/bin")
        });
        let server = tools.join("moto_server");
        assert!(server.exists(), "{} is not installed: run scripts/setup", server.display());
        let port = free_port();
        let mut child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn moto_server");
        let deadline = Instant::now() + READY_TIMEOUT;
        while !http_ok(port, "/") {
            assert!(child.try_wait().expect("try_wait").is_none(), "moto_server exited");
            assert!(Instant::now() < deadline, "moto_server did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        let s3 = TestS3 { port, bucket: bucket.to_string(), child };
        let (status, body) = http_raw(port, "PUT", &format!("/{bucket}"), &[Self::SIGNED], b"");
        assert_eq!(status, 200, "creating bucket {bucket}: {}", String::from_utf8_lossy(&body));
        s3
    }

    /// The settings the programs read (`S3_*`, `AWS_*`).
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("S3_BUCKET_NAME", self.bucket.clone()),
            ("S3_ENDPOINT_URL", format!("http://127.0.0.1:{}", self.port)),
            ("S3_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test-access-key".into()),
            ("AWS_SECRET_ACCESS_KEY", "test-secret-key".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The object at `key`, if there is one.
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        let (status, body) = http_raw(self.port, "GET", &format!("/{}/{key}", self.bucket), &[Self::SIGNED], b"");
        (status == 200).then_some(body)
    }

    /// The keys of every object in the bucket.
    pub fn keys(&self) -> Vec<String> {
        let (status, body) = http_raw(self.port, "GET", &format!("/{}?list-type=2", self.bucket), &[Self::SIGNED], b"");
        assert_eq!(status, 200);
        let listing = String::from_utf8_lossy(&body).into_owned();
        listing.split("<Key>").skip(1).filter_map(|k| k.split_once("</Key>").map(|(k, _)| k.to_string())).collect()
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `ephitup-fake-ai` (the OpenAI-compatible stand-in), owned by a test.
pub struct FakeAi {
    pub port: u16,
    pub key: String,
    child: Child,
}

impl FakeAi {
    /// Starts the stand-in requiring `key`; `args` are extra options (`--segments`, `--lines`).
    pub fn start(key: &str, args: &[&str]) -> FakeAi {
        use std::io::BufRead;
        let mut child = Command::new(workspace_bin("ephitup-fake-ai"))
            .args(["--key", key])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn ephitup-fake-ai");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read port");
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port on the first line");
        FakeAi { port, key: key.to_string(), child }
    }

    /// The base URL a client is configured with (`…/v1`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// Every request so far: `[{path, key, model, status, ...}]`.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let (status, body) = http_json(self.port, "GET", "/_requests", None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("request log")
    }

    /// Sets failure knobs: `{fail_next, fail_status, always_fail_status, require_max_completion_tokens}`.
    pub fn control(&self, knobs: serde_json::Value) {
        let (status, body) = http_json(self.port, "POST", "/_control", Some(&knobs));
        assert_eq!(status, 204, "{body}");
    }
}

impl Drop for FakeAi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
