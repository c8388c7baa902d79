# What the service benchmarks share: sourced from the repository root after scripts/lib/env.sh.
#
#   bench_build [default-profile]
#       Sets `profile` (BENCH_PROFILE, else the default, else release) and `bin` (the
#       directory of its binaries), and builds the whole workspace in that profile, as
#       scripts/setup does for dev: building a subset would unify other features and build
#       SurrealDB once more. BENCH_NO_BUILD=1 skips the build (binaries built already, e.g. in
#       another worktree with CARGO_TARGET_DIR pointing at them).
#   debug_limits
#       For a dev build, exports the raised memory limits of scripts/lib/debug-limits.env
#       (those not set already): a debug build keeps far more pages resident.
#   free_port
#       Prints a TCP port nobody listens on right now.

bench_build() {
  profile=${BENCH_PROFILE:-${1:-release}}
  bin="$CARGO_TARGET_DIR/$([ "$profile" = dev ] && echo debug || echo "$profile")"
  if [ "${BENCH_NO_BUILD:-0}" = 1 ]; then
    [ -x "$bin/ephitup" ] || { echo "BENCH_NO_BUILD=1 but $bin/ephitup is missing" >&2; exit 1; }
  elif [ "$profile" = dev ]; then
    cargo build --locked --workspace --all-targets >&2
  else
    cargo build --locked --workspace --profile "$profile" >&2
  fi
}

debug_limits() {
  [ "$profile" = dev ] || return 0
  local name value
  while IFS='=' read -r name value; do
    [[ $name =~ ^[A-Z_]+$ ]] && [[ -z ${!name:-} ]] && export "$name=$value"
  done < scripts/lib/debug-limits.env
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
