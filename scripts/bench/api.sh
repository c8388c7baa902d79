#!/usr/bin/env bash
# API throughput and latency against its own floor. Starts the whole stack with `ephitup up`
# (root ephitup.toml) on a fresh data dir and free ports, then runs ephitup-loadgen: at
# concurrency 1, 16 and 128, for 10 s each, POST /api/notes (into an empty notebook and into
# one of 10,000 notes), GET /api/notebooks (a user with 50 notebooks), GET /api/notes of the
# 10,000-note notebook (one page of 50) and POST /api/sources/json through the API, and the
# very same store calls straight through the SurrealDB SDK (the floor). Reports requests/s,
# p50, p99, the API/floor ratios, the write cost at 10,000 notes ÷ at 0, and the login cost.
#
# Usage (from the repository root): bash scripts/bench/api.sh
# Knobs: BENCH_PROFILE (release; `dev` for a quick functional run), BENCH_DURATION (10s),
#        BENCH_CONCURRENCY (1,16,128), BENCH_NOTEBOOKS (50), BENCH_BIG (10000).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
source scripts/lib/bench.sh
bench_build

data=$(mktemp -d)
export DATA_PATH="$data" SURREAL_PORT=$(free_port) API_PORT=$(free_port) PORT=$(free_port)
export SURREAL_URL="ws://127.0.0.1:$SURREAL_PORT" SURREAL_USER=root SURREAL_PASSWORD=root
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
echo "profile: $profile; $(nproc) cores; $(uname -sr)"
"$bin/ephitup-loadgen" --api "http://127.0.0.1:$API_PORT" --duration "${BENCH_DURATION:-10s}" \
  --concurrency "${BENCH_CONCURRENCY:-1,16,128}" --notebooks "${BENCH_NOTEBOOKS:-50}" --big "${BENCH_BIG:-10000}"
