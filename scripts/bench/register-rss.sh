#!/usr/bin/env bash
# The API's peak memory under a burst of registrations. Starts the whole stack with
# `ephitup up` (root ephitup.toml) on a fresh data dir and free ports, registers one user, then
# sends 96 registrations at once straight to the API, each from an address of its own
# (`X-Forwarded-For` from loopback, a trusted proxy), so the per-address limit lets them all
# through and the cap on concurrent argon2id hashes is what bounds memory. Reports the API's
# VmHWM (peak resident set, /proc/<pid>/status) after start-up and one registration (the
# floor) and after the burst, their ratio, every status seen, and whether the API restarted.
#
# Usage (from the repository root): bash scripts/bench/register-rss.sh
# Knobs: BENCH_PROFILE (dev; `release` builds the release profile), BENCH_BURST (96).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
source scripts/lib/bench.sh
bench_build dev

data=$(mktemp -d)
export DATA_PATH="$data" SURREAL_PORT=$(free_port) API_PORT=$(free_port) PORT=$(free_port)
export EPHITUP_LOG_FORMAT=json
"$bin/ephitup" up -f ephitup.toml >"$data/ephitup.log" 2>&1 &
stack=$!
cleanup() { kill -TERM "$stack" 2>/dev/null || true; wait "$stack" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 600); do
  curl -fsS "http://127.0.0.1:$API_PORT/api/health" >/dev/null 2>&1 && break
  kill -0 "$stack" 2>/dev/null || { cat "$data/ephitup.log" >&2; exit 1; }
  sleep 0.1
done
status() { "$bin/ephitup" status -f ephitup.toml --json; }
echo "profile: $profile; $(nproc) cores; $(uname -sr)"
API_PORT="$API_PORT" BURST="${BENCH_BURST:-96}" STATUS="$(status)" python3 - "$bin/ephitup" <<'PY'
import concurrent.futures, json, os, subprocess, sys, urllib.error, urllib.request

port, burst = int(os.environ["API_PORT"]), int(os.environ["BURST"])

def api_instance(status):
    service = next(s for s in status["services"] if s["name"] == "api")
    return service["instances"][0]

def hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        line = next(l for l in f if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

def register(i):
    body = json.dumps({"email": f"burst{i}@example.com", "password": "Str0ng!pass"}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/auth/register", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "X-Forwarded-For": f"198.18.{i // 250}.{i % 250 + 1}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code

before = api_instance(json.loads(os.environ["STATUS"]))
pid = before["pid"]
register(10_000)
floor = hwm_mib(pid)
with concurrent.futures.ThreadPoolExecutor(max_workers=burst) as pool:
    statuses = list(pool.map(register, range(burst)))
peak = hwm_mib(pid)
after = api_instance(json.loads(subprocess.run([sys.argv[1], "status", "-f", "ephitup.toml", "--json"],
                                               capture_output=True, text=True, check=True).stdout))
counts = {s: statuses.count(s) for s in sorted(set(statuses))}
print(f"registrations at once: {burst}; statuses: {counts}")
print(f"API VmHWM after one registration (floor): {floor:.0f} MiB")
print(f"API VmHWM after the burst:                {peak:.0f} MiB (ratio {peak / floor:.2f})")
print(f"API restarts: {after['restarts'] - before['restarts']} (pid {pid} -> {after['pid']})")
ok = all(s < 500 for s in statuses) and after["pid"] == pid and peak <= 300
print("PASS" if ok else "FAIL", "(no 5xx, no restart, peak <= 300 MiB)")
sys.exit(0 if ok else 1)
PY
