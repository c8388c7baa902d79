//! Test harness: runs the real `ephitup` binary on a configuration in a temporary directory,
//! reads its JSON output on a thread, and lets tests wait for conditions (an event, a state,
//! a line) with a deadline instead of sleeping.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any single condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn ephitup() -> &'static str {
    env!("CARGO_BIN_EXE_ephitup")
}

#[derive(Default)]
struct Output {
    /// Every JSON object printed on stdout, in order.
    records: Vec<Value>,
    /// Lines of stdout that were not JSON.
    other: Vec<String>,
    stderr: Vec<String>,
    closed: bool,
}

pub struct Set {
    pub dir: tempfile::TempDir,
    pub child: Child,
    output: Arc<(Mutex<Output>, Condvar)>,
}

impl Set {
    /// Starts `ephitup up` on `toml` (JSON logs are switched on unless the file sets a format).
    pub fn up(toml: &str) -> Set {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::up_in(dir, toml, &[])
    }

    pub fn up_in(dir: tempfile::TempDir, toml: &str, env: &[(&str, &str)]) -> Set {
        let config = dir.path().join("ephitup.toml");
        std::fs::write(&config, with_settings(toml)).expect("write config");
        let mut child = Command::new(ephitup())
            .args(["up", "-f"])
            .arg(&config)
            .current_dir(dir.path())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ephitup");
        let output = Arc::new((Mutex::new(Output::default()), Condvar::new()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        collect(stdout, Arc::clone(&output), true);
        collect(stderr, Arc::clone(&output), false);
        Set { dir, child, output }
    }

    /// The configuration file.
    pub fn config(&self) -> PathBuf {
        self.path("ephitup.toml")
    }

    /// Saves a new configuration the way many editors do: a new file renamed over the old.
    pub fn save(&self, toml: &str) {
        let tmp = self.path(".ephitup.toml.swp");
        std::fs::write(&tmp, with_settings(toml)).expect("write config");
        std::fs::rename(&tmp, self.config()).expect("rename config");
    }

    /// Saves a new configuration by rewriting the file in place.
    pub fn write_in_place(&self, toml: &str) {
        std::fs::write(self.config(), with_settings(toml)).expect("write config");
    }

    /// Runs `ephitup VERB --file CONFIG ARGS...`; returns (exit code, stdout, stderr).
    pub fn ctl(&self, verb: &str, args: &[&str]) -> (Option<i32>, String, String) {
        let out = Command::new(ephitup())
            .arg(verb)
            .arg("--file")
            .arg(self.config())
            .args(args)
            .output()
            .expect("run ephitup");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
    }

    /// `ephitup status --json`, parsed.
    pub fn status(&self) -> Value {
        let (code, out, err) = self.ctl("status", &["--json"]);
        assert_eq!(code, Some(0), "status failed: {err}\n{}", self.transcript());
        serde_json::from_str(&out).expect("status JSON")
    }

    /// The pid of `label` in the status, if it has a process.
    pub fn status_pid(&self, label: &str) -> Option<i64> {
        self.status()["services"]
            .as_array()
            .expect("services")
            .iter()
            .flat_map(|s| s["instances"].as_array().cloned().unwrap_or_default())
            .find(|i| i["label"] == label)
            .and_then(|i| i["pid"].as_i64())
    }

    /// Waits until the control socket answers (`ephitup status` succeeds).
    pub fn wait_control(&self) {
        eventually("the control socket", || self.ctl("status", &[]).0 == Some(0));
    }

    /// Waits for a record after index `from` matching `pred`.
    pub fn wait_after(&self, from: usize, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let (lock, cv) = &*self.output;
        let deadline = Instant::now() + DEADLINE;
        let mut o = lock.lock().expect("lock");
        loop {
            if let Some(v) = o.records.iter().skip(from).find(|v| pred(v)) {
                return v.clone();
            }
            let now = Instant::now();
            if now >= deadline || o.closed {
                drop(o);
                panic!("timed out waiting for {what}\n{}", self.transcript());
            }
            o = cv.wait_timeout(o, deadline - now).expect("wait").0;
        }
    }

    /// Number of records so far (a mark for [`Set::wait_after`]).
    pub fn mark(&self) -> usize {
        self.output.0.lock().expect("lock").records.len()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits until `pred` holds for some record, returning it.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let (lock, cv) = &*self.output;
        let deadline = Instant::now() + DEADLINE;
        let mut seen = 0;
        let mut o = lock.lock().expect("lock");
        loop {
            if let Some(v) = o.records[seen..].iter().find(|v| pred(v)) {
                return v.clone();
            }
            seen = o.records.len();
            let now = Instant::now();
            if now >= deadline || (o.closed && seen == o.records.len()) {
                drop(o);
                panic!("timed out waiting for {what}\n{}", self.transcript());
            }
            o = cv.wait_timeout(o, deadline - now).expect("wait").0;
        }
    }

    /// Waits for an event of `service` whose message contains `text`.
    pub fn wait_event(&self, service: &str, text: &str) -> Value {
        self.wait_for(&format!("{service}: {text}"), |v| is_event(v, service) && message(v).contains(text))
    }

    /// Waits for an event of `service` reporting `state`.
    pub fn wait_state(&self, service: &str, state: &str) -> Value {
        self.wait_for(&format!("{service} {state}"), |v| is_event(v, service) && v["state"] == state)
    }

    /// Waits for a line printed by `service` containing `text`.
    pub fn wait_line(&self, service: &str, text: &str) -> Value {
        self.wait_for(&format!("line of {service} with {text:?}"), |v| {
            v["stream"].is_string() && v["service"] == service && message(v).contains(text)
        })
    }

    /// All records so far.
    pub fn records(&self) -> Vec<Value> {
        self.output.0.lock().expect("lock").records.clone()
    }

    /// Events of `service` so far.
    pub fn events(&self, service: &str) -> Vec<Value> {
        self.records().into_iter().filter(|v| is_event(v, service)).collect()
    }

    /// Lines printed by `service` so far.
    pub fn lines(&self, service: &str) -> Vec<String> {
        self.records()
            .into_iter()
            .filter(|v| v["stream"].is_string() && v["service"] == service)
            .map(|v| message(&v).to_string())
            .collect()
    }

    /// Index of the first record matching `pred`.
    pub fn position(&self, pred: impl Fn(&Value) -> bool) -> Option<usize> {
        self.records().iter().position(pred)
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).expect("signal ephitup");
    }

    /// Waits for `ephitup` to exit and returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader threads see the end of output.
                let (lock, cv) = &*self.output;
                let mut o = lock.lock().expect("lock");
                while !o.closed {
                    o = cv.wait_timeout(o, Duration::from_secs(5)).expect("wait").0;
                    if !o.closed && Instant::now() > deadline {
                        break;
                    }
                }
                return status.code();
            }
            assert!(Instant::now() < deadline, "ephitup did not exit\n{}", self.transcript());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn transcript(&self) -> String {
        let o = self.output.0.lock().expect("lock");
        let mut out = String::from("--- ephitup stdout ---\n");
        for r in &o.records {
            out.push_str(&r.to_string());
            out.push('\n');
        }
        for l in &o.other {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str("--- ephitup stderr ---\n");
        for l in &o.stderr {
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

impl Drop for Set {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), nix::sys::signal::Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// JSON logs and a short shutdown unless the file sets its own settings.
pub fn with_settings(toml: &str) -> String {
    if toml.contains("log_format") {
        toml.to_string()
    } else {
        format!("[settings]\nlog_format = \"json\"\nshutdown_timeout = \"10s\"\n{toml}")
    }
}

/// Reads `stream` line by line on a thread: JSON objects become records, other lines are
/// kept as they are. The end of stdout marks the output closed.
fn collect(stream: impl Read + Send + 'static, output: Arc<(Mutex<Output>, Condvar)>, is_stdout: bool) {
    std::thread::spawn(move || {
        let (lock, cv) = &*output;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let mut o = lock.lock().expect("lock");
            match serde_json::from_str::<Value>(&line) {
                Ok(v) if v.is_object() => o.records.push(v),
                _ if is_stdout => o.other.push(line),
                _ => o.stderr.push(line),
            }
            cv.notify_all();
        }
        if is_stdout {
            lock.lock().expect("lock").closed = true;
            cv.notify_all();
        }
    });
}

pub fn message(v: &Value) -> &str {
    v["message"].as_str().unwrap_or("")
}

/// An `ephitup` event (not a service line) about `service`.
pub fn is_event(v: &Value, service: &str) -> bool {
    v["level"].is_string() && v["service"] == service
}

/// Waits for the next "started (pid N)" event of `service` and returns the pid.
pub fn wait_started(set: &Set, service: &str) -> i32 {
    started_pid(&set.wait_event(service, STARTED))
}

/// Text of the event reporting a spawn.
pub const STARTED: &str = "started (pid";

/// Is `v` the event of `service` being spawned?
pub fn is_start(v: &Value, service: &str) -> bool {
    is_event(v, service) && message(v).contains(STARTED)
}

/// The pid in a "started (pid N)" event.
pub fn started_pid(v: &Value) -> i32 {
    v["pid"].as_i64().expect("pid in started event") as i32
}

/// Is a process alive (and not a zombie)?
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => process_state(&stat) != Some('Z'),
        Err(_) => false,
    }
}

/// Is a process a zombie?
pub fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| process_state(&s) == Some('Z'))
}

fn process_state(stat: &str) -> Option<char> {
    stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next())
}

/// Waits until `cond` holds, or fails the test with `what`.
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A minimal HTTP server answering 200 to every request, on `listener`, until the test ends.
pub fn serve_http_ok(listener: std::net::TcpListener) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            );
        }
    });
}

/// Runs `ephitup check` on `toml` written to a temp file; returns (exit code, stdout, stderr).
pub fn check(toml: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ephitup.toml");
    std::fs::write(&path, toml).expect("write");
    let out = Command::new(ephitup()).args(["check", "-f"]).arg(&path).output().expect("run check");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

pub fn touch(path: &Path) {
    std::fs::write(path, b"").expect("touch");
}

/// `GET path` on 127.0.0.1:`port` (HTTP/1.1, connection closed): the status code and body.
pub fn http_get_body(port: u16, path: &str) -> (u16, String) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").as_bytes())
        .expect("request");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("response");
    let code = text.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status line");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (code, body)
}

/// The instance `label` in a `status --json` answer.
pub fn instance(status: &Value, label: &str) -> Value {
    status["services"]
        .as_array()
        .expect("services")
        .iter()
        .flat_map(|s| s["instances"].as_array().cloned().unwrap_or_default())
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("no instance {label} in {status}"))
}
