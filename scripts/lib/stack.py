"""The whole stack as the container runs it, without Docker: shared by the container smoke test
(scripts/container-smoke) and the whole-stack fault test (scripts/fault-test).

An "image" directory is staged from the built binaries exactly as the Dockerfile lays it out
(binaries on PATH, the web UI, ephitup.toml); `ephitup up` then runs with the Dockerfile's
environment in a new PID namespace (`unshare --pid --fork --mount-proc`), so it is PID 1, as
root, running every service as an unprivileged user. Everything uses free ports and temp dirs;
only processes started here are signalled, by pid.
"""

import base64
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARIES = ["ephitup", "ephitup-db", "ephitup-api", "ephitup-worker", "ephitup-proxy"]
# The image's user is `app`; on a host `nobody` plays it: unprivileged, owning nothing.
SERVICE_USER = os.environ.get("SMOKE_SERVICE_USER", "nobody")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bin_dir():
    target = os.environ.get("CARGO_TARGET_DIR", str(pathlib.Path.home() / ".cache/ephitup/target"))
    return pathlib.Path(target) / os.environ.get("SMOKE_PROFILE_DIR", "debug")


def wait(what, predicate, timeout=180.0, interval=0.1):
    """Polls `predicate` until it returns a true value (which is returned) or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def render_like_secret():
    """A value like Render's `generateValue`: random bytes in standard base64 (not a Fernet key)."""
    return base64.b64encode(secrets.token_bytes(33)).decode()


class Image:
    """The staged image: <dir>/bin, <dir>/web, <dir>/etc/ephitup.toml, and a fresh data dir."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="ephitup-image-"))
        os.chmod(self.dir, 0o755)  # the services' user must reach the binaries and the UI
        (self.dir / "bin").mkdir()
        for name in BINARIES:
            src = bin_dir() / name
            if not src.exists():
                raise SystemExit(f"{src} is not built: run scripts/setup first")
            shutil.copy2(src, self.dir / "bin" / name)
        shutil.copytree(ROOT / "services/web/public", self.dir / "web")
        (self.dir / "etc").mkdir()
        shutil.copy2(ROOT / "ephitup.toml", self.dir / "etc/ephitup.toml")
        # A disk as Render mounts it: root-owned and empty.
        self.data = self.dir / "mydata"
        self.data.mkdir(mode=0o755)
        self.secrets = {
            "JWT_SECRET": render_like_secret(),
            "FERNET_SECRET_KEY": render_like_secret(),
            "SURREAL_PASSWORD": render_like_secret(),
        }
        self.ports = {"PORT": free_port(), "SURREAL_PORT": free_port(), "API_PORT": free_port()}

    def env(self):
        """The Dockerfile's ENV, plus Render's generated secrets and this run's free ports."""
        env = {
            "PATH": f"{self.dir / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": "/root",
            "LANG": "C.UTF-8",
            "DATA_PATH": str(self.data),
            "EPHITUP_SERVICE_USER": SERVICE_USER,
            "EPHITUP_LOG_FORMAT": "json",
            "WEB_ROOT": str(self.dir / "web"),
            "RUST_LOG": "info",
            # The tests' stand-in AI provider listens on 127.0.0.1.
            "ALLOW_PRIVATE_PROVIDER_URLS": "true",
        }
        env.update(self.secrets)
        env.update({k: str(v) for k, v in self.ports.items()})
        # Debug builds keep several times the release build's code pages resident: the raised
        # memory limits of scripts/lib/debug-limits.env (the release image keeps its own).
        if os.environ.get("SMOKE_PROFILE_DIR", "debug") == "debug":
            limits = pathlib.Path(__file__).with_name("debug-limits.env")
            for line in limits.read_text().splitlines():
                if line and not line.startswith("#") and "=" in line:
                    name, value = line.split("=", 1)
                    env[name.strip()] = value.strip()
        return env

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Stack:
    """`ephitup up` on the image, as PID 1 of a new PID namespace."""

    def __init__(self, image, log_name="ephitup.log"):
        self.image = image
        self.log_path = image.dir / log_name
        self.log = open(self.log_path, "ab")
        self._offset, self._events = self.log_path.stat().st_size, []
        command = ["unshare", "--pid", "--fork", "--mount-proc", str(image.dir / "bin/ephitup"), "up",
                   "-f", str(image.dir / "etc/ephitup.toml")]
        self.started = time.monotonic()
        # unshare forks: its child is PID 1 inside and execs ephitup.
        self.unshare = subprocess.Popen(command, env=image.env(), stdout=self.log, stderr=subprocess.STDOUT,
                                        cwd=image.dir, start_new_session=True)
        self.pid = wait("ephitup to start in its namespace", self._child_pid, timeout=20)

    def _child_pid(self):
        try:
            children = pathlib.Path(f"/proc/{self.unshare.pid}/task/{self.unshare.pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def url(self, path):
        return f"http://127.0.0.1:{self.image.ports['PORT']}{path}"

    def events(self):
        """ephitup's JSON lines so far. Read incrementally: callers poll this every few tens of
        milliseconds while the log grows to megabytes, so only the new complete lines are parsed."""
        with open(self.log_path, "rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1
        self._offset += end
        for line in chunk[:end].decode(errors="replace").splitlines():
            try:
                self._events.append(json.loads(line))
            except ValueError:
                pass
        return self._events

    def pid_of(self, service):
        """The host pid of a service's current process. ephitup's events carry pids of its own
        namespace; the host pid is the process in that namespace with that NSpid."""
        ns_pid = None
        for e in self.events():
            if e.get("service") == service and e.get("pid") and e.get("state") in ("starting", "running"):
                ns_pid = e["pid"]
        return self.host_pid(ns_pid) if ns_pid else None

    def host_pid(self, ns_pid):
        namespace = os.readlink(f"/proc/{self.pid}/ns/pid")
        for entry in pathlib.Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.readlink(entry / "ns/pid") != namespace:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("NSpid:") and line.split()[-1] == str(ns_pid):
                        return int(entry.name)
            except OSError:
                continue
        return None

    def uid_of(self, host_pid):
        for line in pathlib.Path(f"/proc/{host_pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
        return None

    def zombies(self):
        """Processes of the namespace in state Z (none may stay: PID 1 reaps them)."""
        namespace = os.readlink(f"/proc/{self.pid}/ns/pid")
        found = []
        for entry in pathlib.Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.readlink(entry / "ns/pid") == namespace and " Z " in (entry / "stat").read_text().split(")")[-1][:4]:
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def ready(self, timeout=240):
        wait("the stack to answer 200 on /api/health through the proxy",
             lambda: http("GET", self.url("/api/health"))[0] == 200, timeout=timeout)
        return time.monotonic() - self.started

    def kill(self):
        """SIGKILL to PID 1 of the namespace: the kernel then kills every process in it."""
        if self.unshare.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.unshare.wait()
        if not self.log.closed:
            self.log.close()

    def stop(self, timeout=60):
        """SIGTERM to ephitup (PID 1 inside); returns (exit code, seconds)."""
        t0 = time.monotonic()
        os.kill(self.pid, signal.SIGTERM)
        try:
            code = self.unshare.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.unshare.pid, signal.SIGKILL)
            code = self.unshare.wait()
            raise SystemExit(f"ephitup did not exit within {timeout}s of SIGTERM")
        self.log.close()
        return code, time.monotonic() - t0


def http(method, url, body=None, token=None, timeout=30, raw=False):
    """(status, parsed JSON or bytes); connection failures are status 0."""
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as e:
        payload, status = e.read(), e.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, None
    if raw:
        return status, payload
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, payload


class FakeAi:
    """`ephitup-fake-ai`: the local stand-in for an OpenAI-compatible provider."""

    def __init__(self, key, prefix=()):
        """`prefix`: a command to run it under, e.g. `nsenter -t PID -n` to listen on the
        loopback of another network namespace (a container's; scripts/image-test)."""
        self.key = key
        self.process = subprocess.Popen([*prefix, str(bin_dir() / "ephitup-fake-ai"), "--port", "0", "--key", key],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if "listening on" not in line:
            raise SystemExit(f"ephitup-fake-ai did not start: {line!r}")
        self.base_url = f"http://{line.split('listening on', 1)[1].strip()}/v1"

    def stop(self):
        self.process.terminate()
        self.process.wait()


def register(stack, email, password="Smoke-test-pass-1!"):
    status, body = http("POST", stack.url("/api/auth/register"), {"email": email, "password": password})
    if status != 201:
        raise SystemExit(f"register {email}: {status} {body}")
    return body["access_token"]


def login(stack, email, password="Smoke-test-pass-1!"):
    status, body = http("POST", stack.url("/api/auth/login"), {"email": email, "password": password})
    return body["access_token"] if status == 200 else None


def expect(status, body, wanted, what):
    if status != wanted:
        raise SystemExit(f"{what}: expected {wanted}, got {status}: {body}")
    return body
