//! Memory limits (`limits = { memory = ... }`): over the limit, a service is stopped and
//! restarted by its policy, with an event naming the limit; by the kernel (a child cgroup of
//! ephitup's own) where its cgroup is writable, else (or with `EPHITUP_MEMORY_LIMITS=sample`)
//! by sampling the group's RSS. A service under its limit is left alone.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use support::*;

/// A service that takes 96 MiB (touched, so resident) in a 48 MiB limit, and one that idles
/// under its limit.
const HOG: &str = r#"
[services.hog]
command = ["python3", "-c", "import time; b = b'x' * (96 << 20); print('allocated', flush=True); time.sleep(1000)"]
limits = { memory = "48MiB" }
backoff = { initial = "10ms" }
max_restarts = 100

[services.calm]
command = ["sleep", "1000"]
limits = { memory = "64MiB" }
"#;

fn hog_restarted(set: &Set, reason: &str) {
    let first = wait_started(set, "hog");
    set.wait_event("hog", reason);
    set.wait_for("the hog restarted", |v| is_start(v, "hog") && started_pid(v) != first);
    eventually("the exit to name the limit", || {
        instance(&set.status(), "hog")["exit"]["reason"].as_str().is_some_and(|r| r.contains("memory limit 48 MiB"))
    });
    let calm = instance(&set.status(), "calm");
    assert_eq!(calm["restarts"], 0, "{calm}");
    assert_eq!(calm["state"], "running");
}

#[test]
fn sampling_stops_and_restarts_a_service_over_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let set = Set::up_in(dir, HOG, &[("EPHITUP_MEMORY_LIMITS", "sample")]);
    set.wait_for("the sampling notice", |v| message(v).contains("memory limits: sampled every 250ms"));
    hog_restarted(&set, "memory limit 48 MiB exceeded");
}

#[test]
fn the_kernel_enforces_a_limit_where_the_cgroup_is_writable() {
    let set = Set::up(HOG);
    let notice = set.wait_for("the enforcement notice", |v| message(v).starts_with("memory limits: "));
    if !message(&notice).contains("enforced by the kernel") {
        eprintln!("SKIPPED: no writable cgroup here ({})", message(&notice));
        return;
    }
    let root = message(&notice).rsplit_once(" under ").unwrap().1.trim_end_matches(')').to_string();
    hog_restarted(&set, "memory limit 48 MiB reached: the kernel killed");
    let ours = format!("ephitup-{}.hog.0", set.pid());
    assert!(std::path::Path::new(&root).join(&ours).is_dir(), "{root}/{ours}");

    let mut set = set;
    set.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(set.wait_exit(), Some(0));
    assert!(!std::path::Path::new(&root).join(&ours).exists(), "cgroup left behind: {root}/{ours}");
}

#[test]
fn limits_are_checked_when_the_file_loads() {
    let (code, _, err) = check("[services.a]\ncommand = \"true\"\nlimits = { memory = \"lots\" }\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("services.a.limits.memory") && err.contains("not a size"), "{err}");
    let (code, _, err) = check("[services.a]\ncommand = \"true\"\nlimits = { cpu = 1 }\n");
    assert_eq!(code, Some(2), "{err}");
}
