# Shared settings for the scripts: one warm build cache outside the clone, so a fresh
# checkout (or CI) reuses what an earlier build compiled.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ephitup/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"
# Where scripts/setup installs the schema validators the export tests run.
export EPHITUP_VALIDATORS="${EPHITUP_VALIDATORS:-$HOME/.cache/ephitup/validators/bin}"
