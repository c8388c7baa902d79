#!/usr/bin/env bash
# Chat, search and embedding figures (issue 16) against their floors. Starts `ephitup-fake-ai`
# (the stand-in OpenAI-compatible provider: streamed answers with BENCH_STREAM_DELAY_MS before
# each piece, BENCH_DIM-dimensional embeddings) and the whole stack with `ephitup up` (root
# ephitup.toml) on a fresh data dir and free ports, then `ephitup-loadgen --chat-search`:
# a 10,000-note notebook plus one large source; the worker's rebuild of the notes' embeddings
# and `POST /api/embed` of the source against the same texts sent straight to the stand-in;
# text and vector `POST /api/search` over those chunks against the store's own search call;
# chat time to first token through the public proxy against the stand-in's own (in a small
# notebook, in a session of BENCH_HISTORY earlier messages, in a notebook of 500 notes, and in
# the big notebook).
#
# Usage (from the repository root): bash scripts/bench/chat-search.sh
# Knobs: BENCH_PROFILE (release; `dev` for a quick functional run), BENCH_DURATION (10s),
#        BENCH_CONCURRENCY (1,16), BENCH_BIG (10000 notes), BENCH_SOURCE_CHUNKS (500),
#        BENCH_SAMPLES (50 chat answers per row), BENCH_HISTORY (1000 earlier messages),
#        BENCH_STREAM_DELAY_MS (20), BENCH_DIM (256).
# A failed run keeps the stack's and the stand-in's logs in test-artifacts/bench/chat-search/ (any run
# with BENCH_KEEP_LOGS=1: with RUST_LOG=info,ephitup_api=debug they time each chat turn's steps).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
source scripts/lib/bench.sh
bench_build
debug_limits

data=$(mktemp -d)
export DATA_PATH="$data" SURREAL_PORT=$(free_port) API_PORT=$(free_port) PORT=$(free_port)
export SURREAL_URL="ws://127.0.0.1:$SURREAL_PORT" SURREAL_USER=root SURREAL_PASSWORD=root
export EPHITUP_LOG_FORMAT=json
# The stand-in listens on 127.0.0.1, which users' provider URLs may only name when allowed.
export ALLOW_PRIVATE_PROVIDER_URLS=true
fake_port=$(free_port)
"$bin/ephitup-fake-ai" --port "$fake_port" --key sk-bench --embedding-dim "${BENCH_DIM:-256}" \
  --stream-delay-ms "${BENCH_STREAM_DELAY_MS:-20}" >"$data/fake-ai.log" 2>&1 &
fake=$!
"$bin/ephitup" up -f ephitup.toml >"$data/ephitup.log" 2>&1 &
stack=$!
cleanup() {
  local rc=$?
  grep -E '"(restart|exit|killed|limit)' "$data/ephitup.log" >&2 || true
  if ((rc != 0)) || [ -n "${BENCH_KEEP_LOGS:-}" ]; then
    mkdir -p test-artifacts/bench/chat-search
    cp "$data/ephitup.log" "$data/fake-ai.log" test-artifacts/bench/chat-search/ 2>/dev/null || true
    echo "chat-search: logs kept in test-artifacts/bench/chat-search/" >&2
  fi
  kill -TERM "$stack" "$fake" 2>/dev/null || true
  wait "$stack" "$fake" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 600); do
  curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && grep -q listening "$data/fake-ai.log" && break
  kill -0 "$stack" 2>/dev/null || { cat "$data/ephitup.log" >&2; exit 1; }
  sleep 0.1
done
echo "profile: $profile; $(nproc) cores; $(uname -sr)"
# The peak anonymous memory of each service while the benchmark runs (what the kernel cannot
# drop, as a memory limit counts it), sampled every 200 ms from the pids ephitup reports.
"$bin/ephitup" status -f ephitup.toml --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    for i in s["instances"]:
        if i.get("pid"): print(i["label"], i["pid"])' >"$data/pids"
(
  declare -A peak
  while kill -0 "$stack" 2>/dev/null; do
    while read -r label pid; do
      kib=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$kib" ] && ((kib > ${peak[$label]:-0})) && peak[$label]=$kib
    done <"$data/pids"
    for label in "${!peak[@]}"; do echo "$label ${peak[$label]}"; done >"$data/peaks.new"
    mv "$data/peaks.new" "$data/peaks"
    sleep 0.2
  done
) &
sampler=$!
"$bin/ephitup-loadgen" --api "http://127.0.0.1:$API_PORT" --proxy "http://127.0.0.1:$PORT" \
  --chat-search "http://127.0.0.1:$fake_port/v1" --fake-key sk-bench \
  --duration "${BENCH_DURATION:-10s}" --concurrency "${BENCH_CONCURRENCY:-1,16}" --big "${BENCH_BIG:-10000}" \
  --source-chunks "${BENCH_SOURCE_CHUNKS:-500}" --samples "${BENCH_SAMPLES:-50}" --history "${BENCH_HISTORY:-1000}"
kill "$sampler" 2>/dev/null || true
echo "peak anonymous memory (RssAnon) of each service during the run:"
[ ! -s "$data/peaks" ] || sort "$data/peaks" | awk '{printf "  %-8s %6.1f MiB\n", $1, $2 / 1024}'
