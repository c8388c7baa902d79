//! Test support for the services: where the workspace's binaries were built, and [`TestDb`],
//! a real `ephitup-db` (SurrealDB) server on a free port with its data in a temp dir, started
//! and stopped by the test that owns it (by pid, never by name).

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
}

impl TestDb {
    pub const USER: &'static str = "root";
    pub const PASSWORD: &'static str = "test-password";

    /// Starts a server on a fresh data directory.
    pub fn start() -> TestDb {
        Self::start_in(tempfile::tempdir().expect("tempdir"))
    }

    /// Starts a server on the data in `dir` (kept from an earlier server).
    pub fn start_in(dir: tempfile::TempDir) -> TestDb {
        let mut db = TestDb { port: 0, dir, child: None };
        for _ in 0..3 {
            db.port = free_port();
            let mut child = Command::new(workspace_bin("ephitup-db"))
                .args(["start", "--bind", &format!("127.0.0.1:{}", db.port), "--log", "warn"])
                .arg(format!("rocksdb:{}", db.dir.path().join("db").display()))
                .env("SURREAL_USER", Self::USER)
                .env("SURREAL_PASS", Self::PASSWORD)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn ephitup-db");
            let deadline = Instant::now() + READY_TIMEOUT;
            loop {
                if http_ok(db.port, "/ready") {
                    db.child = Some(child);
                    return db;
                }
                if child.try_wait().expect("try_wait").is_some() || Instant::now() > deadline {
                    // Most likely the port was taken in between: try another one.
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("ephitup-db did not become ready");
    }

    /// Starts a server on a fresh data directory and applies the migrations with the real
    /// `ephitup-api migrate` (which must be built).
    pub fn start_migrated() -> TestDb {
        let db = Self::start();
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
