#!/usr/bin/env bash
# The API's memory while uploads stream to disk: starts a database and `ephitup-api serve` on a
# fresh data dir and free ports, then sends BENCH_UPLOADS (8) uploads of BENCH_UPLOAD_MIB (45)
# MiB at once (curl, multipart) and reports the API's resident memory before and its peak
# (VmHWM) after, against the 100 MB goal; every upload must answer 201 and be stored whole.
#
# Usage (from the repository root): bash scripts/bench/upload-rss.sh
# Knobs: BENCH_PROFILE (release; `dev` to use the dev build), BENCH_UPLOADS, BENCH_UPLOAD_MIB.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
source scripts/lib/bench.sh
bench_build
uploads=${BENCH_UPLOADS:-8}
mib=${BENCH_UPLOAD_MIB:-45}

data=$(mktemp -d)
db_port=$(free_port); api_port=$(free_port)
export SURREAL_URL="ws://127.0.0.1:$db_port" SURREAL_USER=root SURREAL_PASSWORD=bench-password
export SURREAL_NAMESPACE=bench SURREAL_DATABASE=bench DATA_PATH="$data/app" JWT_SECRET=bench-secret-of-enough-length
SURREAL_PASS=$SURREAL_PASSWORD "$bin/ephitup-db" start --bind "127.0.0.1:$db_port" --log warn "rocksdb:$data/db" >"$data/db.log" 2>&1 &
db=$!
api=
cleanup() {
  [ -n "$api" ] && kill -TERM "$api" 2>/dev/null; kill -TERM "$db" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 600); do curl -fsS "http://127.0.0.1:$db_port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
"$bin/ephitup-api" migrate >"$data/migrate.log" 2>&1
API_BIND="127.0.0.1:$api_port" "$bin/ephitup-api" serve >"$data/api.log" 2>&1 &
api=$!
for _ in $(seq 600); do curl -fsS "http://127.0.0.1:$api_port/api/health" >/dev/null 2>&1 && break; sleep 0.1; done

token=$(curl -fsS -H 'content-type: application/json' "http://127.0.0.1:$api_port/api/auth/register" \
  -d '{"email":"bench@example.com","password":"Bench-password-1!"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
head -c "$((mib << 20))" /dev/urandom >"$data/upload.bin"
want=$(sha256sum "$data/upload.bin" | cut -d' ' -f1)
rss() { awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$api/status"; }
idle=$(rss VmRSS)
start=$(date +%s.%N)
pids=()
for i in $(seq "$uploads"); do
  curl -sS -o "$data/answer.$i" -w '%{http_code}\n' -H "authorization: Bearer $token" \
    -F type=upload -F "file=@$data/upload.bin;filename=upload.bin" "http://127.0.0.1:$api_port/api/sources" >"$data/status.$i" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
elapsed=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
peak=$(rss VmHWM)
ok=0
for i in $(seq "$uploads"); do
  [ "$(cat "$data/status.$i")" = 201 ] || { echo "upload $i: $(cat "$data/status.$i") $(cat "$data/answer.$i")" >&2; continue; }
  path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["asset"]["file_path"])' "$data/answer.$i")
  [ "$(sha256sum "$DATA_PATH/$path" | cut -d' ' -f1)" = "$want" ] && ok=$((ok + 1))
done
echo "profile: $profile; $(nproc) cores; $uploads concurrent uploads of $mib MiB in ${elapsed}s, $ok stored whole"
echo "| API memory | MB |"
echo "|---|---|"
echo "| resident before | $idle |"
echo "| peak resident (VmHWM) during the uploads | $peak |"
python3 -c "import sys; sys.exit(0 if float('$peak') < 100 and $ok == $uploads else 1)" && echo "goal (< 100 MB, all stored): met" || { echo "goal (< 100 MB, all stored): NOT met"; exit 1; }
