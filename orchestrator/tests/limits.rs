//! Memory limits (`limits = { memory = ... }`): over the limit, a service is stopped and
//! restarted by its policy, with an event naming the limit; by the kernel (a child cgroup of
//! ephitup's own) where its cgroup is writable, else (or with `EPHITUP_MEMORY_LIMITS=sample`)
//! by sampling the memory the group holds (its RSS without file-backed pages). A service under
//! its limit is left alone.

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

/// A service whose resident memory is mostly a mapped file: 64 MiB read through `mmap`.
const MAPPER: &str = r#"
[services.mapper]
command = ["python3", "-c", "import mmap, time; f = open('mapped.bin', 'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ); s = sum(m[i] for i in range(0, len(m), 4096)); print('mapped', s, flush=True); time.sleep(1000)"]
limits = { memory = "48MiB" }
"#;

#[test]
fn sampling_does_not_count_pages_the_kernel_could_drop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mapped.bin"), vec![1u8; 64 << 20]).unwrap();
    let set = Set::up_in(dir, &format!("{HOG}{MAPPER}"), &[("EPHITUP_MEMORY_LIMITS", "sample")]);
    set.wait_line("mapper", "mapped");
    // The file's pages are resident: counting RSS, the mapper would be over its limit.
    let resident = instance(&set.status(), "mapper")["memory_bytes"].as_u64().unwrap();
    assert!(resident > 48 << 20, "{resident} bytes resident");
    // Two more stops of the hog: the sampler has looked at the mapper since it mapped the file.
    let hog_starts = || set.events("hog").iter().filter(|v| is_start(v, "hog")).count();
    let before = hog_starts();
    eventually("two more hog restarts", || hog_starts() >= before + 2);
    let mapper = instance(&set.status(), "mapper");
    assert_eq!(mapper["restarts"], 0, "{mapper}");
    assert_eq!(mapper["state"], "running", "{mapper}");
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
