#!/usr/bin/env bash
# The worker's queue: pickup latency and no-op throughput, with duplicates checked.
#
# Usage (from the repository root):   bash scripts/bench/worker.sh
#
# A real ephitup-db (temp dir, free port), migrated by `ephitup-api migrate`, and real
# `ephitup-worker` processes started with `--test-jobs` (they then also take `noop` jobs,
# which do nothing: what is measured is the queue itself).
#
#   1. Pickup latency: one idle worker (poll interval 5 s, so pickups come from the live
#      query); BENCH_PICKUPS jobs queued one at a time, each after the previous completed.
#      Latency = the job's `heartbeat` (set by the claim) minus its `created`, both
#      database-side timestamps. p50, p99, max. Peer run in the same script: the same with a
#      worker that only polls (`--no-live-query --poll-interval 200ms`), to show what the
#      live query buys against polling.
#   2. Throughput: BENCH_JOBS no-op jobs queued while no worker runs, then 1 worker, then
#      (another batch) 3 workers, each with `--max-tasks 5`. Jobs/s = jobs / (last
#      completion - first claim), database-side. The 3-vs-1 ratio is the figure.
#   3. Duplicates: every job of every run must be `completed` with `attempts = 1` and
#      appear exactly once as `running job <id> (` across all workers' logs.
#
# Knobs: BENCH_PICKUPS (200), BENCH_JOBS (500), BENCH_KEEP=1 keeps the temp dir.
# Binaries: target/debug by default (scripts/setup builds them; this script does not build); BENCH_PROFILE=release uses
# target/release (build it first: cargo build --release -p ephitup-db -p ephitup-api -p ephitup-worker).
# Only processes started by this script are ever signalled (by pid).

set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ephitup/target}
PROFILE=${BENCH_PROFILE:-debug}
BIN=$CARGO_TARGET_DIR/$PROFILE
# Not built here: building these three together changes SurrealDB's features and rebuilds it.
for b in ephitup-db ephitup-api ephitup-worker; do
    [[ -x $BIN/$b ]] || { echo "missing $BIN/$b: run scripts/setup (or cargo build -p $b)" >&2; exit 1; }
done
export BENCH_BIN=$BIN BENCH_PICKUPS=${BENCH_PICKUPS:-200} BENCH_JOBS=${BENCH_JOBS:-500} BENCH_KEEP=${BENCH_KEEP:-0}
exec python3 - <<'PY'
import base64, json, os, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

BIN = os.environ["BENCH_BIN"]
PICKUPS, JOBS = int(os.environ["BENCH_PICKUPS"]), int(os.environ["BENCH_JOBS"])
tmp = tempfile.mkdtemp(prefix="ephitup-bench-worker-")
procs = []

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

port = free_port()
env = dict(os.environ, SURREAL_URL=f"ws://127.0.0.1:{port}", SURREAL_USER="root", SURREAL_PASSWORD="bench",
           SURREAL_NAMESPACE="bench", SURREAL_DATABASE="bench", DATA_PATH=tmp, FERNET_SECRET_KEY="bench", RUST_LOG="info")
env.pop("OPENAI_API_KEY", None)

def sql(query):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/sql", data=query.encode(), method="POST", headers={
        "Accept": "application/json", "Surreal-NS": "bench", "Surreal-DB": "bench",
        "Authorization": "Basic " + base64.b64encode(b"root:bench").decode()})
    out = json.load(urllib.request.urlopen(req, timeout=60))
    for r in out:
        if r.get("status") != "OK":
            raise SystemExit(f"query failed: {r}")
    return out[-1]["result"]

def wait(pred, timeout, what, pause=0.005):
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(pause)

def start_worker(name, *args):
    log = open(os.path.join(tmp, f"{name}.log"), "w")
    p = subprocess.Popen([f"{BIN}/ephitup-worker", "--test-jobs", "--max-tasks", "5", *args],
                         env=dict(env, WORKER_ID=name), stdout=subprocess.DEVNULL, stderr=log)
    procs.append(p)
    path = os.path.join(tmp, f"{name}.log")
    wait(lambda: "ready:" in open(path).read(), 60, f"worker {name} ready")
    return p, path

def stop(p):
    p.send_signal(signal.SIGTERM); p.wait(timeout=30); procs.remove(p)

try:
    db = subprocess.Popen([f"{BIN}/ephitup-db", "start", "--bind", f"127.0.0.1:{port}", "--log", "warn",
                           f"rocksdb:{tmp}/db"], env=dict(env, SURREAL_USER="root", SURREAL_PASS="bench"),
                          stdout=subprocess.DEVNULL)
    procs.append(db)
    def ready():
        try: return urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1).status == 200
        except Exception: return False
    wait(ready, 60, "the database")
    subprocess.run([f"{BIN}/ephitup-api", "migrate"], env=env, check=True, stderr=subprocess.DEVNULL)
    owner = sql("CREATE ONLY user SET email = 'bench@example.com', password_hash = 'x' RETURN VALUE <string> id;")
    logs = []

    def enqueue(n):
        return sql(f"RETURN (FOR $i IN 1..={n} {{ CREATE command SET app = 'bench', name = 'noop', args = {{}}, "
                   f"status = 'new', owner = {owner}; }}); SELECT VALUE <string> id FROM command WHERE app = 'bench' "
                   "AND status = 'new';")

    def pickup(label, *args):
        p, path = start_worker(label, *args)
        logs.append(path)
        ids = []
        for _ in range(PICKUPS):
            jid = sql(f"RETURN <string> (CREATE ONLY command SET app = 'bench-pickup', name = 'noop', args = {{}}, "
                      f"status = 'new', owner = {owner}).id;")
            ids.append(jid)
            wait(lambda: sql(f"RETURN {jid}.status;") == "completed", 30, f"job {jid}")
        stop(p)
        ms = sql("SELECT VALUE duration::millis(heartbeat - created) FROM command WHERE app = 'bench-pickup' "
                 f"AND <string> id IN {json.dumps(ids)};")
        sql("UPDATE command SET app = 'bench-pickup-done' WHERE app = 'bench-pickup';")
        ms.sort()
        q = lambda f: ms[min(len(ms) - 1, int(f * len(ms)))]
        print(f"pickup ({label}): n={len(ms)} p50={q(0.5)} ms p99={q(0.99)} ms max={ms[-1]} ms", flush=True)
        return q(0.5), q(0.99)

    live = pickup("live", "--poll-interval", "5s")
    poll = pickup("poll-200ms", "--no-live-query", "--poll-interval", "200ms")

    def throughput(n_workers):
        sql("UPDATE command SET app = 'bench-done' WHERE app = 'bench';")
        ids = enqueue(JOBS)
        ws = [start_worker(f"t{n_workers}-{i}") for i in range(n_workers)]
        logs.extend(path for _, path in ws)
        wait(lambda: sql("RETURN count(SELECT id FROM command WHERE app = 'bench' AND status = 'completed');") == JOBS,
             600, "the batch", pause=0.2)  # a count is a scan: not too often, it loads the database
        for p, _ in ws:
            stop(p)
        span = sql("RETURN duration::millis(time::max(SELECT VALUE updated FROM command WHERE app = 'bench') - "
                   "time::min(SELECT VALUE heartbeat FROM command WHERE app = 'bench'));")
        rate = JOBS / (span / 1000)
        print(f"throughput ({n_workers} worker{'s' if n_workers > 1 else ''}): {JOBS} jobs in {span} ms = {rate:.0f} jobs/s", flush=True)
        return ids, rate

    ids1, r1 = throughput(1)
    ids3, r3 = throughput(3)
    text = "".join(open(p).read() for p in logs)
    bad = [j for j in ids1 + ids3 if text.count(f"running job {j} (") != 1]
    retried = sql("RETURN count(SELECT id FROM command WHERE name = 'noop' AND (attempts != 1 OR status != 'completed'));")
    print(f"duplicates or misses: {len(bad)}; jobs not completed exactly once: {retried}")
    print(f"summary: pickup p50 {live[0]} ms / p99 {live[1]} ms (live query) vs {poll[0]} / {poll[1]} ms "
          f"(200 ms polling); throughput 1 worker {r1:.0f}/s, 3 workers {r3:.0f}/s, ratio {r3 / r1:.2f}")
    if bad or retried:
        sys.exit(1)
finally:
    for p in reversed(procs):
        try: p.send_signal(signal.SIGTERM); p.wait(timeout=30)
        except Exception: p.kill()
    if os.environ.get("BENCH_KEEP") != "1":
        subprocess.run(["rm", "-rf", tmp])
    else:
        print(f"kept {tmp}")
PY
