#!/usr/bin/env bash
# Stack start-up: time from `ephitup up` (root ephitup.toml) to `migrate` completed, on an
# empty data directory and on an up-to-date one, median of RUNS each. Side by side, the same
# two programs started by a plain shell script (the database, a poll of `isready` every
# 50 ms, then the migrations): what the dependency gating of a supervisord setup would have
# to be hand-written as. The ratio is ephitup's time over the script's.
#
# Usage (from the repository root): bash scripts/bench/startup.sh
# Knobs: BENCH_RUNS (5). Builds the dev profile (what scripts/up and the tests run).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
cargo build --workspace --locked >&2
BIN="$CARGO_TARGET_DIR/debug"
RUNS=${BENCH_RUNS:-5} BIN="$BIN" exec python3 - <<'PY'
import json, os, socket, statistics, subprocess, tempfile, time, signal

BIN = os.environ["BIN"]
RUNS = int(os.environ["RUNS"])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def ephitup_run(data, port):
    env = dict(os.environ, DATA_PATH=data, SURREAL_PORT=str(port), EPHITUP_LOG_FORMAT="json")
    t0 = time.monotonic()
    p = subprocess.Popen([f"{BIN}/ephitup", "up", "-f", "ephitup.toml"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    elapsed = None
    for line in p.stdout:
        try:
            v = json.loads(line)
        except ValueError:
            continue
        if v.get("service") == "migrate" and v.get("state") in ("completed", "failed"):
            if v["state"] != "completed":
                raise SystemExit(f"migrate failed: {v}")
            elapsed = time.monotonic() - t0
            break
    p.send_signal(signal.SIGTERM)
    for _ in p.stdout:
        pass
    p.wait()
    return elapsed

def script_run(data, port):
    env = dict(os.environ, SURREAL_USER="root", SURREAL_PASS="root", SURREAL_PASSWORD="root",
               SURREAL_URL=f"ws://127.0.0.1:{port}")
    t0 = time.monotonic()
    db = subprocess.Popen([f"{BIN}/ephitup-db", "start", "--bind", f"127.0.0.1:{port}", "--log", "warn",
                           f"rocksdb:{data}/mydatabase.db"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while subprocess.run([f"{BIN}/ephitup-db", "isready", "--endpoint", f"http://127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            time.sleep(0.05)
        subprocess.run([f"{BIN}/ephitup-api", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.monotonic() - t0
    finally:
        db.send_signal(signal.SIGINT)
        db.wait()

results = {}
for name, run in (("ephitup", ephitup_run), ("script", script_run)):
    empty, current = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as data:
            empty.append(run(data, free_port()))
            current.append(run(data, free_port()))
    results[name] = (statistics.median(empty), statistics.median(current))

print(f"{'start-up to migrate completed (median of %d)' % RUNS:48} {'ephitup':>9} {'script':>9} {'ratio':>7}")
for i, label in enumerate(("empty data dir (s)", "up-to-date data dir (s)")):
    e, s = results["ephitup"][i], results["script"][i]
    print(f"{label:48} {e:9.2f} {s:9.2f} {e / s:7.2f}")
PY
