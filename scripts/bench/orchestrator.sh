#!/usr/bin/env bash
# ephitup vs supervisord, side by side, in one run.
#
# Usage (from the repository root):   bash scripts/bench/orchestrator.sh
#
# What it measures, for both supervisors running the same process set, with the
# supervisor's stdout going to a pipe (a FIFO read by a consumer, as under Docker) and
# supervisord configured the Docker way (nodaemon=true, stdout_logfile=/dev/stdout,
# stdout_logfile_maxbytes=0, redirect_stderr=true):
#
#   1. Idle RSS: VmRSS of the supervisor process with 4 idle services (`sleep 100000`),
#      read once the 4 service children exist and run `sleep`, after IDLE_SETTLE s of
#      idle. ephitup runs with its operations on: the HTTP listener (`/metrics`, scraped once
#      before the reading) and `limits = { memory = "64MiB" }` on each service (enforced by
#      sampling, EPHITUP_MEMORY_LIMITS=sample, the path a container without a writable
#      cgroup takes: a task per service reading /proc every 250 ms). For ephitup, its "ephitup-guard" helper is reported separately, and main+guard.
#   2. Log relay: one service prints LINES lines (`seq 1 LINES`), next to one idle service.
#      The producer is gated (`sh -c 'read go < FIFO; exec seq ...'`) so that the
#      supervisor's CPU time (utime+stime, /proc/PID/stat) is read just before the gate
#      opens and again right after the producer has exited and the consumer has received
#      the last line: the difference is the cost of relaying, start-up excluded (utime+stime
#      count in 10 ms ticks, so the ns-precise sum of the threads' schedstat is shown too).
#      The consumer (python3, the pipe reader) only reads and keeps the bytes while the
#      stream runs (as cheap as `cat`, so never the bottleneck), then checks that 1..LINES
#      each arrived exactly once, in order: it counts lines lost, lines split/interleaved
#      (neither a valid expected line nor a whole supervisor log line), duplicates and
#      out-of-order lines. Wall time: first to last valid line, by arrival at the consumer.
#   3. kill -9 -> respawn latency: one `sleep 100000` service, KILLS times: SIGKILL the
#      service, poll every 1 ms until a new child of the supervisor appears, record the
#      latency; wait until the new child runs `sleep`, settle, repeat. Median and max.
#      ephitup runs twice: with its default crash-loop backoff (100 ms doubling each restart,
#      reset after 30 s of good running, so back-to-back kills wait longer by design), and
#      with backoff = { initial = "10ms", reset_after = "100ms" } (each kill after a settled
#      run restarts after 10 ms: the respawn mechanism itself, comparable to supervisord's
#      policy of no backoff).
#      (ephitup's max_restarts is raised so that KILLS restarts in a minute are not fatal;
#      supervisord: autorestart=true, startsecs=0, which has no restart limit.)
#
#   4. /metrics scrape with SCRAPE_SERVICES (20) idle services: SCRAPES sequential GETs of
#      /metrics on one keep-alive connection, p50/p99 latency; the floor is the same number
#      of GETs of /healthz (same listener, same connection kind) in the same run.
#
# Targets: RSS <= 1/8 of supervisord's; relay lines/CPU-s >= supervisord's with zero lost
# or split lines; respawn <= 1/10 of supervisord's latency.
#
# Knobs (environment): BENCH_LINES (5000000), BENCH_KILLS (10), BENCH_IDLE_SETTLE (2 s),
# BENCH_RESPAWN_SETTLE (0.3 s), BENCH_SCRAPES (2000), BENCH_SCRAPE_SERVICES (20), BENCH_KEEP=1
# keeps the temp dir (configs, outputs, results), BENCH_EPHITUP=PATH runs that binary instead of
# building one (to compare two builds with the same script: build each in the supervisor profile).
# Needs: cargo, python3 (with venv). supervisord is installed into
# $HOME/.cache/ephitup/bench-venv on first use. Only processes started by this script (and
# the services their supervisors started) are ever signalled.

set -euo pipefail

LINES=${BENCH_LINES:-5000000}
SCRAPES=${BENCH_SCRAPES:-2000}
SCRAPE_SERVICES=${BENCH_SCRAPE_SERVICES:-20}
KILLS=${BENCH_KILLS:-10}
IDLE_SETTLE=${BENCH_IDLE_SETTLE:-2}
RESPAWN_SETTLE=${BENCH_RESPAWN_SETTLE:-0.3}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ephitup/target}
EPHITUP=${BENCH_EPHITUP:-$CARGO_TARGET_DIR/supervisor/ephitup}   # the profile the container ships
VENV=$HOME/.cache/ephitup/bench-venv
SUPERVISORD=$VENV/bin/supervisord

# The interpreter itself, not a wrapper (pyenv's shim would add its own start-up CPU time to
# the consumer's figures, since CPU times survive exec).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ephitup-bench.XXXXXX")
PY=$WORK/bench.py
RESULTS=$WORK/results.jsonl
PIDS=() # every background process this script started and has not reaped yet

log() { printf '[bench] %s\n' "$*" >&2; }

# --- process bookkeeping -------------------------------------------------------------------

# True if $1 is still a (non-zombie) child of this shell: guards against pid reuse.
is_our_child() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }            # fields after "(comm) "
    set -- $stat                 # $1 = state, $2 = ppid
    [[ $1 != Z && $2 == "$$" ]]
}

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# stop_pid PID [TIMEOUT_S]: SIGTERM, wait up to TIMEOUT_S, then SIGKILL. Also SIGKILLs any
# service the process had started that outlived it (recorded as pid+start time, so an
# unrelated process that reused a pid is never touched). Sets STOP_RC to its exit status.
STOP_RC=0
stop_pid() {
    local pid=$1 timeout=${2:-15} kids i rc=0
    kids=$("$PYTHON" "$PY" descendants "$pid" 2>/dev/null || true)
    if is_our_child "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < timeout * 20; i++)); do
            is_our_child "$pid" || break
            sleep 0.05
        done
        if is_our_child "$pid"; then
            log "pid $pid did not stop within ${timeout}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || rc=$?
    [[ -n $kids ]] && "$PYTHON" "$PY" kill-leftovers $kids 2>/dev/null || true
    forget_pid "$pid"
    STOP_RC=$rc
}

cleanup() {
    local i
    trap - EXIT INT TERM
    # Newest first: a helper, then the supervisor, then the consumer still reading its output.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[i]}" 5 2>/dev/null || true
    done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers in python (proc reading, consumer, timing loops, report) ----------------------

cat >"$PY" <<'PYEOF'
import json, os, re, signal, statistics, sys, time

CLK = os.sysconf("SC_CLK_TCK")

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None

def stat_fields(pid):
    """Fields of /proc/PID/stat after the comm: [state, ppid, ...] (None if gone)."""
    s = read(f"/proc/{pid}/stat")
    return None if s is None else s[s.rindex(b")") + 2:].split()

def comm(pid):
    c = read(f"/proc/{pid}/comm")
    return None if c is None else c.decode().strip()

def alive(pid):
    f = stat_fields(pid)
    return f is not None and f[0] != b"Z"

def cpu_seconds(pid):
    f = stat_fields(pid)  # utime, stime are fields 14, 15 of the whole line: 12, 13 here
    return (int(f[11]) + int(f[12])) / CLK

def sched_seconds(pid):
    """CPU time summed over the live threads, in ns from schedstat (a cross-check of the
    10 ms-granular utime+stime; threads that exited in between are not counted)."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        s = read(f"/proc/{pid}/task/{t}/schedstat")
        total += int(s.split()[0]) if s else 0
    return total / 1e9

def proc_io(pid):
    """rchar, wchar, syscr, syscw summed over the live threads (/proc/PID/task/*/io: the
    process-wide /proc/PID/io also adds the counters of reaped children, here the producer)."""
    total = dict.fromkeys(("rchar", "wchar", "syscr", "syscw"), 0)
    for t in os.listdir(f"/proc/{pid}/task"):
        io = dict(l.split(b": ") for l in (read(f"/proc/{pid}/task/{t}/io") or b"").splitlines())
        for k in total:
            total[k] += int(io.get(k.encode(), 0))
    return total

def status_kib(pid, key="VmRSS"):
    for line in (read(f"/proc/{pid}/status") or b"").splitlines():
        if line.startswith(key.encode() + b":"):
            return int(line.split()[1])
    return None

def vmrss_kib(pid):
    return status_kib(pid, "VmRSS")

def memory(pid):
    m = {k: status_kib(pid, k) for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads")}
    for line in (read(f"/proc/{pid}/smaps_rollup") or b"").splitlines():
        if line.startswith(b"Pss:"):  # shared pages divided among their users (the guard shares ephitup's)
            m["Pss"] = int(line.split()[1])
    return m

def children(pid):
    """Direct children of pid (all its threads)."""
    kids = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for t in tasks:
        c = read(f"/proc/{pid}/task/{t}/children")
        if c is None:  # kernel without CONFIG_PROC_CHILDREN: scan for the ppid
            return {int(p) for p in os.listdir("/proc") if p.isdigit()
                    and (f := stat_fields(p)) is not None and int(f[1]) == pid}
        kids.update(int(x) for x in c.split())
    return kids

def guards(sup):
    return {c for c in children(sup) if comm(c) == "ephitup-guard"}

def services(sup, exclude=()):
    return {c for c in children(sup) if c not in exclude and comm(c) not in (None, "ephitup-guard")}

def wait_for(cond, timeout, what, step=0.01):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            sys.exit(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)

def wait_services(sup, n, comm_is=None, timeout=30):
    def ready():
        s = services(sup)
        if len(s) >= n and (comm_is is None or all(comm(p) == comm_is for p in s)):
            return s
        if not alive(sup):
            sys.exit(f"supervisor {sup} exited")
    return wait_for(ready, timeout, f"{n} service children of {sup}")

def emit(result):
    print(json.dumps(result), flush=True)

# --- commands ---

def cmd_descendants(sup):
    """pid:starttime of the supervisor's children and their children (for clean-up)."""
    out, todo = [], [int(sup)]
    while todo:
        for c in children(todo.pop()):
            f = stat_fields(c)
            if f is not None:
                out.append(f"{c}:{f[19].decode()}")
                todo.append(c)
    print(" ".join(out))

def cmd_kill_leftovers(*items):
    for item in items:
        pid, start = item.split(":")
        f = stat_fields(pid)
        if f is not None and f[0] != b"Z" and f[19].decode() == start:
            os.kill(int(pid), signal.SIGKILL)

def http_get(sock, path):
    """One GET on a keep-alive connection; returns the body (Content-Length framed)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nhost: bench\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"GET {path}: {head[:40]!r}")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return body

def connect(port):
    import socket
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def cmd_idle(name, sup, n, settle, port=None):
    sup, n = int(sup), int(n)
    wait_services(sup, n, comm_is="sleep")
    if port:  # operations on: one scrape before the reading (its code pages, its allocations)
        wait_for(lambda: b"ephitup_service_memory_bytes" in http_get(connect(port), "/metrics"), 30, "/metrics")
    time.sleep(float(settle))
    if len(services(sup)) < n:
        sys.exit("a service died while idle")
    g = sorted(guards(sup))
    emit({"kind": "idle", "sup": name, "rss": vmrss_kib(sup), "guard_rss": vmrss_kib(g[0]) if g else None,
          "mem": memory(sup), "guard_mem": memory(g[0]) if g else None, "services": n})

def cmd_scrape(sup, n, port, count):
    sup, n, count = int(sup), int(n), int(count)
    wait_services(sup, n, comm_is="sleep")
    sock = connect(port)
    text = http_get(sock, "/metrics").decode()
    series = sum(1 for l in text.splitlines() if l.startswith("ephitup_service_memory_bytes{"))
    if series != n:
        sys.exit(f"/metrics has {series} memory series, expected {n}")
    def timed(path):
        out = []
        for _ in range(count):
            t = time.perf_counter()
            http_get(sock, path)
            out.append(time.perf_counter() - t)
        out.sort()
        return out
    floor, metrics = timed("/healthz"), timed("/metrics")
    pct = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))]
    emit({"kind": "scrape", "sup": "ephitup", "services": n, "bytes": len(text), "count": count,
          "p50": pct(metrics, 0.5), "p99": pct(metrics, 0.99), "floor_p50": pct(floor, 0.5), "floor_p99": pct(floor, 0.99),
          "cpu": cpu_seconds(sup)})

def cmd_relay(name, sup, gate, donefile, consumer, lines):
    sup, consumer, lines = int(sup), int(consumer), int(lines)
    # The producer is the service still in `sh`, blocked on the gate; the other runs `sleep`.
    svc = wait_services(sup, 2)
    producer = wait_for(lambda: [p for p in services(sup) if comm(p) == "sh"], 30, "the gated producer")[0]
    wait_for(lambda: all(comm(p) in ("sh", "sleep") for p in services(sup)), 30, "services to exec")
    time.sleep(1.0)
    cpu0, ns0, io0, t0 = cpu_seconds(sup), sched_seconds(sup), proc_io(sup), time.monotonic()
    with open(gate, "w") as g:  # opening unblocks the producer's `read go < gate`
        g.write("go\n")
    wait_for(lambda: not alive(producer), 600, "the producer to finish", step=0.005)
    t_prod = time.monotonic()
    # Everything received: the consumer saw the last line. If lines were lost it never
    # will: then wait until it has read nothing new for 2 s.
    last, still_since = None, time.monotonic()
    while not os.path.exists(donefile):
        io = read(f"/proc/{consumer}/io") or b""
        rchar = next((l for l in io.splitlines() if l.startswith(b"rchar")), None)
        if rchar != last:
            last, still_since = rchar, time.monotonic()
        elif time.monotonic() - still_since > 2.0:
            break
        if time.monotonic() - t_prod > 600:
            sys.exit("consumer never caught up")
        time.sleep(0.005)
    cpu1, ns1, io1 = cpu_seconds(sup), sched_seconds(sup), proc_io(sup)
    emit({"kind": "relay", "sup": name, "cpu": cpu1 - cpu0, "cpu_total": cpu1, "cpu_sched": ns1 - ns0,
          "io": {k: io1[k] - io0[k] for k in io0},
          "gate_to_producer_exit": t_prod - t0, "all_received": os.path.exists(donefile)})

def cmd_respawn(name, sup, kills, settle):
    sup, kills, settle = int(sup), int(kills), float(settle)
    svc = wait_services(sup, 1, comm_is="sleep")
    pid = next(iter(svc))
    exclude = guards(sup)
    lat = []
    for i in range(kills):
        old = pid
        t0 = time.perf_counter()
        os.kill(old, signal.SIGKILL)
        while True:  # tight loop: a new child of the supervisor (the zombie `old` does not count)
            new = services(sup, exclude | {old})
            if new:
                t1 = time.perf_counter()
                break
            if time.perf_counter() - t0 > 120:
                sys.exit(f"{name}: no respawn within 120 s after kill #{i + 1}")
            time.sleep(0.001)
        lat.append(t1 - t0)
        pid = next(iter(new))
        wait_for(lambda: comm(pid) == "sleep", 30, "the respawned service to exec `sleep`", step=0.001)
        time.sleep(settle)
        if not alive(pid):
            sys.exit(f"{name}: respawned service {pid} died")
    emit({"kind": "respawn", "sup": name, "latencies": lat})

def cmd_consume(mode, lines, donefile, resultfile):
    """The pipe reader: checks that 1..lines each arrive once, in order.

    mode "ephitup": service lines are "b <pad>| N", ephitup's own "ephitup <pad>| ...".
    mode "supervisord": service lines are raw "N"; its own lines are "YYYY-mm-dd HH:MM:SS,mmm LEVEL ...".
    mode "raw": only "N" lines (the consumer alone, as a capacity baseline).
    Verification fast path: a block of whole lines that is exactly the next run of numbers is
    checked with C-level bytes operations; anything else goes line by line."""
    lines = int(lines)
    fd = sys.stdin.buffer.fileno()
    seen = bytearray(lines + 2)
    hi = 1  # one past the highest number seen
    st = {"valid": 0, "invalid": 0, "dup": 0, "out_of_order": 0, "sup_log": 0, "other_service": 0}
    invalid_samples = []
    t_first = t_last = None
    done = False
    svc_line = re.compile(rb"^([^ |]+) *\| (.*)$", re.S)
    sup_log = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")
    prefix = b"" if mode != "ephitup" else None  # learnt from the first "b ... | " line
    DIGITS = b"0123456789\n"

    def number(body):
        nonlocal hi
        if not body or body.translate(None, b"0123456789") or not (1 <= (n := int(body)) <= lines):
            return False
        if seen[n]:
            st["dup"] += 1
        else:
            seen[n] = 1
            st["valid"] += 1
            if n < hi:
                st["out_of_order"] += 1
        hi = max(hi, n + 1)
        return True

    def bad(line):
        st["invalid"] += 1
        if len(invalid_samples) < 10:
            invalid_samples.append(line[:120].decode(errors="replace"))

    def slow(line):
        nonlocal prefix
        if mode == "ephitup":
            m = svc_line.match(line)
            if m is None:
                return bad(line)
            if m.group(1) == b"b":
                if prefix is None:
                    prefix = line[: len(line) - len(m.group(2))]
                if not number(m.group(2)):
                    bad(line)
            elif m.group(1) == b"ephitup":
                st["sup_log"] += 1
            else:
                st["other_service"] += 1
        else:
            if number(line):
                return
            if mode == "supervisord" and sup_log.match(line):
                st["sup_log"] += 1
            else:
                bad(line)

    def block(blk):
        """blk: whole lines, each ending in a newline."""
        nonlocal hi
        k = blk.count(b"\n")
        if prefix is not None:
            body = blk
            if prefix:
                if not (blk.startswith(prefix) and blk.count(prefix) == k and blk.count(b"\n" + prefix) == k - 1):
                    body = None
                else:
                    body = blk.replace(prefix, b"")
            if body is not None and not body.translate(None, DIGITS) and b"\n\n" not in body and body[0:1] != b"\n":
                vals = list(map(int, body.split(b"\n")[:-1]))
                if vals[0] == hi and vals == list(range(hi, hi + k)) and hi + k - 1 <= lines:
                    seen[hi:hi + k] = b"\x01" * k
                    hi += k
                    st["valid"] += k
                    return
        for line in blk.split(b"\n")[:-1]:
            slow(line)

    # Phase 1, while the supervisor writes: only read (1 MiB at a time) and keep the bytes, so
    # the reader is as cheap as `cat >/dev/null` and never the bottleneck. The last expected
    # line is spotted on the fly to tell the driver that everything has arrived.
    last = (b"| " if mode == "ephitup" else b"\n") + str(lines).encode() + b"\n"
    chunks, tail = [], b""
    while True:
        data = os.read(fd, 1 << 20)
        if not data:
            break
        chunks.append((time.monotonic(), data))
        if not done and (last in tail + data[: len(last)] or last in data):
            done = True
            with open(donefile, "w") as f:
                f.write(str(time.time()))
        tail = data[-len(last):]
    read_cpu = sum(os.times()[:2])
    # Phase 2, after end of file: verify.
    pending = b""
    for arrived, data in chunks:
        buf = pending + data
        cut = buf.rfind(b"\n") + 1
        pending = buf[cut:]
        if cut:
            before = st["valid"]
            block(buf[:cut])
            if st["valid"] != before:
                t_last = arrived
                if t_first is None:
                    t_first = arrived
    if pending:
        slow(pending)
    ru = os.times()
    st.update({"kind": "consumer", "lost": lines - seen.count(1), "wall": (t_last - t_first) if t_first else None,
               "consumer_cpu": read_cpu, "verify_cpu": ru.user + ru.system - read_cpu,
               "bytes": sum(len(d) for _, d in chunks), "invalid_samples": invalid_samples})
    with open(resultfile, "w") as f:
        json.dump(st, f)

def announced_delays(outfile):
    """ephitup's "restarting in 91ms" / "in 1.6s" announcements, in seconds, in order."""
    out = []
    for m in re.finditer(rb"restarting in ([0-9.]+)(ms|s)\b", read(outfile) or b""):
        out.append(float(m.group(1)) / (1000 if m.group(2) == b"ms" else 1))
    return out

def cmd_report(results, lines, kills, work):
    lines, kills = int(lines), int(kills)
    R = [json.loads(l) for l in open(results) if l.strip()]
    def get(kind, sup):
        return next((r for r in R if r["kind"] == kind and r["sup"] == sup), None)
    rows = []
    def fmt(v, spec):
        return "n/a" if v is None else format(v, spec)
    def row(label, e, s, spec, target=None, ok=None):
        ratio = None if e is None or s in (None, 0) else e / s
        rows.append((label, fmt(e, spec), fmt(s, spec), fmt(ratio, ".3f"), target or "",
                     "" if ok is None else ("MET" if ok else "MISSED")))

    ie, isv = get("idle", "ephitup"), get("idle", "supervisord")
    if ie and isv:
        both = ie["rss"] + (ie["guard_rss"] or 0)
        row("idle RSS, supervisor process (KiB)", ie["rss"], isv["rss"], "d", "ratio <= 0.125", ie["rss"] * 8 <= isv["rss"])
        row("idle RSS, ephitup-guard (KiB)", ie["guard_rss"], None, "d")
        row("idle RSS, main + guard (KiB)", both, isv["rss"], "d", "ratio <= 0.125", both * 8 <= isv["rss"])
    re_, rs = get("relay", "ephitup"), get("relay", "supervisord")
    if re_ and rs:
        ce, cs = re_["consumer"], rs["consumer"]
        lpe = lines / re_["cpu"] if re_["cpu"] > 0 else None
        lps = lines / rs["cpu"] if rs["cpu"] > 0 else None
        row(f"relay {lines} lines: supervisor CPU s", re_["cpu"], rs["cpu"], ".2f")
        row("relay: lines per supervisor CPU-s", lpe, lps, ",.0f", "ratio >= 1",
            None if lpe is None or lps is None else lpe >= lps)
        row("  same, CPU from schedstat (ns precision)", lines / re_["cpu_sched"], lines / rs["cpu_sched"], ",.0f",
            "ratio >= 1", lines / re_["cpu_sched"] >= lines / rs["cpu_sched"])
        row("relay: wall s (first..last line)", ce["wall"], cs["wall"], ".2f")
        row("relay: lines lost", ce["lost"], cs["lost"], "d", "0", ce["lost"] == 0)
        split_e = ce["invalid"] + ce["dup"] + ce["out_of_order"]
        split_s = cs["invalid"] + cs["dup"] + cs["out_of_order"]
        row("relay: lines split/interleaved", split_e, split_s, "d", "0", split_e == 0)
        row("relay: consumer CPU s while reading", ce["consumer_cpu"], cs["consumer_cpu"], ".2f")
        row("relay: bytes written by supervisor", re_["io"]["wchar"], rs["io"]["wchar"], ",d")
    sc = get("scrape", "ephitup")
    if sc:
        row(f"/metrics scrape p50 ms, {sc['services']} services (vs /healthz)", sc["p50"] * 1e3, sc["floor_p50"] * 1e3, ".3f")
        row(f"/metrics scrape p99 ms, {sc['services']} services (vs /healthz)", sc["p99"] * 1e3, sc["floor_p99"] * 1e3, ".3f")
    sv = get("respawn", "supervisord")
    for label in ("ephitup", "ephitup-10ms"):
        r = get("respawn", label)
        if r and sv:
            what = "default backoff" if label == "ephitup" else "backoff 10ms"
            me, ms = statistics.median(r["latencies"]) * 1e3, statistics.median(sv["latencies"]) * 1e3
            row(f"respawn median ms ({what})", me, ms, ".1f", "ratio <= 0.1", me * 10 <= ms)
            xe, xs = max(r["latencies"]) * 1e3, max(sv["latencies"]) * 1e3
            row(f"respawn max ms ({what})", xe, xs, ".1f", "ratio <= 0.1", xe * 10 <= xs)
            fe, fs = r["latencies"][0] * 1e3, sv["latencies"][0] * 1e3
            row(f"  1st kill only, ms ({what})", fe, fs, ".1f")

    head = ("figure", "ephitup", "supervisord", "ratio e/s", "target", "")
    w = [max(len(str(x[i])) for x in rows + [head]) for i in range(6)]
    line = lambda r: "  ".join([r[0].ljust(w[0])] + [str(c).rjust(w[i + 1]) for i, c in enumerate(r[1:5])] + [r[5]])
    print(line(head))
    print("-" * (sum(w) + 12))
    for r in rows:
        print(line(r))
    print()
    for r in R:
        if r["kind"] == "respawn":
            print(f"respawn latencies, {r['sup']:<12} (ms, in kill order): " +
                  " ".join(f"{x * 1e3:.1f}" for x in r["latencies"]))
            delays = announced_delays(f"{work}/respawn-{r['sup']}.out") if r["sup"].startswith("ephitup") else []
            if delays:
                print(f"  backoff announced by ephitup (ms):              " + " ".join(f"{d * 1e3:.1f}" for d in delays))
                # Delays under 1 s are announced to the ms; longer ones only to 0.1 s: left out.
                over = [(l - d) * 1e3 if d < 1 else None for l, d in zip(r["latencies"], delays)]
                known = [o for o in over if o is not None]
                print(f"  latency minus announced backoff (ms):           " + " ".join(fmt(o, ".1f") for o in over)
                      + (f"   (median {statistics.median(known):.1f})" if known else ""))
    for r in R:
        if r["kind"] == "relay":
            c = r["consumer"]
            print(f"relay detail, {r['sup']:<11}: valid={c['valid']} lost={c['lost']} invalid={c['invalid']} "
                  f"dup={c['dup']} out_of_order={c['out_of_order']} supervisor_log_lines={c['sup_log']} "
                  f"cpu_schedstat={r['cpu_sched']:.3f}s cpu_total_incl_startup={r['cpu_total']:.2f}s "
                  f"supervisor_io={r['io']} consumer_verify_cpu={c['verify_cpu']:.2f}s "
                  f"gate->producer_exit={r['gate_to_producer_exit']:.2f}s"
                  + ("" if r["all_received"] else "  (last line never arrived)"))
            for s in c["invalid_samples"]:
                print(f"    invalid line: {s!r}")
        if r["kind"] == "baseline":
            print(f"consumer alone (seq | consumer): wall {r['wall']:.2f}s, consumer CPU while reading {r['consumer_cpu']:.2f}s, "
                  f"lost={r['lost']} invalid={r['invalid']}")
        if r["kind"] == "scrape":
            print(f"scrape detail: {r['count']} GETs each, /metrics body {r['bytes']} bytes; the supervisord column of "
                  f"the scrape rows is ephitup's own /healthz on the same connection (the floor)")
        if r["kind"] == "idle":
            print(f"idle memory, {r['sup']:<11} (KiB): " + " ".join(f"{k}={v}" for k, v in r["mem"].items())
                  + ("" if not r["guard_mem"] else "; guard: " + " ".join(f"{k}={v}" for k, v in r["guard_mem"].items())))
        if r["kind"] == "exit":
            print(f"exit status after SIGTERM, {r['sup']:<20}: {r['rc']}" + ("" if r["rc"] == 0 else "  (expected 0)"))

if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1].replace("-", "_")](*sys.argv[2:])
PYEOF

# py COMMAND ARGS...: runs a helper in the background and waits for it, so that a signal to
# this script is handled at once (bash defers traps while a foreground child runs).
py() {
    local p rc=0
    "$PYTHON" "$PY" "$@" &
    p=$!
    PIDS+=("$p")
    wait "$p" || rc=$?
    forget_pid "$p"
    return "$rc"
}

# --- set-up: build ephitup, install supervisord ---------------------------------------------

if [[ -n ${BENCH_EPHITUP:-} ]]; then
    log "ephitup: $EPHITUP (BENCH_EPHITUP, not built)"
else
    log "building ephitup (supervisor profile) into $CARGO_TARGET_DIR"
    (cd "$REPO" && cargo build --profile supervisor -p ephitup) >&2
fi

if [[ ! -x $SUPERVISORD ]]; then
    log "installing supervisor into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q supervisor
fi
log "supervisord $("$SUPERVISORD" --version)"

# --- configurations -------------------------------------------------------------------------

# ephitup_conf FILE [service-toml...]: settings + the given service tables.
ephitup_conf() {
    local file=$1
    shift
    {
        printf '[settings]\nlog_format = "pretty"\nlog_color = "never"\nshutdown_timeout = "10s"\n'
        printf '%s\n' "$@"
    } >"$file"
}

# supervisord_conf FILE [program-ini...]: Docker-style [supervisord] + the given programs.
supervisord_conf() {
    local file=$1
    shift
    {
        printf '[supervisord]\nnodaemon=true\nlogfile=/dev/null\nlogfile_maxbytes=0\n'
        printf 'pidfile=%s\n' "$file.pid"
        printf '%s\n' "$@"
    } >"$file"
}
PROG_LOG=$'stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nredirect_stderr=true'

# start SUPERVISOR CONFIG NAME [consumer args...]: starts a consumer on a FIFO, then the
# supervisor with its stdout on that FIFO. Sets SUP_PID and CONSUMER_PID.
start() {
    local which=$1 conf=$2 name=$3
    shift 3
    mkfifo "$WORK/$name.fifo"
    if [[ $# -gt 0 ]]; then
        "$PYTHON" "$PY" consume "$@" <"$WORK/$name.fifo" &
    else
        cat <"$WORK/$name.fifo" >"$WORK/$name.out" &
    fi
    CONSUMER_PID=$!
    PIDS+=("$CONSUMER_PID")
    case $which in
    ephitup) "$EPHITUP" up -f "$conf" >"$WORK/$name.fifo" 2>"$WORK/$name.err" & ;;
    supervisord) "$SUPERVISORD" -c "$conf" >"$WORK/$name.fifo" 2>"$WORK/$name.err" & ;;
    esac
    SUP_PID=$!
    PIDS+=("$SUP_PID")
}

# finish NAME: stops the supervisor, records its exit status, lets the consumer drain.
finish() {
    local name=$1 i
    stop_pid "$SUP_PID"
    printf '{"kind": "exit", "sup": "%s", "rc": %s}\n' "$name" "$STOP_RC" >>"$WORK/exits.jsonl"
    for ((i = 0; i < 2400; i++)); do is_our_child "$CONSUMER_PID" || break; sleep 0.05; done # it verifies after EOF
    stop_pid "$CONSUMER_PID"
}

# --- 1. idle RSS ------------------------------------------------------------------------------

idle() {
    local which=$1
    local conf=$WORK/idle-$which
    local port=
    if [[ $which == ephitup ]]; then
        conf+=.toml
        port=$(free_port)
        local limit='limits = { memory = "64MiB" }'
        ephitup_conf "$conf" "http = \"127.0.0.1:$port\"" \
            '[services.a1]' 'command = ["sleep", "100000"]' "$limit" '[services.a2]' 'command = ["sleep", "100000"]' "$limit" \
            '[services.a3]' 'command = ["sleep", "100000"]' "$limit" '[services.a4]' 'command = ["sleep", "100000"]' "$limit"
    else
        conf+=.conf
        supervisord_conf "$conf" "[program:a1]" "command=sleep 100000" "$PROG_LOG" "[program:a2]" "command=sleep 100000" "$PROG_LOG" \
            "[program:a3]" "command=sleep 100000" "$PROG_LOG" "[program:a4]" "command=sleep 100000" "$PROG_LOG"
    fi
    log "idle RSS: $which"
    start "$which" "$conf" "idle-$which"
    py idle "$which" "$SUP_PID" 4 "$IDLE_SETTLE" $port >>"$RESULTS"
    finish "idle $which"
}

# --- 4. /metrics scrape ---------------------------------------------------------------------------

scrape() {
    local conf=$WORK/scrape.toml port i lines=()
    port=$(free_port)
    lines+=("http = \"127.0.0.1:$port\"")
    for ((i = 1; i <= SCRAPE_SERVICES; i++)); do
        lines+=("[services.s$i]" 'command = ["sleep", "100000"]')
    done
    ephitup_conf "$conf" "${lines[@]}"
    log "/metrics scrape, $SCRAPE_SERVICES services, $SCRAPES GETs"
    start ephitup "$conf" scrape
    py scrape "$SUP_PID" "$SCRAPE_SERVICES" "$port" "$SCRAPES" >>"$RESULTS"
    finish "scrape ephitup"
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- 2. relay -----------------------------------------------------------------------------------

relay() {
    local which=$1
    local conf=$WORK/relay-$which gate=$WORK/relay-$which.gate
    local producer="read go < '$gate'; exec seq 1 $LINES"
    mkfifo "$gate"
    if [[ $which == ephitup ]]; then
        conf+=.toml
        ephitup_conf "$conf" '[services.a]' 'command = ["sleep", "100000"]' \
            '[services.b]' "command = [\"sh\", \"-c\", \"$producer\"]" 'restart = "never"'
    else
        conf+=.conf
        supervisord_conf "$conf" "[program:a]" "command=sleep 100000" "$PROG_LOG" \
            "[program:b]" "command=sh -c \"$producer\"" "autorestart=false" "startsecs=0" "$PROG_LOG"
    fi
    log "relay of $LINES lines: $which"
    start "$which" "$conf" "relay-$which" "$which" "$LINES" "$WORK/relay-$which.done" "$WORK/relay-$which.consumer"
    py relay "$which" "$SUP_PID" "$gate" "$WORK/relay-$which.done" "$CONSUMER_PID" "$LINES" >"$WORK/relay-$which.json"
    finish "relay $which"
    # Merge the supervisor-side figures with the consumer's verdict.
    "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); r["consumer"]=json.load(open(sys.argv[2])); print(json.dumps(r))' \
        "$WORK/relay-$which.json" "$WORK/relay-$which.consumer" >>"$RESULTS"
}

relay_baseline() {
    log "consumer capacity baseline: seq 1 $LINES | consumer"
    local p
    "$PYTHON" "$PY" consume raw "$LINES" "$WORK/baseline.done" "$WORK/baseline.consumer" < <(seq 1 "$LINES") &
    p=$!
    PIDS+=("$p")
    wait "$p"
    forget_pid "$p"
    "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); r.update(kind="baseline", sup="-"); print(json.dumps(r))' \
        "$WORK/baseline.consumer" >>"$RESULTS"
}

# --- 3. respawn -----------------------------------------------------------------------------------

respawn() {
    local which=$1 label=$2 conf=$WORK/respawn-$2
    local backoff=("${@:3}") # zero or one extra line for the service table
    if [[ $which == ephitup ]]; then
        conf+=.toml
        ephitup_conf "$conf" '[services.a]' 'command = ["sleep", "100000"]' 'restart = "always"' \
            "max_restarts = $((KILLS + 100))" "${backoff[@]+"${backoff[@]}"}"
    else
        conf+=.conf
        supervisord_conf "$conf" "[program:a]" "command=sleep 100000" "autorestart=true" "startsecs=0" "$PROG_LOG"
    fi
    log "kill -9 -> respawn, $KILLS times: $label"
    start "$which" "$conf" "respawn-$label"
    py respawn "$label" "$SUP_PID" "$KILLS" "$RESPAWN_SETTLE" >>"$RESULTS"
    finish "respawn $label"
}

# --- run -----------------------------------------------------------------------------------------

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

EPHITUP_MEMORY_LIMITS=sample idle ephitup
idle supervisord
scrape
relay_baseline
relay ephitup
relay supervisord
respawn ephitup ephitup
respawn ephitup ephitup-10ms 'backoff = { initial = "10ms", reset_after = "100ms" }'
respawn supervisord supervisord

cat "$WORK/exits.jsonl" >>"$RESULTS"
echo
echo "ephitup vs supervisord: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (at start: $LOAD0)," \
    "lines=$LINES, kills=$KILLS, $("$SUPERVISORD" --version | sed 's/^/supervisord /')"
py report "$RESULTS" "$LINES" "$KILLS" "$WORK"
