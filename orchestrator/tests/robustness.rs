//! No file crashes, hangs or slows `check`, `up` or a live reload: each hostile file (found by
//! fuzzing the loader) is refused with exit 2 and a file:line:col location, and saved into a
//! running `up` it changes nothing: the running service keeps its process, and the set still
//! stops cleanly afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::process::Command;

use nix::sys::signal::Signal;
use support::*;

/// Hostile files: (what, bytes, the `line:col: key` that must be named). Built here rather than
/// committed: several are near 1 MiB.
fn hostile() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let service = |extra: &str| format!("[services.a]\ncommand = \"sleep 1000\"\n{extra}\n").into_bytes();
    let mut unknown = String::new();
    for i in 0..10_000 {
        unknown.push_str(&format!("[services.s{i}]\ncommand = \"x\"\ndepends_on = [\"missing{i}\"]\n"));
    }
    vec![
        (
            "${X:-...} nested 100,000 deep",
            format!("[services.a]\ncommand = \"{}x{}\"\n", "${X:-".repeat(100_000), "}".repeat(100_000)).into_bytes(),
            ":2:11: `services.a.command`",
        ),
        (
            "a duration that overflows an Instant",
            service("stop_timeout = \"18446744073709551615s\""),
            ":3:16: `services.a.stop_timeout`",
        ),
        ("a size past any bound", service("log = { max_size = \"99999999999999999999999MB\" }"), ":3:20:"),
        ("invalid UTF-8", b"[services.a]\ncommand = \"sleep \xff\"\n".to_vec(), ":2:18: not UTF-8"),
        (
            "the TOML recursion limit",
            format!("[services.a]\ncommand = \"x\"\n{} = 1\n", vec!["a"; 100_000].join(".")).into_bytes(),
            ":3:",
        ),
        ("port 0 in an http probe", service("health = { http = \"http://127.0.0.1:0/\" }"), ":3:19:"),
        ("port 65536 in a tcp probe", service("health = { tcp = \"127.0.0.1:65536\" }"), ":3:18:"),
        (
            "a NUL byte in argv",
            b"[services.a]\ncommand = [\"sleep\", \"1\\u0000000\"]\n".to_vec(),
            ":2:11: `services.a.command`",
        ),
        ("a NUL byte in env", service("env = { A = \"\\u0000\" }"), ":3:13: `services.a.env.A`"),
        ("a missing cwd", service("cwd = \"no/such/dir\""), ":3:7: `services.a.cwd`"),
        ("a data_dir that is a file", b"[settings]\ndata_dir = \"ephitup.toml\"\n".to_vec(), ":2:12:"),
        (
            "10,000 services with unknown dependencies",
            unknown.into_bytes(),
            ":3:14: `services.s0.depends_on.missing0`: unknown service `missing0` (10000 declared",
        ),
    ]
}

fn run(verb: &str, dir: &std::path::Path, bytes: &[u8]) -> (Option<i32>, String) {
    let path = dir.join("ephitup.toml");
    std::fs::write(&path, bytes).expect("write");
    let out = Command::new(ephitup()).args([verb, "-f"]).arg(&path).current_dir(dir).output().expect("run");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn check_and_up_refuse_each_hostile_file_with_exit_2_and_its_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ephitup.toml");
    for (what, bytes, location) in hostile() {
        for verb in ["check", "up"] {
            let (code, stderr) = run(verb, dir.path(), &bytes);
            let head: String = stderr.chars().take(400).collect();
            assert_eq!(code, Some(2), "{verb}, {what}: {head}");
            assert!(stderr.starts_with(&format!("error: {}:", file.display())), "{verb}, {what}: {head}");
            assert!(stderr.contains(location), "{verb}, {what}: expected {location:?} in {head}");
            assert!(stderr.len() < 100_000, "{verb}, {what}: {} bytes of errors", stderr.len());
            if verb == "up" {
                assert!(stderr.contains("nothing was started"), "{what}: {head}");
            }
        }
    }
}

#[test]
fn a_hostile_file_saved_into_a_running_set_changes_nothing() {
    let mut set = Set::up("[services.a]\ncommand = \"sleep 1000\"\n");
    let a = wait_started(&set, "a");
    set.wait_control();
    for (what, bytes, location) in hostile() {
        let mark = set.mark();
        let tmp = set.path(".ephitup.toml.swp");
        std::fs::write(&tmp, &bytes).expect("write");
        std::fs::rename(&tmp, set.config()).expect("rename");
        let error = set.wait_after(mark, what, |v| v["level"] == "ERROR" && message(v).starts_with("reload:"));
        let text = message(&error);
        assert!(
            text.contains("nothing changed") && text.contains(location),
            "{what}: {}",
            &text[..text.len().min(400)]
        );
        assert!(alive(a), "{what}: the service died");
        assert_eq!(pid_of_a(&set), Some(a as i64), "{what}");
    }
    // The set still stops cleanly (a huge stop_timeout once made this panic).
    set.signal(Signal::SIGTERM);
    assert_eq!(set.wait_exit(), Some(0), "{}", set.transcript());
    assert!(!alive(a));
}

/// The pid of `a` by `ephitup status`, through the socket (the file in place is the broken one).
fn pid_of_a(set: &Set) -> Option<i64> {
    let socket = set.path("data/ephitup.sock");
    let (code, out, err) = set.ctl("status", &["--json", "--socket", socket.to_str().expect("utf-8 path")]);
    assert_eq!(code, Some(0), "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("status JSON");
    status["services"][0]["instances"][0]["pid"].as_i64()
}
