#!/usr/bin/env bash
# A database crash healed inside the API: starts a database and `ephitup-api serve` on a fresh
# data dir and free ports, then BENCH_CRASHES (3) times: SIGKILL the database, start it again
# on the same port and data dir, and time from its `/ready` answering to the first note write
# the API answers 201 — the same API process throughout (its pid is checked). Also counts what
# the writes in flight got meanwhile (201/503 expected, never 500).
#
# Usage (from the repository root): bash scripts/bench/recovery.sh
# Knobs: BENCH_PROFILE (release; `dev`), BENCH_CRASHES (3), BENCH_DOWN (2: seconds down).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
source scripts/lib/bench.sh
bench_build

data=$(mktemp -d)
db_port=$(free_port); api_port=$(free_port)
export SURREAL_URL="ws://127.0.0.1:$db_port" SURREAL_USER=root SURREAL_PASSWORD=bench-password
export SURREAL_NAMESPACE=bench SURREAL_DATABASE=bench DATA_PATH="$data/app" JWT_SECRET=bench-secret-of-enough-length
db=; api=; writer=
start_db() {
  SURREAL_PASS=$SURREAL_PASSWORD "$bin/ephitup-db" start --bind "127.0.0.1:$db_port" --log warn "rocksdb:$data/db" >>"$data/db.log" 2>&1 &
  db=$!
  until curl -fsS "http://127.0.0.1:$db_port/ready" >/dev/null 2>&1; do sleep 0.02; done
}
cleanup() {
  for p in $writer $api $db; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
now() { date +%s.%N; }
start_db
"$bin/ephitup-api" migrate >"$data/migrate.log" 2>&1
API_BIND="127.0.0.1:$api_port" "$bin/ephitup-api" serve >"$data/api.log" 2>&1 &
api=$!
until curl -fsS "http://127.0.0.1:$api_port/api/health" >/dev/null 2>&1; do sleep 0.05; done
token=$(curl -fsS -H 'content-type: application/json' "http://127.0.0.1:$api_port/api/auth/register" \
  -d '{"email":"bench@example.com","password":"Bench-password-1!"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
write() {
  curl -s -o /dev/null -w '%{http_code}' -m 35 -H "authorization: Bearer $token" -H 'content-type: application/json' \
    "http://127.0.0.1:$api_port/api/notes" -d '{"content":"a note"}'
}
# Writes in flight throughout, one after another: their statuses are counted.
(while true; do write; echo; done >"$data/statuses") &
writer=$!

echo "profile: $profile; $(nproc) cores"
echo
echo "| crash | first write after the database was ready again (s) | same API pid |"
echo "|---|---|---|"
for i in $(seq "${BENCH_CRASHES:-3}"); do
  kill -KILL "$db"; wait "$db" 2>/dev/null || true
  sleep "${BENCH_DOWN:-2}"
  start_db
  ready=$(now)
  until [ "$(write)" = 201 ]; do :; done
  done_at=$(now)
  alive=$(kill -0 "$api" 2>/dev/null && echo yes || echo NO)
  echo "| $i | $(python3 -c "print(f'{$done_at - $ready:.2f}')") | $alive |"
  sleep 1
done
kill "$writer"; writer=
echo
echo "writes in flight meanwhile, by status: $(sort "$data/statuses" | uniq -c | awk '{printf "%s×%s ", $2, $1}')"
