#!/usr/bin/env bash
# Loading hostile configuration files: `ephitup check` on each file that once crashed, hung or
# slowed the loader (issue 13), against two floors measured in the same run: a one-service file
# (process start-up and the smallest parse) and a valid file of about the same size (1 MiB of
# plain services). Every hostile file must be refused (exit 2); the figures are the median of
# BENCH_ROUNDS runs each (wall time and the child's CPU time), and the ratios of CPU time
# against the same-size floor.
#
# Usage (from the repository root):   bash scripts/bench/config-load.sh
# Knobs: BENCH_ROUNDS (5); EPHITUP_BIN (default: the dev build, built here).
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-5}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ephitup/target}
if [[ -z ${EPHITUP_BIN:-} ]]; then
    (cd "$REPO" && cargo build -p ephitup --bin ephitup) >&2
    EPHITUP_BIN=$CARGO_TARGET_DIR/debug/ephitup
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ephitup-config-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

python3 - "$EPHITUP_BIN" "$WORK" "$ROUNDS" <<'PY'
import os, resource, statistics, subprocess, sys, time

exe, work, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
MiB = 1 << 20

def services(n, extra=lambda i: ""):
    return "".join(f'[services.s{i}]\ncommand = "x"\n{extra(i)}' for i in range(n))

files = {
    "floor: one service": (b'[services.a]\ncommand = "x"\n', 0),
    "floor: 1 MiB of valid services": (services(30000).encode()[:MiB].rsplit(b"[services.", 1)[0], 0),
    "${X:-...} nested 100,000 deep": (('[services.a]\ncommand = "' + "${X:-" * 100000 + "x" + "}" * 100000 + '"\n').encode(), 2),
    "10,000 unknown dependencies": (services(10000, lambda i: f'depends_on = ["missing{i}"]\n').encode(), 2),
    "a 5,000-service dependency cycle": (services(5000, lambda i: f'depends_on = ["s{(i + 1) % 5000}"]\n').encode(), 2),
    "dotted key 100,000 deep": (("a" + ".a" * 100000 + " = 1\n").encode(), 2),
    "array 100,000 deep": (("a = " + "[" * 100000 + "]" * 100000 + "\n").encode(), 2),
    "20,000 oversized durations": (services(20000, lambda i: 'stop_timeout = "18446744073709551615s"\n').encode()[:MiB].rsplit(b"[services.", 1)[0], 2),
}

def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def run(path):
    t, c = time.perf_counter(), cpu()
    p = subprocess.run([exe, "check", "-f", path], capture_output=True)
    return time.perf_counter() - t, cpu() - c, p.returncode, len(p.stderr)

results = {}
for name, (text, expected) in files.items():
    path = os.path.join(work, "ephitup.toml")
    with open(path, "wb") as f:
        f.write(text)
    times, cpus = [], []
    for _ in range(rounds):
        dt, dc, code, err_len = run(path)
        if code != expected:
            sys.exit(f"{name}: exit {code}, expected {expected}")
        times.append(dt)
        cpus.append(dc)
    results[name] = (statistics.median(times), statistics.median(cpus), len(text), err_len)

_, same_size, _, _ = results["floor: 1 MiB of valid services"]
print(f"ephitup check, median of {rounds} runs (wall and CPU time: CPU is what a loaded machine")
print("does not blur); ratio of CPU time against the 1 MiB valid file")
print(f"{'file':36} {'size':>9} {'stderr':>8} {'wall ms':>8} {'CPU ms':>8} {'ratio':>6}")
for name, (t, c, size, err_len) in results.items():
    print(f"{name:36} {size:9} {err_len:8} {t * 1000:8.1f} {c * 1000:8.1f} {c / same_size:6.2f}")
PY
