#!/usr/bin/env bash
# Live reload: time from saving an edit of the configuration to the new service running,
# ephitup against supervisord in the same run.
#
# Usage (from the repository root):   bash scripts/bench/reload.sh
#
# Both supervisors start with one idle service. Each round adds one more service to the file
# (written to a temporary file and renamed over the old one, as editors save); the new
# service's first act is to create a marker file. The time is from just before the rename to
# the marker's appearance (polled every 0.5 ms), median and max of ROUNDS rounds.
#   - ephitup: nothing but the save (it watches the file; this includes its 150 ms debounce).
#   - supervisord: the save, then `supervisorctl update` at once (what an operator must type;
#     supervisord does not watch its file). Its figure includes supervisorctl's start-up.
# The ratio ephitup/supervisord is printed last.
#
# Knobs: BENCH_ROUNDS (10); EPHITUP_BIN (default: built here with --profile supervisor).
# Needs: cargo, python3 (with venv); supervisor is installed into
# $HOME/.cache/ephitup/bench-venv on first use (shared with scripts/bench/orchestrator.sh).
# Only the processes this script starts are signalled (by pid).

set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-10}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ephitup/target}
VENV=$HOME/.cache/ephitup/bench-venv
if [[ -z ${EPHITUP_BIN:-} ]]; then
    (cd "$REPO" && cargo build --profile supervisor -p ephitup) >&2
    EPHITUP_BIN=$CARGO_TARGET_DIR/supervisor/ephitup
fi
if [[ ! -x $VENV/bin/supervisord ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q supervisor
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ephitup-reload-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

python3 - "$EPHITUP_BIN" "$VENV/bin" "$WORK" "$ROUNDS" <<'PY'
import os, signal, statistics, subprocess, sys, time

ephitup, venv_bin, work, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def save(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)

def wait_for(path, deadline=30.0):
    end = time.monotonic() + deadline
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.0005)
    return time.monotonic()

def measure(name, start, add, after_save, stop):
    times = []
    try:
        for i in range(1, rounds + 1):
            marker = os.path.join(work, f"{name}-ready-{i}")
            t0 = time.monotonic()
            add(i, marker)
            after_save()
            times.append(wait_for(marker) - t0)
    finally:
        stop()
    return times

# --- ephitup ---------------------------------------------------------------------------------
edir = os.path.join(work, "ephitup"); os.makedirs(edir)
econf = os.path.join(edir, "ephitup.toml")
eservices = ['[services.base]\ncommand = "sleep 100000"\n']
def ephitup_text():
    return '[settings]\nlog_format = "json"\nshutdown_timeout = "10s"\n' + "".join(eservices)
save(econf, ephitup_text())
eproc = subprocess.Popen([ephitup, "up", "-f", econf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
sock = os.path.join(edir, "data", "ephitup.sock")
wait_for(sock)
def eadd(i, marker):
    eservices.append(f'[services.new{i}]\ncommand = ["sh", "-c", "touch {marker}; exec sleep 100000"]\n')
    save(econf, ephitup_text())
def estop():
    eproc.send_signal(signal.SIGTERM); eproc.wait(30)
e = measure("ephitup", None, eadd, lambda: None, estop)

# --- supervisord -----------------------------------------------------------------------------
sdir = os.path.join(work, "supervisord"); os.makedirs(sdir)
sconf = os.path.join(sdir, "supervisord.conf")
ssock = os.path.join(sdir, "supervisor.sock")
sbase = f"""[supervisord]
nodaemon=true
logfile=/dev/null
logfile_maxbytes=0
pidfile={sdir}/supervisord.pid
[unix_http_server]
file={ssock}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{ssock}
[program:base]
command=sleep 100000
startsecs=0
"""
sprograms = []
save(sconf, sbase)
sproc = subprocess.Popen([os.path.join(venv_bin, "supervisord"), "-c", sconf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(ssock)
ctl = [os.path.join(venv_bin, "supervisorctl"), "-c", sconf]
while subprocess.run(ctl + ["status", "base"], capture_output=True).returncode != 0:
    time.sleep(0.05)
def sadd(i, marker):
    sprograms.append(f"[program:new{i}]\ncommand=sh -c 'touch {marker}; exec sleep 100000'\nstartsecs=0\n")
    save(sconf, sbase + "".join(sprograms))
def supdate():
    subprocess.run(ctl + ["update"], capture_output=True, check=True)
def sstop():
    sproc.send_signal(signal.SIGTERM); sproc.wait(30)
s = measure("supervisord", None, sadd, supdate, sstop)

def show(name, t):
    print(f"{name:12} median {statistics.median(t)*1000:7.1f} ms   max {max(t)*1000:7.1f} ms   ({len(t)} rounds)")
print("time from saving an edit to the new service running")
show("ephitup", e)
show("supervisord", s)
print(f"ratio ephitup/supervisord (median): {statistics.median(e)/statistics.median(s):.2f}")
PY
