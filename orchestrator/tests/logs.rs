//! Service output: every line relayed whole and in order, long and partial lines handled, a
//! flood from one service not delaying another's lines, and the pretty `name | ` prefix.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::*;

#[test]
fn every_line_of_a_burst_arrives_whole_and_in_order() {
    let mut set = Set::up(
        r#"
[services.burst]
command = ["seq", "1", "200000"]
restart = "never"
"#,
    );
    assert_eq!(set.wait_exit(), Some(0), "the set ends when its only service completes");
    let lines = set.lines("burst");
    assert_eq!(lines.len(), 200_000, "lines lost or split");
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line, &(i + 1).to_string(), "line {i} out of order or split");
    }
}

#[test]
fn long_lines_are_relayed_in_pieces_and_partial_lines_are_flushed() {
    let set = Set::up(
        r#"
[services.long]
command = ["sh", "-c", '''head -c 150000 /dev/zero | tr '\0' x; echo; printf 'enter password: '; exec sleep 1000''']
log = { max_line = "64KiB" }
"#,
    );
    set.wait_line("long", "enter password: ");
    let pieces: Vec<_> =
        set.records().into_iter().filter(|v| v["service"] == "long" && v["stream"] == "stdout").collect();
    let sizes: Vec<usize> = pieces.iter().map(|v| message(v).len()).collect();
    assert_eq!(sizes[..3], [65536, 65536, 150000 - 2 * 65536], "{sizes:?}");
    assert_eq!(pieces[0]["partial"], true);
    assert!(pieces[2]["partial"].is_null(), "the last piece ends the line");
    assert!(pieces.iter().take(3).all(|v| message(v).bytes().all(|b| b == b'x')));
}

#[test]
fn stderr_is_relayed_as_stderr() {
    let set = Set::up(
        r#"
[services.err]
command = ["sh", "-c", "echo oops >&2; exec sleep 1000"]
"#,
    );
    let line = set.wait_line("err", "oops");
    assert_eq!(line["stream"], "stderr");
}

#[test]
fn per_service_log_files_receive_the_plain_lines() {
    let set = Set::up(
        r#"
[services.app]
command = ["sh", "-c", "echo one; echo two; exec sleep 1000"]
log = { file = "logs/app.log" }
"#,
    );
    set.wait_line("app", "two");
    eventually("the log file to hold both lines", || {
        std::fs::read_to_string(set.path("logs/app.log")).is_ok_and(|s| s == "one\ntwo\n")
    });
}

/// A service writing as fast as it can must not hold back another service's line by more
/// than a bounded amount of its own output (the sink's 4 MiB budget, the 1 MiB pipe, the
/// read buffers and a chunk or two). Without fair scheduling the quiet line would wait behind
/// the whole flood; with a relay that does not yield between chunks, behind 16 MiB of it (the
/// flood's relay running on for tokio's whole cooperative budget).
///
/// The quiet service's own reaction time is kept out of the figure: the test stops reading
/// while the quiet line is written (ephitup's output is then full, so the flood is held back
/// too), and counts flood bytes only from when the line is known to be in ephitup's hands.
#[test]
fn a_flood_does_not_delay_another_services_lines() {
    const BOUND: u64 = 8 << 20;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ephitup.toml"),
        r#"
[settings]
log_format = "pretty"
log_color = "never"

[services.flood]
command = ["yes", "flood flood flood flood flood flood flood flood flood flood flood"]

[services.quiet]
command = ["sh", "-c", '''i=0; while true; do if [ -f ping ]; then rm ping; echo "pong $i"; touch ponged; i=$((i+1)); fi; sleep 0.01; done''']
"#,
    )
    .expect("config");
    let mut child = Stopped(
        Command::new(ephitup())
            .args(["up", "-f", "ephitup.toml"])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let mut out = BufReader::with_capacity(1 << 16, child.0.stdout.take().expect("stdout"));
    let ponged = dir.path().join("ponged");
    let mut line = Vec::new();
    let mut flood_bytes: u64 = 0;
    let mut ping_at: Option<u64> = None;
    let mut pongs = 0;
    let mut worst = 0;
    while pongs < 3 {
        line.clear();
        let n = out.read_until(b'\n', &mut line).expect("read");
        assert!(n > 0, "ephitup stopped writing");
        if line.starts_with(b"flood   | ") {
            assert_eq!(
                &line[10..],
                b"flood flood flood flood flood flood flood flood flood flood flood\n",
                "a split line"
            );
            flood_bytes += n as u64;
        } else if line.starts_with(b"quiet   | pong") {
            let waited = flood_bytes - ping_at.take().expect("a pong answers a ping");
            worst = worst.max(waited);
            pongs += 1;
        }
        if ping_at.is_none() && flood_bytes > (pongs as u64 + 1) * (8 << 20) {
            // Not reading: the quiet line is written into its pipe while the flood waits.
            touch(&dir.path().join("ping"));
            eventually("the quiet service to write its line", || ponged.exists());
            std::fs::remove_file(&ponged).expect("remove ponged");
            ping_at = Some(flood_bytes);
        }
        assert!(
            ping_at.is_none_or(|at| flood_bytes - at < BOUND),
            "quiet line held back by over {BOUND} bytes of flood"
        );
    }
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.0.id() as i32), nix::sys::signal::Signal::SIGTERM);
    // Keep draining so ephitup can write its last lines and exit.
    std::io::copy(&mut out, &mut std::io::sink()).expect("drain");
    assert!(child.0.wait().expect("wait").success());
    eprintln!("worst flood bytes ahead of a quiet line: {worst}");
}

/// An `ephitup` the test started, killed (with its flood) if the test fails before it stops it.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
