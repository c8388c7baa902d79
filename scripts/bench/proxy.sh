#!/usr/bin/env bash
# The front's cost: requests/s and p99 latency of `GET /api/health` and of a static asset
# (the UI's app.js), straight to the API (:API_PORT), through ephitup-proxy, and through nginx
# configured as the same proxy (same upstream, same web root, gzip on) on this machine, side
# by side, with the ratios the issue sets targets for (proxy ≥ 90% of direct; proxy ≥ nginx).
#
# Usage (from the repository root): bash scripts/bench/proxy.sh
# Knobs: BENCH_DURATION (10s per run), BENCH_CONNECTIONS (32), BENCH_THREADS (2).
# Installs wrk and nginx with apt-get when missing. The proxy is built in the release profile
# (what the container runs); the API and the database are the dev builds the tests use (a
# release SurrealDB takes an hour of CPU to build), so /api/health is bounded by the API and
# all three columns share that bound; the static asset measures the proxy alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh

DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cargo build --workspace --all-targets --locked >&2  # the same feature set as scripts/setup: no rebuild
cargo build --locked --release -p ephitup-proxy >&2
DEBUG="$CARGO_TARGET_DIR/debug"
PROXY="$CARGO_TARGET_DIR/release/ephitup-proxy"
WEB_ROOT="$PWD/services/web/public"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
wait_for() { # url
  for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: $1 did not answer" >&2; exit 1
}

db_port=$(free_port); api_port=$(free_port); proxy_port=$(free_port); nginx_port=$(free_port)
export SURREAL_URL="ws://127.0.0.1:$db_port" SURREAL_USER=root SURREAL_PASSWORD=bench SURREAL_NAMESPACE=bench SURREAL_DATABASE=bench
SURREAL_PASS=bench SURREAL_ONLINE_VERSION_CHECK=false "$DEBUG/ephitup-db" start --bind "127.0.0.1:$db_port" --log warn \
  "rocksdb:$work/db" >"$work/db.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$db_port/ready"
"$DEBUG/ephitup-api" migrate >"$work/migrate.log" 2>&1
DATA_PATH="$work" API_BIND="127.0.0.1:$api_port" RUST_LOG=warn "$DEBUG/ephitup-api" serve >"$work/api.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$api_port/api/health"
PROXY_BIND="127.0.0.1:$proxy_port" INTERNAL_API_URL="http://127.0.0.1:$api_port" WEB_ROOT="$WEB_ROOT" RUST_LOG=warn \
  "$PROXY" >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$proxy_port/healthz"

# nginx as the same proxy: keep-alive to the API, forwarded headers, static root, SPA fallback.
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  sendfile on;
  gzip on;
  gzip_types text/css application/javascript text/javascript application/json image/svg+xml;
  upstream api { server 127.0.0.1:$api_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $WEB_ROOT;
    location /api/ {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_request_buffering off;
      proxy_buffering off;
    }
    location / {
      etag on;
      add_header Cache-Control no-cache;
      try_files \$uri \$uri/ /index.html;
    }
  }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$work/nginx/stdout.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$nginx_port/js/app.js"

# One wrk run: prints "requests/s p99_ms".
measure() { # url
  local out rps p99
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Accept-Encoding: gzip' "$1")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "bench: non-2xx answers from $1" >&2; grep "Non-2xx" <<<"$out" >&2; fi
  echo "$rps $p99"
}

echo "# front benchmark: wrk -t$THREADS -c$CONNECTIONS -d$DURATION; proxy release, API/db dev builds"
printf '%-24s %-8s %12s %10s\n' endpoint via "requests/s" "p99 ms"
declare -A R P
for target in "health direct http://127.0.0.1:$api_port/api/health" \
              "health proxy http://127.0.0.1:$proxy_port/api/health" \
              "health nginx http://127.0.0.1:$nginx_port/api/health" \
              "asset proxy http://127.0.0.1:$proxy_port/js/app.js" \
              "asset nginx http://127.0.0.1:$nginx_port/js/app.js"; do
  read -r what via url <<<"$target"
  read -r rps p99 < <(measure "$url")
  R[$what.$via]=$rps; P[$what.$via]=$p99
  printf '%-24s %-8s %12s %10s\n' "$( [ "$what" = health ] && echo 'GET /api/health' || echo 'GET /js/app.js (gzip)')" "$via" "$rps" "$p99"
done
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
echo
echo "proxy/direct throughput, /api/health: $(ratio "${R[health.proxy]}" "${R[health.direct]}")  (target >= 0.90)"
echo "proxy/nginx  throughput, /api/health: $(ratio "${R[health.proxy]}" "${R[health.nginx]}")  (target >= 1.00)"
echo "proxy/nginx  throughput, static asset: $(ratio "${R[asset.proxy]}" "${R[asset.nginx]}")  (target >= 1.00)"
echo "p99 ms /api/health: direct ${P[health.direct]}, proxy ${P[health.proxy]}, nginx ${P[health.nginx]}; asset: proxy ${P[asset.proxy]}, nginx ${P[asset.nginx]}"
