#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The control verbs against a running set: status, logs (recent and followed), start, stop,
//! restart, health; the socket's life (stale socket, second `up`, "not running"); and the
//! optional HTTP listener.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use support::*;

const TICKER: &str = r#"
[services.ticker]
command = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done"]

[services.sleeper]
command = "sleep 1000"
depends_on = { ticker = "started" }
"#;

#[test]
fn status_reports_each_service() {
    let set = Set::up(TICKER);
    let ticker = wait_started(&set, "ticker");
    wait_started(&set, "sleeper");
    set.wait_control();
    let status = set.status();
    assert_eq!(status["pid"].as_i64(), Some(set.pid() as i64));
    let services = status["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    let t = &services.iter().find(|s| s["name"] == "ticker").unwrap()["instances"][0];
    assert_eq!(t["pid"].as_i64(), Some(ticker as i64));
    assert_eq!(t["state"], "running");
    assert_eq!(t["restarts"], 0);
    assert!(t["uptime_ms"].as_u64().is_some());

    let (code, table, _) = set.ctl("status", &[]);
    assert_eq!(code, Some(0));
    assert!(table.starts_with("SERVICE"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("ticker") && l.contains("running") && l.contains(&ticker.to_string())));
}

#[test]
fn stop_start_restart_a_service() {
    let set = Set::up(TICKER);
    let first = wait_started(&set, "sleeper");
    set.wait_control();

    let (code, out, err) = set.ctl("stop", &["sleeper"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("sleeper stopped"), "{out}");
    assert!(!alive(first));
    assert_eq!(set.status_pid("sleeper"), None);
    // Stopped on request: it stays stopped, and ephitup stays up.
    assert!(set.status_pid("ticker").is_some());

    let mark = set.mark();
    let (code, out, _) = set.ctl("start", &["sleeper"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("sleeper started"), "{out}");
    let second = started_pid(&set.wait_after(mark, "sleeper started again", |v| is_start(v, "sleeper")));
    assert_ne!(first, second);

    let ticker = set.status_pid("ticker").unwrap();
    let mark = set.mark();
    let (code, out, _) = set.ctl("restart", &["sleeper"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("sleeper restarted"), "{out}");
    let third = started_pid(&set.wait_after(mark, "sleeper restarted", |v| is_start(v, "sleeper")));
    assert_ne!(second, third);
    assert!(!alive(second));
    // The other service was not touched.
    assert_eq!(set.status_pid("ticker"), Some(ticker));

    let (code, _, err) = set.ctl("restart", &["nope"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no service named `nope`"), "{err}");
}

#[test]
fn logs_tail_and_follow() {
    let set = Set::up(TICKER);
    set.wait_line("ticker", "tick 5");
    set.wait_control();
    let (code, out, _) = set.ctl("logs", &["-n", "3", "ticker"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("ticker | tick ")), "{out}");

    // Follow: lines keep coming after the tail.
    let mut follow = Command::new(ephitup())
        .args(["logs", "--file"])
        .arg(set.config())
        .args(["-f", "-n", "1", "ticker"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(follow.stdout.take().unwrap());
    let mut numbers = Vec::new();
    let mut line = String::new();
    while numbers.len() < 5 {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "logs -f ended early");
        let n: u64 = line.trim().rsplit(' ').next().unwrap().parse().unwrap();
        numbers.push(n);
    }
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    follow.kill().unwrap();
    follow.wait().unwrap();

    let (code, _, err) = set.ctl("logs", &["nope"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no service named `nope`"), "{err}");
}

#[test]
fn health_verb_follows_critical_readiness() {
    let set = Set::up(
        r#"
[services.gate]
command = ["sh", "-c", "while [ ! -e ready ]; do sleep 0.05; done; echo ready now; exec sleep 1000"]
critical = true
health = { log = "ready now" }
[services.other]
command = "sleep 1000"
"#,
    );
    wait_started(&set, "gate");
    set.wait_control();
    let (code, out, _) = set.ctl("health", &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not ready: gate starting"), "{out}");
    touch(&set.path("ready"));
    set.wait_state("gate", "running");
    let (code, out, _) = set.ctl("health", &[]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn clear_error_when_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ephitup.toml");
    std::fs::write(&config, "[services.a]\ncommand = \"true\"\n").unwrap();
    let out = Command::new(ephitup()).args(["status", "--file"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no ephitup is running for"), "{err}");
    assert!(err.contains("ephitup.sock"), "{err}");
}

#[test]
fn stale_socket_is_replaced_and_a_second_up_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A socket file nobody listens on, as an ephitup killed with SIGKILL leaves behind.
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    drop(std::os::unix::net::UnixListener::bind(dir.path().join("data/ephitup.sock")).unwrap());
    let set = Set::up_in(dir, "[services.a]\ncommand = \"sleep 1000\"\n", &[]);
    wait_started(&set, "a");
    set.wait_control();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(set.path("data/ephitup.sock")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let second = Command::new(ephitup()).args(["up", "--file"]).arg(set.config()).output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another ephitup is running"), "{err}");
    // The first one is untouched.
    assert!(set.status_pid("a").is_some());
}

#[test]
fn socket_override_by_flag_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ctl.sock");
    let set =
        Set::up_in(dir, "[services.a]\ncommand = \"sleep 1000\"\n", &[("EPHITUP_SOCKET", socket.to_str().unwrap())]);
    wait_started(&set, "a");
    eventually("the socket", || socket.exists());
    let out = Command::new(ephitup()).args(["status", "--socket"]).arg(&socket).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(ephitup()).arg("status").env("EPHITUP_SOCKET", &socket).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let code = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (code, body)
}

#[test]
fn http_listener_serves_health_and_status_page() {
    let port = free_port();
    let set = Set::up(&format!(
        r#"[settings]
log_format = "json"
http = "127.0.0.1:{port}"
[services.gate]
command = ["sh", "-c", "while [ ! -e ready ]; do sleep 0.05; done; echo ready now; exec sleep 1000"]
critical = true
health = {{ log = "ready now" }}
"#
    ));
    wait_started(&set, "gate");
    set.wait_control();
    assert_eq!(http_get(port, "/healthz").0, 200);
    assert_eq!(http_get(port, "/readyz").0, 503);
    touch(&set.path("ready"));
    set.wait_state("gate", "running");
    assert_eq!(http_get(port, "/readyz").0, 200);
    let (code, page) = http_get(port, "/");
    assert_eq!(code, 200);
    assert!(page.contains("<svg") && page.contains("gate") && page.contains("healthy"), "{page}");
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"), "no external assets");
    // Control actions are not on the public listener.
    assert_eq!(http_get(port, "/logs").0, 404);
}
