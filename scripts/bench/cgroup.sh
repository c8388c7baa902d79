#!/usr/bin/env bash
# The whole stack in a 512 MB memory cgroup under the flood: `ephitup up` (root ephitup.toml)
# runs inside a new memory cgroup (v2 if its memory controller is available, else v1) and in
# its own cgroup and mount namespaces, where the cgroup's limit is what /sys/fs/cgroup shows —
# as in a container, so SurrealDB sizes its RocksDB caches from it. Then BENCH_FLOOD (60s) of
# 128 clients through the proxy (half note writes, half GET /api/health; ephitup-loadgen
# --flood, outside the cgroup; a client answered 503 waits its Retry-After, as HTTP asks,
# unless BENCH_IGNORE_RETRY_AFTER=1), and it reports: each service's resident memory idle and at
# its peak (sampled every 250 ms, and VmHWM), the cgroup's peak, OOM kills, service restarts,
# and the flood's answers by status. Needs root.
#
# Usage (from the repository root): sudo bash scripts/bench/cgroup.sh
# Knobs: BENCH_PROFILE (release; `dev`), BENCH_MEMORY (512M), BENCH_FLOOD (60s), BENCH_CLIENTS (128),
#        BENCH_IGNORE_RETRY_AFTER (0; 1: clients send again at once after a 503).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
source scripts/lib/bench.sh
bench_build
limit=$(numfmt --from=iec "${BENCH_MEMORY:-512M}")

if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  cg=/sys/fs/cgroup/ephitup-bench-$$; mkdir "$cg"
  echo "$limit" >"$cg/memory.max"; echo 0 >"$cg/memory.swap.max" 2>/dev/null || true
  remount="mount -t cgroup2 none /sys/fs/cgroup"
  oom() { awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events"; }
  peak() { cat "$cg/memory.peak" 2>/dev/null || echo 0; }
else
  cg=/sys/fs/cgroup/memory/ephitup-bench-$$; mkdir "$cg"
  echo "$limit" >"$cg/memory.limit_in_bytes"
  echo "$limit" >"$cg/memory.memsw.limit_in_bytes" 2>/dev/null || true
  # The host's hierarchy is mounted there already (busy): unmounted in the new namespace first.
  remount="umount /sys/fs/cgroup/memory 2>/dev/null; mount -t cgroup -o memory none /sys/fs/cgroup/memory"
  oom() { awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control"; }
  peak() { cat "$cg/memory.max_usage_in_bytes"; }
fi

data=$(mktemp -d)
export DATA_PATH="$data" SURREAL_PORT=$(free_port) API_PORT=$(free_port) PORT=$(free_port)
export SURREAL_URL="ws://127.0.0.1:$SURREAL_PORT" SURREAL_USER=root SURREAL_PASSWORD=root EPHITUP_LOG_FORMAT=json
export PATH="$bin:$PATH"
# Join the cgroup, then new cgroup + mount namespaces with the cgroup file system mounted
# afresh: inside, the limit is the root's.
bash -c "echo \$\$ >'$cg/cgroup.procs' && exec unshare --cgroup --mount bash -c '$remount && exec \"$bin/ephitup\" up -f ephitup.toml'" \
  >"$data/ephitup.log" 2>&1 &
stack=$!
sampler=
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  kill -TERM "$stack" 2>/dev/null || true; wait "$stack" 2>/dev/null || true
  for _ in $(seq 100); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.1; done
  rmdir "$cg" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1200); do
  curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break
  kill -0 "$stack" 2>/dev/null || { cat "$data/ephitup.log" >&2; exit 1; }
  sleep 0.1
done
sleep 2 # settle after start-up (idle figures)

# name pid rss_kb hwm_kb for every process of the cgroup and of the cgroups ephitup made
# inside it (one per service with a memory limit)
procs() {
  for pid in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do
    awk -v pid="$pid" '$1 == "Name:" { n = $2 } $1 == "VmRSS:" { r = $2 } $1 == "VmHWM:" { h = $2 } END { if (n) print n, pid, r, h }' "/proc/$pid/status" 2>/dev/null || true
  done
}
procs >"$data/idle"
(while true; do procs >>"$data/samples"; sleep 0.25; done) &
sampler=$!
restarts() {
  "$bin/ephitup" status -f ephitup.toml --json | python3 -c '
import json, sys
print(" ".join("%s=%d" % (s["name"], sum(i["restarts"] for i in s["instances"])) for s in json.load(sys.stdin)["services"]))'
}
before=$(restarts || echo "?")
"$bin/ephitup-loadgen" --api "http://127.0.0.1:$PORT" --concurrency "${BENCH_CLIENTS:-128}" --flood "${BENCH_FLOOD:-60s}" \
  $([ "${BENCH_IGNORE_RETRY_AFTER:-0}" = 1 ] && echo --flood-ignore-retry-after) >"$data/flood"
after=$(restarts || echo "?")
procs >"$data/end"
kill "$sampler"; sampler=

echo "profile: $profile; $(nproc) cores; memory cgroup $(basename "$(dirname "$cg")" | sed 's/^fs$/v2/;s/^memory$/v1/') limit ${BENCH_MEMORY:-512M}"
echo
echo "| service process | idle RSS MB | peak RSS MB (sampled) | peak RSS MB (VmHWM) |"
echo "|---|---|---|---|"
python3 - "$data/idle" "$data/samples" "$data/end" <<'PY'
import sys, collections
def rows(path):
    out = []
    for line in open(path):
        parts = line.split()
        if len(parts) == 4 and parts[2].isdigit():
            out.append((parts[0], parts[1], int(parts[2]), int(parts[3])))
    return out
idle = collections.defaultdict(int); peak = collections.defaultdict(int); hwm = collections.defaultdict(int)
for name, pid, rss, _ in rows(sys.argv[1]): idle[name] += rss
by_time = collections.defaultdict(lambda: collections.defaultdict(int))
for name, pid, rss, h in rows(sys.argv[2]) + rows(sys.argv[3]):
    peak[name] = max(peak[name], rss); hwm[name] = max(hwm[name], h)
for name in sorted(set(idle) | set(peak)):
    print(f"| {name} | {idle[name] / 1024:.1f} | {peak[name] / 1024:.1f} | {hwm[name] / 1024:.1f} |")
PY
echo
echo "cgroup peak: $(( $(peak) / 1048576 )) MB of $(( limit / 1048576 )) MB; OOM kills: $(oom)"
echo "restarts before the flood: $before; after: $after"
echo
cat "$data/flood"
